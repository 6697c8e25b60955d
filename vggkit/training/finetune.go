package training

import (
	"strings"

	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/train"
	"github.com/gomlx/gomlx/ml/train/loss"
	"github.com/gomlx/gomlx/ml/train/metric"
	"github.com/gomlx/gomlx/ml/train/optimizer"
	"github.com/vggkit/vggkit/vggkit/vgg"
)

// Fine-tuning (fastai's fine_tune, torchvision's transfer-learning tutorial): a pretrained
// trunk is frozen for the first steps while the new head learns (batch-norm statistics
// kept), then everything trains, the trunk at a fraction (Train.TrunkLR) of the head's rate.
// The two phases are two compiled steps over the same weights and optimizer state.

// trunkScope holds the convolutional trunk's variables.
const trunkScope = modelScope + "features/"

// FreezeSteps is how many steps the trunk stays frozen for, with stepsPerEpoch steps per epoch.
func (l *Learner) FreezeSteps(stepsPerEpoch int) int64 {
	t := l.Config.Train
	switch {
	case t.Weights == "" || t.FreezeEpochs < 0:
		return 0
	case t.FreezeSteps > 0:
		return int64(t.FreezeSteps)
	}
	return int64(t.FreezeEpochs * stepsPerEpoch)
}

// Frozen tells whether the next training step keeps the trunk frozen.
func (l *Learner) Frozen() bool { return l.Step() < l.freezeSteps }

// activeTrainer is the trainer for the next step: the head's alone while the trunk is frozen.
func (l *Learner) activeTrainer() *train.Trainer {
	if !l.Frozen() {
		return l.trainer
	}
	if l.headTrainer == nil {
		l.headTrainer = l.newTrainer(true)
	}
	return l.headTrainer
}

// newTrainer builds a trainer over the learner's store: the whole model, or (frozen) the
// head alone.
func (l *Learner) newTrainer(frozen bool) *train.Trainer {
	opt := newOptimizer(l.Config.Train)
	if f := l.Config.Train.TrunkFactor(); f != 1 && !frozen {
		opt = &trunkScaled{Interface: opt, factor: f}
	}
	modelFn := func(scope *model.Scope, images *Node) *Node {
		build := vgg.Build
		if frozen {
			build = vgg.BuildFrozenTrunk
		}
		logits, _ := build(scope.In("model"), l.Config.Model, l.ops, images)
		setTrunkTrainable(scope.Store(), !frozen)
		return logits
	}
	return train.NewTrainer(l.Backend.Backend, l.store, modelFn, loss.SparseCategoricalCrossEntropyLogits,
		opt, []metric.Interface{metric.NewSparseCategoricalAccuracy("Accuracy", "acc")}, nil)
}

// setTrunkTrainable marks the trunk's weights trainable or not, before the optimizer's
// graph is built (it differentiates only trainable variables). Every step sets it: a
// checkpoint saved while frozen records the trunk as not trainable.
func setTrunkTrainable(store *model.Store, trainable bool) {
	for v := range store.IterVariables() {
		if strings.HasPrefix(v.Path(), trunkScope) && !isStatistic(v.Path()) {
			v.SetTrainable(trainable)
		}
	}
}

// isStatistic tells batch-norm statistics (updated by the model, never trained) by name.
func isStatistic(path string) bool {
	name := path[strings.LastIndex(path, "/")+1:]
	return name == "mean" || name == "variance" || name == "avg_weight"
}

// trunkScaled scales the change the optimizer makes to each trunk weight by factor:
// discriminative learning rates that work for any optimizer (scaling Adam's gradient
// would not change its step).
type trunkScaled struct {
	optimizer.Interface
	factor float64
}

func (o *trunkScaled) UpdateGraph(scope *model.Scope, g *Graph, loss *Node) {
	before := map[*model.Variable]*Node{}
	for v := range scope.Store().IterVariables() {
		if v.Trainable && strings.HasPrefix(v.Path(), trunkScope) && v.InUseByGraph(g) {
			before[v] = v.NodeValue(g)
		}
	}
	o.Interface.UpdateGraph(scope, g, loss)
	for v, w0 := range before {
		w1 := v.NodeValue(g)
		v.SetNodeValue(Add(w0, MulScalar(Sub(w1, w0), o.factor)))
	}
}
