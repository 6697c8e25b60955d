// Package nb shows vggkit's results inside GoNB notebooks: charts as PNG outputs that stay
// in the saved notebook, tables as HTML, and a live training view that updates in place.
// Outside a notebook every call is a no-op, so the same code runs as a plain program.
package nb

import (
	"encoding/base64"
	"fmt"
	"html"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/janpfeifer/gonb/gonbui"
	"github.com/vggkit/vggkit/plotting"
	"github.com/vggkit/vggkit/vggkit/config"
	"github.com/vggkit/vggkit/vggkit/metrics"
	"github.com/vggkit/vggkit/vggkit/pictures"
	"github.com/vggkit/vggkit/vggkit/training"
)

// Fast reports whether VGGKIT_FAST is set (config.Env().Fast): CI executes the
// notebooks with it, to keep the whole run within minutes; users run the default settings.
func Fast() bool { return config.Env().Fast }

// Show displays a chart as a PNG output; an error is displayed instead of the chart.
func Show(c *plotting.Chart, err error) {
	if err != nil {
		Error(err)
		return
	}
	b, err := c.PNG()
	if err != nil {
		Error(err)
		return
	}
	gonbui.DisplayPNG(b)
	flush()
}

// flush waits until GoNB has taken everything displayed so far: a cell's program can
// exit right after its last display, and GoNB v0.11.4 may then drop it (seen once in CI:
// a cell ending in Table showed nothing). gonbui.Sync is the documented remedy.
func flush() {
	if gonbui.IsNotebook {
		gonbui.Sync()
	}
}

// Error displays an error in red (and prints it, so it shows outside notebooks too).
func Error(err error) {
	fmt.Fprintln(os.Stderr, "error:", err)
	gonbui.DisplayHTML(fmt.Sprintf(`<pre style="color:#b00">%s</pre>`, html.EscapeString(err.Error())))
	flush()
}

// Check stops the cell when err is not nil, showing the error in red: notebook cells
// stay short (check(err) after each call) without each notebook defining it.
func Check(err error) {
	if err != nil {
		Error(err)
		os.Exit(1)
	}
}

// Markdown displays markdown text.
func Markdown(s string) { gonbui.DisplayMarkdown(s); flush() }

// Table displays rows as an HTML table; the first row is the header.
func Table(rows [][]string) { gonbui.DisplayHTML(TableHTML(rows)); flush() }

// TableHTML renders rows as an HTML table; the first row is the header.
func TableHTML(rows [][]string) string {
	var b strings.Builder
	b.WriteString(`<table class="vggkit">`)
	for i, row := range rows {
		b.WriteString("<tr>")
		tag := "td"
		if i == 0 {
			tag = "th"
		}
		for _, c := range row {
			fmt.Fprintf(&b, "<%s>%s</%s>", tag, html.EscapeString(c), tag)
		}
		b.WriteString("</tr>")
	}
	b.WriteString("</table>")
	return b.String()
}

// Accuracy displays a report's overall and per-class accuracy as a table.
func Accuracy(r *metrics.Report) {
	rows := [][]string{{"class", "correct", "total", "accuracy"}}
	for _, c := range r.PerClass {
		rows = append(rows, []string{c.Class, fmt.Sprint(c.Correct), fmt.Sprint(c.Total), fmt.Sprintf("%.1f %%", 100*c.Accuracy)})
	}
	rows = append(rows, []string{"all", fmt.Sprint(r.Correct), fmt.Sprint(r.Total), fmt.Sprintf("%.2f %%", 100*r.Accuracy)})
	gonbui.DisplayHTML(fmt.Sprintf("<b>Accuracy on %s (every image counted)</b>", html.EscapeString(r.Dataset)) + TableHTML(rows))
	flush()
}

// Live shows training as it runs: a progress line and the loss and accuracy curves,
// redrawn in place at most every `every`; the last drawing stays as the cell's output.
// Pass it to Fit as a hook; in a notebook it replaces the text progress line.
//
//	check(run.Fit(ctx, nb.Live(run.Learner, 2*time.Second)))
func Live(l *training.Learner, every time.Duration) training.Hook {
	v := &live{l: l, id: "vggkit_live_" + gonbui.UniqueID(), every: every, started: time.Now()}
	l.NoProgressLine = gonbui.IsNotebook
	v.draw()
	return training.Hook{Name: "live view",
		OnStep: func(s *training.State) error {
			v.status = fmt.Sprintf("epoch %d/%d, step %d/%d, loss %.4f, %.0f ms/step, %.1f img/s", s.Epoch, s.Epochs,
				s.Step, s.TotalSteps, s.Loss, float64(s.StepTime.Microseconds())/1000, s.ImagesPerSec)
			if time.Since(v.last) >= v.every {
				v.draw()
			}
			return nil
		},
		OnEpoch: func(*training.State, *training.Epoch) error { v.draw(); return nil },
		OnEnd: func(s *training.State, err error) error {
			v.status = fmt.Sprintf("done: %d steps, %s", l.Step(), time.Since(v.started).Round(time.Second))
			if err != nil {
				v.status = fmt.Sprintf("stopped at step %d: %v", l.Step(), err)
			}
			v.draw()
			flush()
			return err
		}}
}

type live struct {
	l       *training.Learner
	id      string
	every   time.Duration
	last    time.Time
	mu      sync.Mutex
	status  string
	started time.Time
}

func (v *live) draw() {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.last = time.Now()
	if !gonbui.IsNotebook {
		return
	}
	var b strings.Builder
	fmt.Fprintf(&b, "<div><code>%s</code></div>", html.EscapeString(v.status))
	h := &v.l.History
	for _, mk := range []func(*training.History) (*plotting.Chart, error){pictures.Loss, pictures.Accuracy} {
		if len(h.Loss) == 0 {
			break
		}
		c, err := mk(h)
		if err != nil {
			continue
		}
		png, err := c.SetSize(5, 3.2).PNG()
		if err != nil {
			continue
		}
		fmt.Fprintf(&b, `<img style="display:inline-block;max-width:49%%" src="data:image/png;base64,%s">`,
			base64.StdEncoding.EncodeToString(png))
	}
	gonbui.UpdateHTML(v.id, b.String())
}
