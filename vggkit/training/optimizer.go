package training

import (
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/model/initializer"
	"github.com/gomlx/gomlx/ml/train/optimizer"
	"github.com/vggkit/vggkit/vggkit/config"
)

// newOptimizer builds the optimizer the options name.
func newOptimizer(o config.Train) optimizer.Interface {
	if o.Optimizer == "sgd" {
		return &sgdMomentum{lr: o.LearningRate, momentum: max(0, o.Momentum), weightDecay: o.WeightDecay}
	}
	cfg := optimizer.Adam().LearningRate(o.LearningRate)
	if o.WeightDecay > 0 {
		cfg = cfg.WeightDecay(o.WeightDecay)
	}
	return cfg.Done()
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
