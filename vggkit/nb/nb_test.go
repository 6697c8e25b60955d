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
