package training

import (
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/model/initializer"
	"github.com/gomlx/gomlx/ml/train/optimizer"
	"github.com/vggkit/vggkit/vggkit/config"
)

// newOptimizer builds the optimizer the options name. Weight decay follows PyTorch:
// "adam" and "sgd" add wd*w to the gradient (L2; with Adam it is then divided by the
// gradient's running RMS, so large weights with large gradients barely decay), "adamw"
// decouples it: w -= lr*wd*w beside the Adam step (Loshchilov & Hutter). GoMLX's own
// Adam WeightDecay is the decoupled form (adam.go adds lr*wd*w to the step), so it serves
// adamw as it is and adam gets its L2 through the loss it differentiates.
func newOptimizer(o config.Train) optimizer.Interface {
	switch o.Optimizer {
	case "sgd":
		return &sgdMomentum{lr: o.LearningRate, momentum: max(0, o.Momentum), weightDecay: o.WeightDecay}
	case "adamw":
		return optimizer.Adam().LearningRate(o.LearningRate).WeightDecay(o.WeightDecay).Done()
	}
	adam := optimizer.Adam().LearningRate(o.LearningRate).Done()
	if o.WeightDecay > 0 {
		return &l2Penalty{Interface: adam, weightDecay: o.WeightDecay}
	}
	return adam
}

// l2Penalty makes the wrapped optimizer see loss + wd/2 * sum(w^2) over the trainable
// weights it updates: its gradient is grad + wd*w, PyTorch's weight_decay for Adam. The
// loss the trainer reports stays the plain one.
type l2Penalty struct {
	optimizer.Interface
	weightDecay float64
}

func (o *l2Penalty) UpdateGraph(scope *model.Scope, g *Graph, loss *Node) {
	penalty := ScalarZero(g, loss.DType())
	for v := range scope.IterVariables() {
		if v.Trainable && v.InUseByGraph(g) {
			w := ConvertDType(v.NodeValue(g), loss.DType())
			penalty = Add(penalty, ReduceAllSum(Square(w)))
		}
	}
	o.Interface.UpdateGraph(scope, g, Add(loss, MulScalar(penalty, o.weightDecay/2)))
}

// sgdMomentum is PyTorch's SGD: g += wd*w; buf = momentum*buf + g; w -= lr*buf.
// GoMLX's own SGD has no momentum and decays the rate by 1/sqrt(step).
type sgdMomentum struct {
	lr, momentum, weightDecay float64
}

func (o *sgdMomentum) UpdateGraph(scope *model.Scope, g *Graph, loss *Node) {
	grads := scope.BuildTrainableVariablesGradientsGraph(loss)
	dtype := loss.DType()
	lr := optimizer.LearningRateVar(scope, dtype, o.lr).NodeValue(g)
	_ = optimizer.IncrementGlobalStep(g, dtype)
	i := 0
	for v := range scope.IterVariables() {
		if !v.Trainable || !v.InUseByGraph(g) {
			continue
		}
		grad := grads[i]
		i++
		w := v.NodeValue(g)
		if o.weightDecay > 0 {
			grad = Add(grad, MulScalar(w, o.weightDecay))
		}
		step := grad
		if o.momentum > 0 {
			bufVar := scope.Store().Scope("/sgd_momentum"+v.Scope()).WithInitializer(initializer.Zero).
				VariableWithShape(v.Name(), w.Shape()).SetTrainable(false)
			buf := Add(MulScalar(bufVar.NodeValue(g), o.momentum), grad)
			bufVar.SetNodeValue(buf)
			step = buf
		}
		v.SetNodeValue(Sub(w, Mul(step, ConvertDType(lr, w.DType()))))
	}
}

func (o *sgdMomentum) Clear(scope *model.Scope) error {
	return scope.Store().DeleteVariablesInScope("/sgd_momentum")
}
