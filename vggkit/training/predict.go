package training

import (
	"fmt"
	"math"
	"sort"

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
func (l *Learner) evalBatch() int { return max(1, l.Opts.BatchSize) }

// Logits runs the model (evaluation mode: no augmentation, no dropout) over every image
// of the set and returns one row of class scores per image.
func (l *Learner) Logits(set *data.Set) ([][]float32, error) {
	if l.predict == nil {
		e, err := model.NewExec(l.Backend.Backend, l.store, func(scope *model.Scope, images *graph.Node) *graph.Node {
			logits, _ := vgg.Build(scope.In("model"), l.Model, l.ops, images)
			return logits
		})
		if err != nil {
			return nil, err
		}
		l.predict = e
	}
	out := make([][]float32, 0, set.Len())
	err := l.eachPadded(set, func(t *tensors.Tensor, n int) error {
		res, err := l.predict.Call(t)
		if err != nil {
			return err
		}
		flat := tensors.MustCopyFlatData[float32](res[0])
		res[0].FinalizeAll()
		c := l.Model.Classes
		for i := range n {
			out = append(out, flat[i*c:(i+1)*c])
		}
		return nil
	})
	return out, err
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

// Evaluate computes overall and per-class accuracy and the confusion matrix over every
// image of a labelled set (the tutorial counted only 4 images per batch).
func (l *Learner) Evaluate(set *data.Set) (*metrics.Report, error) {
	for i, lab := range set.Labels {
		if lab < 0 {
			return nil, fmt.Errorf("%s: image %d has no label: cannot evaluate an unlabeled split", set.Name, i)
		}
	}
	logits, err := l.Logits(set)
	if err != nil {
		return nil, err
	}
	return metrics.Compute(set.Name, l.Classes, set.Labels, metrics.ArgMax(logits))
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
		probs := SoftmaxRow(row)
		idx := make([]int, len(probs))
		for j := range idx {
			idx[j] = j
		}
		sort.SliceStable(idx, func(a, b int) bool { return probs[idx[a]] > probs[idx[b]] })
		for _, j := range idx[:min(k, len(idx))] {
			out[i].Top = append(out[i].Top, ClassProb{Class: l.Classes[j], Index: j, Prob: probs[j]})
		}
	}
	return out, nil
}

// SoftmaxRow is the softmax of one row of logits, computed stably.
func SoftmaxRow(row []float32) []float64 {
	m := math.Inf(-1)
	for _, v := range row {
		m = math.Max(m, float64(v))
	}
	out := make([]float64, len(row))
	var sum float64
	for i, v := range row {
		out[i] = math.Exp(float64(v) - m)
		sum += out[i]
	}
	for i := range out {
		out[i] /= sum
	}
	return out
}

// FeatureMaps returns the feature maps after entry `layer` of the model's config table
// (vgg.Cfgs; -1 is the last, the tutorial's `features`) for the given images of the set:
// one flattened [h, w, c] map per image, and its dimensions.
func (l *Learner) FeatureMaps(set *data.Set, indices []int, layer int) (maps [][]float32, h, w, c int, err error) {
	cfg := vgg.Cfgs[l.Model.Arch]
	if layer < 0 {
		layer = len(cfg) - 1
	}
	if layer >= len(cfg) {
		return nil, 0, 0, 0, fmt.Errorf("layer %d: %s has layers 0..%d", layer, l.Model.Arch, len(cfg)-1)
	}
	if l.feats == nil {
		l.feats = make(map[int]*model.Exec)
	}
	if l.feats[layer] == nil {
		// Only the trunk up to the layer is built: the pure-Go backend fails to run a graph
		// holding variables that feed no output.
		l.feats[layer], err = model.NewExec(l.Backend.Backend, l.store, func(scope *model.Scope, images *graph.Node) *graph.Node {
			ms := scope.In("model")
			x := vgg.Preprocess(ms, l.Model, images)
			return vgg.FeaturesUpTo(ms.In("features"), l.Model, l.ops, x, layer)
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
