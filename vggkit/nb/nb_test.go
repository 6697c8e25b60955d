package nb

import (
	"strings"
	"testing"
)

func TestTableHTMLEscapes(t *testing.T) {
	h := TableHTML([][]string{{"class", "acc"}, {"<cat>", "50 %"}})
	if !strings.Contains(h, "<th>class</th>") || !strings.Contains(h, "&lt;cat&gt;") {
		t.Errorf("table: %s", h)
	}
}

func TestSortableTableKeepsTheStaticTable(t *testing.T) {
	h := SortableTableHTML([][]string{{"trial", "test accuracy"}, {"trial-2", "60.4 %"}, {"<x>", "9 %"}})
	if !strings.Contains(h, `<table class="vggkit sortable" id="vggkit_table_`) || !strings.Contains(h, "<td>&lt;x&gt;</td>") ||
		strings.Index(h, "trial-2") > strings.Index(h, "&lt;x&gt;") {
		t.Errorf("table: %s", h)
	}
	id := h[strings.Index(h, `id="`)+4:]
	id = id[:strings.Index(id, `"`)]
	if !strings.Contains(h, `<script>`) || !strings.Contains(h, `getElementById("`+id+`")`) {
		t.Errorf("the script does not sort its own table %s:\n%s", id, h)
	}
}
