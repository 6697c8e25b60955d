package training

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"runtime/debug"
	"time"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/train"
	"github.com/gomlx/gomlx/ml/train/loss"
	"github.com/gomlx/gomlx/ml/train/metric"
	"github.com/gomlx/gomlx/ml/train/optimizer"
	"github.com/gomlx/gomlx/ml/train/optimizer/cosineschedule"
	"github.com/vggkit/vggkit/vggkit/backend"
	"github.com/vggkit/vggkit/vggkit/data"
	"github.com/vggkit/vggkit/vggkit/loader"
	"github.com/vggkit/vggkit/vggkit/vgg"
)

// History is what training recorded, for curves and for resuming.
type History struct {
	Steps  []int64   `json:"steps"` // global step at each loss point.
	Loss   []float64 `json:"loss"`  // mean training loss over the preceding LogEvery steps.
	Epochs []Epoch   `json:"epochs"`
}

// Epoch summarises one finished epoch.
type Epoch struct {
	Epoch        int     `json:"epoch"` // 1-based.
	Step         int64   `json:"step"`
	TrainLoss    float64 `json:"train_loss"`
	TrainAcc     float64 `json:"train_accuracy"`
	TestAcc      float64 `json:"test_accuracy"` // NaN-free: -1 when not evaluated.
	Seconds      float64 `json:"seconds"`
	ImagesPerSec float64 `json:"images_per_sec"`
}

// Progress is passed to OnStep after every training step (for live views in notebooks).
type Progress struct {
	Epoch, Epochs    int // 1-based epoch.
	Step, TotalSteps int64
	Loss             float64 // this step's loss.
	StepTime         time.Duration
	ImagesPerSec     float64
	History          *History
}

// Learner holds a model, its weights and optimizer state, and trains and evaluates it.
type Learner struct {
	Model   vgg.Config
	Opts    Options
	Backend *backend.Choice
	Classes []string
	Dataset string // name of the dataset it is trained on.
	History History

	Out            io.Writer      // progress and log lines (default os.Stdout; io.Discard to silence).
	NoProgressLine bool           // keep the loss and epoch lines, drop the progress line (a live view shows it).
	OnStep         func(Progress) // optional, after every step.
	OnEpoch        func(Epoch)    // optional, after every epoch.

	store    *model.Store
	ops      vgg.Ops
	trainer  *train.Trainer
	predict  *model.Exec
	feats    map[int]*model.Exec // per layer, for FeatureMaps
	parallel *dataParallel       // set by Fit with Opts.DataParallel

	stepsPerEpoch int // set by Fit; the cosine schedule spans Epochs*stepsPerEpoch.
}

// NewLearner builds a learner. With opts.CheckpointDir holding a checkpoint, it resumes
// from it (weights, optimizer state, step and history); the checkpoint's model config must
// match cfg.
func NewLearner(b *backend.Choice, cfg vgg.Config, opts Options, classes []string) (*Learner, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	if len(classes) != cfg.Classes {
		return nil, fmt.Errorf("model has %d classes, dataset %d", cfg.Classes, len(classes))
	}
	if cfg.Precision == vgg.BF16 && b.IsGo() {
		return nil, fmt.Errorf("precision bf16 needs an XLA backend (GPU, or XLA CPU): GoMLX's pure-Go backend lacks bf16 kernels; use f32 (backend: %s)", b.Config)
	}
	l := &Learner{Model: cfg, Opts: opts, Backend: b, Classes: classes, Out: os.Stdout,
		store: model.NewStore(), ops: b.Ops()}
	if err := l.store.SetRNGStateFromSeed(int64(opts.Seed)); err != nil {
		return nil, err
	}
	l.store.RootScope().SetParam(optimizer.ParamLearningRate, opts.LearningRate)
	l.trainer = train.NewTrainer(b.Backend, l.store, l.trainModelFn, loss.SparseCategoricalCrossEntropyLogits,
		newOptimizer(opts), []metric.Interface{metric.NewSparseCategoricalAccuracy("Accuracy", "acc")}, nil)
	if opts.CheckpointDir != "" && HasCheckpoint(opts.CheckpointDir) {
		if err := l.Load(opts.CheckpointDir); err != nil {
			return nil, err
		}
	}
	return l, nil
}

// LoadLearner rebuilds a learner from a checkpoint alone (for eval and predict).
func LoadLearner(b *backend.Choice, path string) (*Learner, error) {
	meta, err := ReadMeta(path)
	if err != nil {
		return nil, err
	}
	opts := meta.Options
	opts.CheckpointDir = ""
	l, err := NewLearner(b, meta.Model, opts, meta.Classes)
	if err != nil {
		return nil, fmt.Errorf("checkpoint %s: %w", path, err)
	}
	return l, l.Load(path)
}

// Load restores a checkpoint (a directory or file) into this learner.
func (l *Learner) Load(path string) error {
	meta, err := ReadMeta(path)
	if err != nil {
		return err
	}
	if !sameModel(meta.Model, l.Model) {
		return fmt.Errorf("checkpoint %s holds %s, this run asks for %s: use another checkpoint directory",
			resolveCheckpoint(path), meta.Model.Name(), l.Model.Name())
	}
	if _, err := loadCheckpoint(path, l.store); err != nil {
		return err
	}
	l.History = meta.History
	l.Dataset = meta.Dataset
	return nil
}

func sameModel(a, b vgg.Config) bool {
	return a.Arch == b.Arch && a.BatchNorm == b.BatchNorm && a.Head == b.Head && a.Width == b.Width &&
		a.Classes == b.Classes
}

// Save writes a checkpoint into dir (atomically).
func (l *Learner) Save(dir string) error {
	return saveCheckpoint(dir, Meta{Model: l.Model, Options: l.Opts, Classes: l.Classes, Dataset: l.Dataset,
		Step: l.Step(), History: l.History}, l.store)
}

// Step is the number of training steps taken so far (across resumes).
func (l *Learner) Step() int64 { return optimizer.GetGlobalStep(l.store) }

// NumParams counts the model's trainable parameters (once built).
func (l *Learner) NumParams() int64 {
	var n int64
	for v := range l.store.IterVariables() {
		if v.Trainable {
			n += int64(v.Shape().Size())
		}
	}
	return n
}

// totalSteps is set by Fit, for the cosine schedule.
func (l *Learner) trainModelFn(scope *model.Scope, images *graph.Node) *graph.Node {
	g := images.Graph()
	if l.Opts.Schedule == "cosine" && scope.IsTraining(g) {
		steps := l.Opts.Epochs * l.stepsPerEpoch
		cosineschedule.New(scope, g, dtypes.Float32).PeriodSteps(max(1, steps)).LearningRate(l.Opts.LearningRate).Done()
	}
	logits, _ := vgg.Build(scope.In("model"), l.Model, l.ops, images)
	return logits
}

// ErrNaN is returned (wrapped) when the loss stops being finite.
var ErrNaN = errors.New("loss is not finite")

// Fit trains until Opts.Epochs epochs are done in total (resuming counts the epochs
// already done), shuffling each epoch from the seed, printing the loss every LogEvery
// steps and a progress line, saving checkpoints, and evaluating on test after each epoch
// when asked. A NaN or Inf loss stops training with ErrNaN, naming the step; the last
// good checkpoint is left as it was.
func (l *Learner) Fit(trainSet, testSet *data.Set) error {
	if err := trainSet.Validate(); err != nil {
		return err
	}
	if len(trainSet.Classes) != l.Model.Classes {
		return fmt.Errorf("%s has %d classes, the model %d", trainSet.Name, len(trainSet.Classes), l.Model.Classes)
	}
	bs := l.Opts.BatchSize
	l.stepsPerEpoch = trainSet.Len() / bs
	if l.stepsPerEpoch == 0 {
		return fmt.Errorf("batch size %d is larger than %s (%d images)", bs, trainSet.Name, trainSet.Len())
	}
	if l.Dataset == "" {
		l.Dataset = trainSet.Name
	}
	total := int64(l.Opts.Epochs * l.stepsPerEpoch)
	step := l.Step()
	if step >= total {
		fmt.Fprintf(l.Out, "already trained %d steps (%d epochs): nothing to do\n", step, l.Opts.Epochs)
		return nil
	}
	if step > 0 {
		fmt.Fprintf(l.Out, "resuming at step %d of %d (epoch %d)\n", step, total, int(step)/l.stepsPerEpoch+1)
	}
	if l.Opts.DataParallel && l.parallel == nil {
		if err := l.setupDataParallel(); err != nil {
			return err
		}
		fmt.Fprintf(l.Out, "data parallel: each batch of %d split over %d devices\n", bs, len(l.parallel.devices))
	}
	lopts := loader.Options{BatchSize: bs, Shuffle: true, DropLast: true, Seed: l.Opts.Seed, Tensors: true}
	firstStep := make(chan struct{})
	if l.parallel == nil && !l.Backend.IsGo() {
		lopts.Device, lopts.DeviceAfter = l.Backend.Backend, firstStep // data parallel shards from the host copy.
	}
	batches, err := loader.New(trainSet, lopts)
	if err != nil {
		return err
	}
	if os.Getenv("GOGC") == "" {
		// Every batch is a new tensor, garbage once the step has used it; at Go's default
		// GOGC=100 the heap grows to twice the dataset before a collection (STL-10 train:
		// 286 MB peak for 138 MB of images). The dataset is one pointer-free block, so
		// collecting more often costs little: 185 MB peak at 25, measured with
		// bench/pipeline/rss. An explicit GOGC is left alone.
		defer debug.SetGCPercent(debug.SetGCPercent(25))
	}
	lastSave := time.Now()
	pr := newProgress(l.Out)
	var windowLoss float64
	var windowN int
	for epoch := int(step) / l.stepsPerEpoch; epoch < l.Opts.Epochs; epoch++ {
		// One permutation per epoch, from (seed, epoch) (loader.Order): a resumed run replays the same order.
		skip := int(step) - epoch*l.stepsPerEpoch
		if err := l.trainer.ResetTrainMetrics(); err != nil {
			return err
		}
		epochStart := time.Now()
		var epochLoss float64
		var epochSteps int
		var lastAcc float64
		k := 0
		for batch := range batches.Epoch(epoch, skip) { // assembled ahead by the loader's workers.
			k = batch.Step + 1
			t0 := time.Now()
			out, err := l.trainStep(batch.Images, batch.LabelsT)
			if firstStep != nil {
				close(firstStep)
				firstStep = nil
			}
			if err != nil {
				return fmt.Errorf("training step %d: %w", step+1, err)
			}
			lossV := scalar(out[0])
			lastAcc = scalar(out[len(out)-1])
			for _, t := range out {
				t.FinalizeAll()
			}
			step++
			if math.IsNaN(lossV) || math.IsInf(lossV, 0) {
				pr.clear()
				return fmt.Errorf("%w: loss = %v at step %d (epoch %d, batch %d): try a lower learning rate (now %g)",
					ErrNaN, lossV, step, epoch+1, k, l.Opts.LearningRate)
			}
			dt := time.Since(t0)
			epochLoss += lossV
			epochSteps++
			windowLoss += lossV
			windowN++
			if l.Opts.LogEvery > 0 && step%int64(l.Opts.LogEvery) == 0 {
				l.History.Steps = append(l.History.Steps, step)
				l.History.Loss = append(l.History.Loss, windowLoss/float64(windowN))
				pr.println(fmt.Sprintf("[%d, %5d] loss: %.3f", epoch+1, step, windowLoss/float64(windowN)))
				windowLoss, windowN = 0, 0
			}
			ips := float64(bs) / dt.Seconds()
			if !l.NoProgressLine && pr.due(step == total) {
				pr.show(progressLine(epoch+1, l.Opts.Epochs, step, total, lossV, dt, ips))
			}
			if l.OnStep != nil {
				l.OnStep(Progress{Epoch: epoch + 1, Epochs: l.Opts.Epochs, Step: step, TotalSteps: total,
					Loss: lossV, StepTime: dt, ImagesPerSec: ips, History: &l.History})
			}
			if l.Opts.CheckpointDir != "" && l.Opts.CheckpointMinutes > 0 &&
				time.Since(lastSave).Minutes() >= l.Opts.CheckpointMinutes {
				if err := l.Save(l.Opts.CheckpointDir); err != nil {
					return err
				}
				lastSave = time.Now()
			}
		}
		pr.clear()
		if l.Opts.LogEvery == 0 && windowN > 0 {
			l.History.Steps = append(l.History.Steps, step)
			l.History.Loss = append(l.History.Loss, windowLoss/float64(windowN))
			windowLoss, windowN = 0, 0
		}
		secs := time.Since(epochStart).Seconds()
		e := Epoch{Epoch: epoch + 1, Step: step, TestAcc: -1, Seconds: secs, TrainAcc: lastAcc}
		if epochSteps > 0 {
			e.TrainLoss = epochLoss / float64(epochSteps)
			e.ImagesPerSec = float64(epochSteps*bs) / secs
		}
		if testSet != nil && l.Opts.EvalEachEpoch {
			r, err := l.Evaluate(testSet)
			if err != nil {
				return err
			}
			e.TestAcc = r.Accuracy
		}
		l.History.Epochs = append(l.History.Epochs, e)
		msg := fmt.Sprintf("epoch %d/%d: train loss %.4f, train acc %.2f%%", e.Epoch, l.Opts.Epochs, e.TrainLoss, 100*e.TrainAcc)
		if e.TestAcc >= 0 {
			msg += fmt.Sprintf(", test acc %.2f%%", 100*e.TestAcc)
		}
		fmt.Fprintf(l.Out, "%s (%.1fs, %.1f img/s)\n", msg, secs, e.ImagesPerSec)
		if l.OnEpoch != nil {
			l.OnEpoch(e)
		}
		if l.Opts.CheckpointDir != "" {
			if err := l.Save(l.Opts.CheckpointDir); err != nil {
				return err
			}
			lastSave = time.Now()
		}
	}
	return nil
}

func progressLine(epoch, epochs int, step, total int64, loss float64, dt time.Duration, ips float64) string {
	const width = 24
	done := int(float64(width) * float64(step) / float64(total))
	bar := make([]byte, width)
	for i := range bar {
		bar[i] = '.'
		if i < done {
			bar[i] = '='
		}
	}
	eta := time.Duration(float64(total-step) * float64(dt)).Round(time.Second)
	return fmt.Sprintf("epoch %d/%d [%s] step %d/%d loss %.4f | %.0f ms/step, %.1f img/s, ETA %s",
		epoch, epochs, bar, step, total, loss, float64(dt.Microseconds())/1000, ips, eta)
}

func scalar(t *tensors.Tensor) float64 {
	switch v := t.Value().(type) {
	case float32:
		return float64(v)
	case float64:
		return v
	}
	return math.NaN()
}
