package nb

import (
	"encoding/base64"
	"fmt"
	"html"
	"strings"
	"time"

	"github.com/janpfeifer/gonb/gonbui"
	"github.com/vggkit/vggkit/plotting"
	"github.com/vggkit/vggkit/vggkit/pictures"
	"github.com/vggkit/vggkit/vggkit/sweep"
)

// SweepProgress shows a sweep as it runs, redrawn in place: which training of how many,
// the trial and rung, the time so far, the best trial yet, and the table so far. Pass it
// as sweep.Options.Watch; the last drawing stays as the cell's output.
func SweepProgress(paths []string) func(sweep.Progress) {
	id := "vggkit_sweep_" + gonbui.UniqueID()
	return func(p sweep.Progress) {
		line := fmt.Sprintf("trial %d of %d: %s, rung %d of %d (to %d epochs), %s so far", p.Job, p.Jobs, p.Trial,
			p.Rung, p.Rungs, p.Epochs, p.Elapsed.Round(time.Second))
		if p.Trial == "" {
			line = fmt.Sprintf("done: %d trainings in %s", p.Jobs, p.Elapsed.Round(time.Second))
		}
		if p.Best != nil {
			line += fmt.Sprintf("; best so far: %s, %.1f %%", p.Best.Name, 100*p.Best.TestAcc)
		}
		if !gonbui.IsNotebook {
			if p.Done || p.Trial == "" {
				fmt.Println(line)
			}
			return
		}
		gonbui.UpdateHTML(id, fmt.Sprintf("<div><code>%s</code></div>%s", html.EscapeString(line),
			SortableTableHTML(sweep.Rows(p.Results, paths))))
		flush()
	}
}

// SortableTable displays rows as a table whose columns sort on a click on their header
// (numbers as numbers). The sorting is a few lines of inline script, which a live
// notebook runs; a saved one shows the table as it was drawn, best first.
func SortableTable(rows [][]string) { gonbui.DisplayHTML(SortableTableHTML(rows)); flush() }

// SortableTableHTML is the table of SortableTable.
func SortableTableHTML(rows [][]string) string {
	id := "vggkit_table_" + gonbui.UniqueID()
	t := strings.Replace(TableHTML(rows), `<table class="vggkit">`,
		fmt.Sprintf(`<table class="vggkit sortable" id="%s" title="click a column's header to sort by it">`, id), 1)
	return t + fmt.Sprintf(sortScript, id)
}

// sortScript sorts the table's body rows by the clicked column; a second click reverses.
// Cells that read as numbers ("60.4 %%", "0.0031") compare as numbers, others as text.
const sortScript = `<script>(function(){
const t=document.getElementById(%q); if(!t) return;
const rows=()=>Array.from(t.rows).slice(1);
const num=s=>{const x=parseFloat(s); return isNaN(x)?null:x;};
Array.from(t.rows[0].cells).forEach((th,i)=>{th.style.cursor="pointer"; th.onclick=()=>{
 const dir=th.dataset.dir==="asc"?-1:1; th.dataset.dir=dir===1?"asc":"desc";
 const rs=rows(); rs.sort((a,b)=>{const x=a.cells[i].textContent,y=b.cells[i].textContent,nx=num(x),ny=num(y);
  if(nx!==null&&ny!==null) return dir*(nx-ny); if(nx!==null) return -1; if(ny!==null) return 1; return dir*x.localeCompare(y);});
 rs.forEach(r=>t.tBodies[0].appendChild(r));};});
})();</script>`

// Sweep displays a sweep's results: the sortable table, the learning curves and the
// settings against the final accuracy.
func Sweep(rs []sweep.Result, space sweep.Space) {
	SortableTable(sweep.Rows(rs, space.Paths()))
	Show(pictures.SweepCurves(rs, space.Paths()))
	Show(pictures.SweepScatter(rs, space))
}

// sweepPictures is the explorer's picture of a selection: curves and scatter side by side.
func sweepPictures(rs []sweep.Result, space sweep.Space, title string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "<div><b>%s</b> (%d trials)</div>", html.EscapeString(title), len(rs))
	if len(rs) == 0 {
		return b.String()
	}
	for _, mk := range []func() (*plotting.Chart, error){
		func() (*plotting.Chart, error) { return pictures.SweepCurves(rs, space.Paths()) },
		func() (*plotting.Chart, error) { return pictures.SweepScatter(rs, space) },
	} {
		c, err := mk()
		if err != nil {
			fmt.Fprintf(&b, "<pre>%s</pre>", html.EscapeString(err.Error()))
			continue
		}
		png, err := c.SetSize(6, 4).PNG()
		if err != nil {
			continue
		}
		fmt.Fprintf(&b, `<img class="vggkit-sweep" style="display:inline-block;max-width:49%%" src="data:image/png;base64,%s">`,
			base64.StdEncoding.EncodeToString(png))
	}
	return b.String()
}
