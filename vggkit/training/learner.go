package training

import (
	"fmt"
	"io"
	"os"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/train"
	"github.com/gomlx/gomlx/ml/train/optimizer"
	"github.com/vggkit/vggkit/vggkit/backend"
	"github.com/vggkit/vggkit/vggkit/config"
	"github.com/vggkit/vggkit/vggkit/vgg"
)

// Learner holds a model, its weights and optimizer state, and trains and evaluates it.
type Learner struct {
	Config  config.Config // resolved; Model.Classes is the number of classes.
	Backend *backend.Choice
	Classes []string
	Dataset string // name of the dataset it is trained on.
	Images  [3]int // height, width, channels of the training images (predict brings images to this).
	History History

	Dir            string    // run folder: checkpoints are saved and resumed here ("": none).
	Out            io.Writer // progress and log lines (default os.Stdout; io.Discard to silence).
	NoProgressLine bool      // keep the loss and epoch lines, drop the progress line (a live view shows it).
	NoTensorBoard  bool      // write no TensorBoard event files into Dir (tensorboard.go).

	store   *model.Store
	ops     vgg.Ops // the backend's forms of convolution, bias and pooling
	trainer *train.Trainer
	// Fine-tuning (finetune.go): the trunk is frozen until step freezeSteps, trained by headTrainer.
	headTrainer *train.Trainer
	freezeSteps int64
	predict     *model.Exec
	feats       map[int]*model.Exec  // per layer, for FeatureMaps
	camExecs    map[bool]*model.Exec // CAM (false) and Grad-CAM (true)
	parallel    *dataParallel        // set by Fit with Train.DataParallel
	lr          float64              // the learning rate last set in the store
	bar         *progress            // the progress line while Fit runs
}

// New builds a learner for the given classes with fresh weights, or with the pretrained
// ones cfg.Train.Weights names (and a new head when the classes differ). cfg is resolved
// and validated; cfg.Model.Classes, when set, must equal len(classes).
func New(b *backend.Choice, cfg config.Config, classes []string) (*Learner, error) {
	l, err := freshLearner(b, cfg, classes)
	if err == nil && l.Config.Train.Weights != "" {
		err = l.loadWeights(l.Config.Train.Weights)
	}
	return l, err
}

// freshLearner builds a learner with fresh weights (Load and Resume then restore a checkpoint).
func freshLearner(b *backend.Choice, cfg config.Config, classes []string) (*Learner, error) {
	cfg = cfg.Resolve()
	if cfg.Model.Classes != 0 && cfg.Model.Classes != len(classes) {
		return nil, fmt.Errorf("model has %d classes, dataset %d", cfg.Model.Classes, len(classes))
	}
	cfg.Model.Classes = len(classes)
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Model.Precision == vgg.BF16 && b.IsGo() {
		return nil, fmt.Errorf("precision bf16 needs an XLA backend (GPU, or XLA CPU): GoMLX's pure-Go backend lacks bf16 kernels; use f32 (backend: %s)", b.Config)
	}
	// The backend gives the forms of the model's primitives measured fastest on it.
	l := &Learner{Config: cfg, Backend: b, Classes: classes, Out: os.Stdout, store: model.NewStore(), ops: b.Ops()}
	if err := l.store.SetRNGStateFromSeed(int64(cfg.Train.Seed)); err != nil {
		return nil, err
	}
	l.trainer = l.newTrainer(false)
	l.setLearningRate(cfg.Train.LearningRate)
	return l, nil
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

// setLearningRate stores the rate the optimizer reads at the next step (only when it changed).
func (l *Learner) setLearningRate(lr float64) {
	if lr == l.lr {
		return
	}
	l.lr = lr
	v := optimizer.LearningRateVarWithValue(l.store.RootScope(), dtypes.Float32, lr)
	if err := v.SetValue(tensors.FromScalar(float32(lr))); err != nil {
		panic(err) // only fails on a variable of another shape, which the line above rules out.
	}
}

// LearningRate is the rate the next step uses.
func (l *Learner) LearningRate() float64 { return l.lr }
