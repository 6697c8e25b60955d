package training

import (
	"fmt"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/distributed"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/core/tensors/dtensor"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/train"
	"github.com/vggkit/vggkit/vggkit/vgg"
)

// Data-parallel training over all local devices (Options.DataParallel): each batch is
// split along its first axis over a one-axis device mesh ("data"), the weights are
// replicated, and XLA's partitioner (GoMLX's AutoSharding strategy) turns the one-device
// program into per-device programs with the gradient all-reduce in them. The result is
// the same computation as on one device with the whole batch (tested against it).
type dataParallel struct {
	devices []compute.DeviceNum
	spec    *distributed.ShardingSpec
}

func (l *Learner) setupDataParallel() error {
	n := l.Backend.Backend.NumDevices()
	if n < 2 {
		return fmt.Errorf("data parallel needs several devices; backend %s has %d", l.Backend.Config, n)
	}
	if l.Config.Train.BatchSize%n != 0 {
		return fmt.Errorf("data parallel over %d devices: batch size %d is not a multiple of %d", n, l.Config.Train.BatchSize, n)
	}
	mesh, err := distributed.NewDeviceMesh([]int{n}, []string{"data"})
	if err != nil {
		return err
	}
	spec, err := distributed.BuildSpec(mesh).S("data").Done()
	if err != nil {
		return err
	}
	dp := &dataParallel{spec: spec}
	for i := range n {
		dp.devices = append(dp.devices, compute.DeviceNum(i))
	}
	// The model's variables are created and initialised by a one-device graph first:
	// GoMLX v0.28.2 fails to run random initialisers inside a partitioned program.
	if !l.initialized() {
		e, err := model.NewExec(l.Backend.Backend, l.store, func(scope *model.Scope, images *graph.Node) *graph.Node {
			logits, _ := vgg.Build(scope.In("model"), l.Config.Model, l.ops, images)
			return logits
		})
		if err != nil {
			return err
		}
		out, err := e.Call(tensors.FromShape(imageShape(1, l.Config.Model.InputSize, l.Images[2])))
		if err != nil {
			return fmt.Errorf("initialising the weights for data parallel: %w", err)
		}
		out[0].FinalizeAll()
	}
	l.parallel = dp
	return nil
}

// imageShape is a batch of n images of size x size with the training images' channels
// (3 when not known yet), which the first convolution's weights are made for.
func imageShape(n, size, channels int) shapes.Shape {
	if channels == 0 {
		channels = 3
	}
	return shapes.Make(dtypes.Uint8, n, size, size, channels)
}

// initialized tells whether the model's weights exist already (resumed or trained);
// the store holds other variables (the RNG state) from the start.
func (l *Learner) initialized() bool {
	for v := range l.store.IterVariables() {
		if v.Trainable {
			return true
		}
	}
	return false
}

// TrainStep runs one training step on a batch (the tensors are consumed: uint8 images
// [B,H,W,C], int32 labels [B,1]) and returns the loss and the running accuracy.
func (l *Learner) TrainStep(imgs, labels *tensors.Tensor) (loss, acc float64, err error) {
	out, err := l.trainStep(imgs, labels)
	if err != nil {
		return 0, 0, err
	}
	loss, acc = scalar(out[0]), scalar(out[len(out)-1]) // reading waits for the step to finish.
	for _, t := range out {
		t.FinalizeAll()
	}
	return loss, acc, nil
}

// trainStep runs one training step on one device, or split over all of them.
func (l *Learner) trainStep(imgs, labels *tensors.Tensor) ([]*tensors.Tensor, error) {
	if l.Config.Train.DataParallel && l.parallel == nil {
		if err := l.setupDataParallel(); err != nil {
			return nil, err
		}
	}
	if l.parallel == nil {
		return l.activeTrainer().TrainStep(train.Batch{Inputs: []*tensors.Tensor{imgs}, Labels: []*tensors.Tensor{labels}})
	}
	di, err := dtensor.ShardTensor(l.parallel.spec, imgs)
	if err != nil {
		return nil, err
	}
	dl, err := dtensor.ShardTensor(l.parallel.spec, labels)
	if err != nil {
		return nil, err
	}
	imgs.FinalizeAll()
	labels.FinalizeAll()
	// Variables made since the last step (the metrics' counters, reset each epoch) are
	// initialised on one device for the same reason as the weights.
	if err := l.store.InitializeVariables(l.Backend.Backend, nil); err != nil {
		return nil, err
	}
	return l.activeTrainer().DistributedTrainStep(distributed.AutoSharding, l.parallel.devices,
		train.DistributedBatch{Inputs: []*dtensor.Tensor{di}, Labels: []*dtensor.Tensor{dl}})
}
