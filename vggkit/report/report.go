// Package report writes a run's results as a folder: pictures (PNG), metrics.json and
// one index.html page that shows them, readable offline.
package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"os"
	"path/filepath"
	"time"

	"github.com/vggkit/vggkit/internal/atomicfile"

	"github.com/vggkit/vggkit/plotting"
	"github.com/vggkit/vggkit/vggkit/data"
	"github.com/vggkit/vggkit/vggkit/metrics"
	"github.com/vggkit/vggkit/vggkit/pictures"
	"github.com/vggkit/vggkit/vggkit/training"
)

// Input is what a report shows.
type Input struct {
	Title    string
	Config   any       // the run's configuration, saved as is in metrics.json (a config.Config, or the caller's own).
	Train    *data.Set // for the data grid; may be nil.
	Test     *data.Set // for the prediction grid; may be nil.
	Learner  *training.Learner
	Result   *metrics.Report
	Pred     []int32 // predicted class per test image (for the prediction grid); may be nil.
	Duration time.Duration
}

// Summary is metrics.json.
type Summary struct {
	Title       string           `json:"title"`
	Dataset     string           `json:"dataset"`
	Model       string           `json:"model"`
	Params      int64            `json:"params"`
	Backend     string           `json:"backend"`
	Steps       int64            `json:"steps"`
	WallSeconds float64          `json:"wall_seconds"`
	Accuracy    float64          `json:"accuracy"`
	Result      *metrics.Report  `json:"result"`
	History     training.History `json:"history"`
	Config      any              `json:"config"`
}

// Files written, in the order the page shows them.
const (
	DataGrid    = "data_grid.png"
	LossCurve   = "loss_curve.png"
	Accuracy    = "accuracy_curve.png"
	PerClass    = "per_class.png"
	Confusion   = "confusion.png"
	Predictions = "predictions.png"
	CAMs        = "cams.png"
	MetricsJSON = "metrics.json"
	IndexHTML   = "index.html"
)

// Write writes the report into dir (created if needed) and returns the files written.
func Write(dir string, in Input) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("report: cannot create %s: %w", dir, err)
	}
	var written []string
	save := func(name string, c *plotting.Chart, err error) error {
		if err != nil {
			return fmt.Errorf("report: %s: %w", name, err)
		}
		if err := c.Save(filepath.Join(dir, name)); err != nil {
			return err
		}
		written = append(written, name)
		return nil
	}
	if in.Train != nil {
		c, err := pictures.Batch(in.Train, 32, 8)
		if err := save(DataGrid, c, err); err != nil {
			return written, err
		}
	}
	h := &in.Learner.History
	if len(h.Loss) > 0 {
		c, err := pictures.Loss(h)
		if err := save(LossCurve, c, err); err != nil {
			return written, err
		}
	}
	if len(h.Epochs) > 0 {
		c, err := pictures.Accuracy(h)
		if err := save(Accuracy, c, err); err != nil {
			return written, err
		}
	}
	if in.Result != nil {
		c, err := pictures.PerClass(in.Result)
		if err := save(PerClass, c, err); err != nil {
			return written, err
		}
		c, err = pictures.Confusion(in.Result)
		if err := save(Confusion, c, err); err != nil {
			return written, err
		}
	}
	if in.Test != nil && len(in.Pred) == in.Test.Len() {
		idx := make([]int, min(24, in.Test.Len()))
		for i := range idx {
			idx[i] = i
		}
		c, err := pictures.Predictions(in.Test, idx, in.Pred, 8)
		if err := save(Predictions, c, err); err != nil {
			return written, err
		}
	}
	if c, err := camPicture(in); c != nil || err != nil {
		if err := save(CAMs, c, err); err != nil {
			return written, err
		}
	}
	sum := Summary{Title: in.Title, Dataset: in.Learner.Dataset, Model: in.Learner.Config.Model.Name(),
		Params: in.Learner.NumParams(), Backend: in.Learner.Backend.String(), Steps: in.Learner.Step(),
		WallSeconds: in.Duration.Seconds(), Result: in.Result, History: *h, Config: in.Config}
	if in.Result != nil {
		sum.Accuracy = in.Result.Accuracy
	}
	js, err := json.MarshalIndent(sum, "", "  ")
	if err != nil {
		return written, err
	}
	if err := writeReport(filepath.Join(dir, MetricsJSON), js); err != nil {
		return written, err
	}
	written = append(written, MetricsJSON)
	page, err := renderHTML(sum, written)
	if err != nil {
		return written, err
	}
	if err := writeReport(filepath.Join(dir, IndexHTML), page); err != nil {
		return written, err
	}
	return append(written, IndexHTML), nil
}

func writeReport(path string, b []byte) error {
	if err := atomicfile.Write(path, b); err != nil {
		return fmt.Errorf("report: writing %s: %w", path, err)
	}
	return nil
}

var page = template.Must(template.New("page").Funcs(template.FuncMap{"pct": func(x float64) float64 { return 100 * x }}).Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>{{.S.Title}}</title>
<style>body{font-family:sans-serif;max-width:1000px;margin:2em auto;color:#222}
img{max-width:100%;border:1px solid #ddd;margin:.5em 0}table{border-collapse:collapse}
td,th{padding:.2em .8em;border-bottom:1px solid #eee;text-align:right}td:first-child,th:first-child{text-align:left}</style>
</head><body>
<h1>{{.S.Title}}</h1>
<p><b>Dataset:</b> {{.S.Dataset}}<br><b>Model:</b> {{.S.Model}} ({{.S.Params}} parameters)<br>
<b>Compute:</b> {{.S.Backend}}<br><b>Steps:</b> {{.S.Steps}}, <b>wall time:</b> {{printf "%.0f" .S.WallSeconds}} s</p>
{{with .S.Result}}<h2>Test accuracy: {{printf "%.2f" (pct .Accuracy)}} % ({{.Correct}} of {{.Total}} images)</h2>
<table><tr><th>class</th><th>correct</th><th>total</th><th>accuracy</th></tr>
{{range .PerClass}}<tr><td>{{.Class}}</td><td>{{.Correct}}</td><td>{{.Total}}</td><td>{{printf "%.1f" (pct .Accuracy)}} %</td></tr>
{{end}}</table>{{end}}
{{range .Images}}<h3>{{.Title}}</h3><img src="{{.File}}" alt="{{.Title}}">
{{end}}
<p><a href="metrics.json">metrics.json</a></p>
</body></html>
`))

func renderHTML(s Summary, files []string) ([]byte, error) {
	titles := map[string]string{DataGrid: "Training images", LossCurve: "Training loss", Accuracy: "Accuracy per epoch",
		PerClass: "Per-class accuracy", Confusion: "Confusion matrix", Predictions: "Predictions on test images",
		CAMs: "Where the model looks: class activation maps of the predicted class"}
	type img struct{ Title, File string }
	var imgs []img
	for _, f := range files {
		if t, ok := titles[f]; ok {
			imgs = append(imgs, img{t, f})
		}
	}
	var b bytes.Buffer
	err := page.Execute(&b, map[string]any{"S": s, "Images": imgs})
	return b.Bytes(), err
}

// camPicture is the first 8 test images with the class activation maps of their predicted
// class; nil when there is no test set, or the map is under 3x3 (VGG's last convolution
// is 1/16 of the input: 2x2 at 32 px), too coarse to say where anything is.
func camPicture(in Input) (*plotting.Chart, error) {
	if in.Test == nil || in.Test.Len() == 0 {
		return nil, nil
	}
	idx := make([]int, min(8, in.Test.Len()))
	for i := range idx {
		idx[i] = i
	}
	cams, err := in.Learner.CAM(in.Test.Subset(in.Test.Name, idx), nil)
	if err != nil || min(cams[0].H, cams[0].W) < 3 {
		return nil, err
	}
	return pictures.CAMs(in.Test, idx, cams, 8)
}
