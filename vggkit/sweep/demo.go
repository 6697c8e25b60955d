package sweep

import "github.com/vggkit/vggkit/vggkit/config"

// Demo is the sweep of notebook 05 and of `vggkit sweep -plan` without -space: the demo
// model (config.Demo: VGG11 at 1/8 width, 32 px, Shapes10) over the learning rate
// (log scale), the optimizer and batch norm. Measured on 2 CPU cores with XLA: 12 random
// trials with halving over rungs of 1 and 3 epochs take about two minutes, and the
// settings differ by tens of points. Loss points every 20 steps make the curves.
func Demo() Space {
	base := config.Demo()
	base.Train.LogEvery = 20
	return Space{Base: base, Params: []Param{
		LogUniform("train.learning_rate", 1e-4, 3e-2),
		Choice("train.optimizer", "adam", "sgd"),
		Choice("model.batch_norm", true, false),
	}}
}
