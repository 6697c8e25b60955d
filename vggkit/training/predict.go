package training

import (
	"fmt"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/vggkit/vggkit/vggkit/data"
	"github.com/vggkit/vggkit/vggkit/loader"
	"github.com/vggkit/vggkit/vggkit/metrics"
	"github.com/vggkit/vggkit/vggkit/vgg"
)

// evalBatch is the batch size for prediction; the last partial batch is padded to it so
// every image counts and no second graph is compiled.
func (l *Learner) evalBatch() int { return max(1, l.Config.Train.BatchSize) }

// Logits runs the model (evaluation mode: no augmentation, no dropout) over every image
// of the set and returns one row of class scores per image.
func (l *Learner) Logits(set *data.Set) ([][]float32, error) {
	out := make([][]float32, 0, set.Len())
	c := l.Config.Model.Classes
	err := l.eachPadded(set, func(t *tensors.Tensor, n int) error {
		flat, err := l.Forward(t)
		for i := range min(n, len(flat)/c) {
			out = append(out, flat[i*c:(i+1)*c])
		}
		return err
	})
	return out, err
}

// Forward runs the model in evaluation mode on one batch of uint8 images [B,H,W,C]
// (the tensor is consumed) and returns the logits, flat [B*classes].
func (l *Learner) Forward(images *tensors.Tensor) ([]float32, error) {
	if l.predict == nil {
		e, err := model.NewExec(l.Backend.Backend, l.store, func(scope *model.Scope, images *graph.Node) *graph.Node {
			logits, _ := vgg.Build(scope.In("model"), l.Config.Model, l.ops, images)
			return logits
		})
		if err != nil {
			return nil, err
		}
		l.predict = e
	}
	res, err := l.predict.Call(images)
	images.FinalizeAll()
	if err != nil {
		return nil, err
	}
	defer res[0].FinalizeAll()
	return tensors.MustCopyFlatData[float32](res[0]), nil
}

// eachPadded feeds the set in batches of evalBatch, padding the last one with zeros.
func (l *Learner) eachPadded(set *data.Set, fn func(t *tensors.Tensor, n int) error) error {
	if err := set.Validate(); err != nil {
		return err
	}
	lopts := loader.Options{BatchSize: l.evalBatch(), PadLast: true, Tensors: true}
	first := make(chan struct{})
	if !l.Backend.IsGo() {
		// The next batch's copy overlaps this one's run (after the first, which compiles).
		lopts.Device, lopts.DeviceAfter = l.Backend.Backend, first
	}
	batches, err := loader.New(set, lopts)
	if err != nil {
		return err
	}
	for b := range batches.Epoch(0, 0) {
		err := fn(b.Images, b.N)
		if first != nil {
			close(first)
			first = nil
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// Eval is an evaluation: the report and what it was computed from, so pictures and
// tables need no second pass over the data.
type Eval struct {
	Report *metrics.Report
	Logits [][]float32 // one row of class scores per image.
	Pred   []int32     // the predicted class per image.
	Labels []int32     // the true class per image.
}

// Mistakes are the n wrong predictions the model was most sure of, most confident first.
func (e *Eval) Mistakes(n int) []metrics.Mistake {
	return metrics.ConfidentMistakes(e.Logits, e.Labels, n)
}

// Evaluate computes overall and per-class accuracy and the confusion matrix over every
// image of a labelled set (the tutorial counted only 4 images per batch).
func (l *Learner) Evaluate(set *data.Set) (*Eval, error) {
	for i, lab := range set.Labels {
		if lab < 0 {
			return nil, fmt.Errorf("%s: image %d has no label: cannot evaluate an unlabeled split", set.Name, i)
		}
	}
	logits, err := l.Logits(set)
	if err != nil {
		return nil, err
	}
	pred := metrics.ArgMax(logits)
	r, err := metrics.Compute(set.Name, l.Classes, set.Labels, pred)
	if err != nil {
		return nil, err
	}
	return &Eval{Report: r, Logits: logits, Pred: pred, Labels: set.Labels}, nil
}

// Prediction is one image's top classes.
type Prediction struct {
	Top []ClassProb `json:"top"`
}

// ClassProb is a class and its softmax probability.
type ClassProb struct {
	Class string  `json:"class"`
	Index int     `json:"index"`
	Prob  float64 `json:"prob"`
}

// Predict returns the top-k classes with probabilities for every image of the set.
func (l *Learner) Predict(set *data.Set, k int) ([]Prediction, error) {
	logits, err := l.Logits(set)
	if err != nil {
		return nil, err
	}
	out := make([]Prediction, len(logits))
	for i, row := range logits {
		probs := metrics.Softmax(row)
		for _, j := range metrics.TopK(probs, k) {
			out[i].Top = append(out[i].Top, ClassProb{Class: l.Classes[j], Index: j, Prob: probs[j]})
		}
	}
	return out, nil
}

// FeatureMaps returns the feature maps after entry `layer` of the model's config table
// (vgg.Cfgs; -1 is the last, the tutorial's `features`) for the given images of the set:
// one flattened [h, w, c] map per image, and its dimensions.
func (l *Learner) FeatureMaps(set *data.Set, indices []int, layer int) (maps [][]float32, h, w, c int, err error) {
	cfg := vgg.Cfgs[l.Config.Model.Arch]
	if layer < 0 {
		layer = len(cfg) - 1
	}
	if layer >= len(cfg) {
		return nil, 0, 0, 0, fmt.Errorf("layer %d: %s has layers 0..%d", layer, l.Config.Model.Arch, len(cfg)-1)
	}
	if l.feats == nil {
		l.feats = make(map[int]*model.Exec)
	}
	if l.feats[layer] == nil {
		// Only the trunk up to the layer is built: the pure-Go backend fails to run a graph
		// holding variables that feed no output.
		l.feats[layer], err = model.NewExec(l.Backend.Backend, l.store, func(scope *model.Scope, images *graph.Node) *graph.Node {
			ms := scope.In("model")
			x := vgg.Preprocess(ms, l.Config.Model, images)
			return vgg.FeaturesUpTo(ms.In("features"), l.Config.Model, l.ops, x, layer)
		})
		if err != nil {
			return
		}
	}
	sub := set.Subset(set.Name, indices)
	err = l.eachPadded(sub, func(t *tensors.Tensor, n int) error {
		res, err := l.feats[layer].Call(t)
		if err != nil {
			return err
		}
		d := res[0].Shape().Dimensions
		h, w, c = d[1], d[2], d[3]
		flat := tensors.MustCopyFlatData[float32](res[0])
		res[0].FinalizeAll()
		per := h * w * c
		for i := range n {
			maps = append(maps, flat[i*per:(i+1)*per])
		}
		return nil
	})
	return
}
