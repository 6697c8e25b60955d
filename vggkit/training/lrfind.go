package training

import (
	"context"
	"fmt"
	"math"

	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/vggkit/vggkit/vggkit/data"
	"github.com/vggkit/vggkit/vggkit/loader"
)

// LRFindOptions shape the learning-rate finder's sweep; zero values are fastai's.
type LRFindOptions struct {
	Start, End float64 // the sweep's first and last rate (0: 1e-7 and 10).
	Steps      int     // training steps (0: 100; at least 6).
	NoStopDiv  bool    // keep going after the smoothed loss passes 4x its minimum.
}

// LRFindResult is the finder's curve and what it suggests.
type LRFindResult struct {
	LRs, Losses []float64 // rate of each step and the smoothed loss after it.
	Raw         []float64 // each step's own loss.
	Suggestions []Suggestion
	Steps       int // the planned steps (Suggest trims by them).
}

// Best is the first suggestion (valley), or 0 without any.
func (r *LRFindResult) Best() float64 {
	if len(r.Suggestions) == 0 {
		return 0
	}
	return r.Suggestions[0].LR
}

// smoothBeta is fastai's AvgSmoothLoss: an exponential moving average of the loss with
// its start-up bias divided out, so the first points are not pulled towards 0.
const smoothBeta = 0.98

// LRFind is fastai's lr_find (Smith's range test): train on train for opts.Steps steps
// with the rate rising exponentially, start*(end/start)^(i/steps) at step i, record the
// smoothed loss, stop once it passes 4x the lowest seen, and suggest rates from the
// curve (Suggest). The weights, optimizer state, step counter, random state and rate
// are then put back exactly as they were: the finder trains a copy in effect, and the
// learner's history is not touched. A learner that never trained has its weights built
// first (so they are kept) and its optimizer state, made by the sweep, zeroed after.
// While fine-tuning keeps the trunk frozen (Train.Weights, FreezeEpochs), only the head
// trains in the sweep, as in the steps the suggested rate is for.
func (l *Learner) LRFind(ctx context.Context, train *data.Set, opts LRFindOptions) (res *LRFindResult, err error) {
	opts = opts.resolve()
	if train.Len() < l.Config.Train.BatchSize {
		return nil, fmt.Errorf("batch size %d is larger than %s (%d images)", l.Config.Train.BatchSize, train.Name, train.Len())
	}
	if !l.initialized() {
		if _, err := l.Forward(firstImages(train)); err != nil { // builds the weights, so they are kept.
			return nil, err
		}
	}
	snap, err := l.snapshot()
	if err != nil {
		return nil, err
	}
	lr0 := l.lr // the rate variable comes back with the snapshot; its cached value too.
	defer func() {
		l.lr = lr0
		if rerr := l.restoreSnapshot(snap); err == nil && rerr != nil {
			res, err = nil, rerr
		}
	}()
	// Fine-tuning starts with the trunk frozen: the finder sweeps the phase the next step
	// is in, as fastai's lr_find on a frozen learner trains only the head.
	l.freezeSteps = l.FreezeSteps(train.Len() / l.Config.Train.BatchSize)
	res, err = l.sweep(ctx, train, opts)
	if err != nil {
		return nil, err
	}
	res.Suggestions, err = Suggest(res.LRs, res.Losses, opts.Steps)
	return res, err
}

func (o LRFindOptions) resolve() LRFindOptions {
	o.Start = orF(o.Start, 1e-7)
	o.End = orF(o.End, 10)
	if o.Steps == 0 {
		o.Steps = 100
	}
	o.Steps = max(o.Steps, 6)
	return o
}

func orF(x, def float64) float64 {
	if x == 0 {
		return def
	}
	return x
}

// sweep runs the training steps at rising rates and records the curve.
func (l *Learner) sweep(ctx context.Context, train *data.Set, o LRFindOptions) (*LRFindResult, error) {
	batches, err := loader.New(train, loader.Options{BatchSize: l.Config.Train.BatchSize, Shuffle: true, DropLast: true,
		Seed: l.Config.Train.Seed + 1, Tensors: true})
	if err != nil {
		return nil, err
	}
	res := &LRFindResult{Steps: o.Steps}
	avg, best := 0.0, math.Inf(1)
	for b := range batches.Epochs(ctx, 0, math.MaxInt32, 0) {
		i := len(res.LRs)
		lr := o.Start * math.Pow(o.End/o.Start, float64(i)/float64(o.Steps))
		l.setLearningRate(lr)
		loss, _, err := l.TrainStep(b.Images, b.LabelsT)
		if err != nil {
			return nil, fmt.Errorf("lr finder, step %d (lr %.3g): %w", i+1, lr, err)
		}
		avg = smoothBeta*avg + (1-smoothBeta)*loss
		smooth := avg / (1 - math.Pow(smoothBeta, float64(i+1)))
		res.LRs, res.Losses, res.Raw = append(res.LRs, lr), append(res.Losses, smooth), append(res.Raw, loss)
		best = math.Min(best, smooth)
		if len(res.LRs) >= o.Steps || (!o.NoStopDiv && (smooth > 4*best || math.IsNaN(smooth))) {
			break
		}
	}
	return res, ctx.Err()
}

// firstImages is train's first image as a batch of one, to build the model.
func firstImages(train *data.Set) *tensors.Tensor {
	return tensors.FromFlatDataAndDimensions(train.Image(0), 1, train.H, train.W, train.C)
}

// snapshot copies every variable's value to the host.
func (l *Learner) snapshot() (map[*model.Variable]*tensors.Tensor, error) {
	snap := map[*model.Variable]*tensors.Tensor{}
	for v := range l.store.IterVariables() {
		if !v.HasValue() {
			continue
		}
		t, err := v.Value()
		if err == nil {
			snap[v], err = t.LocalClone()
		}
		if err != nil {
			return nil, fmt.Errorf("lr finder: saving variable %s: %w", v.Path(), err)
		}
	}
	return snap, nil
}

// restoreSnapshot puts the values back. Variables made since hold the optimizer's
// state (moments, step counter, metrics: the weights were built before the snapshot):
// they go back to zeros, the value they start from.
func (l *Learner) restoreSnapshot(snap map[*model.Variable]*tensors.Tensor) error {
	for v := range l.store.IterVariables() {
		t, ok := snap[v]
		if !ok {
			t = tensors.FromShape(v.Shape())
		}
		if err := v.SetValue(t); err != nil {
			return fmt.Errorf("lr finder: restoring variable %s: %w", v.Path(), err)
		}
	}
	return nil
}
