package main

import (
	"flag"
	"fmt"

	"github.com/vggkit/vggkit/vggkit/config"
	"github.com/vggkit/vggkit/vggkit/data"
)

// bindData, bindModel and bindTrain attach the config's fields to flags, with the
// config's current values (config.Default or config.Demo) as the defaults shown by -h.
func bindData(fs *flag.FlagSet, c *config.Data) {
	fs.StringVar(&c.Name, "dataset", c.Name, "dataset: auto (STL-10 if present, else the embedded Shapes10), stl10, shapes10, cifar10, cifar100, cifar100-coarse, mnist, fashion-mnist, kmnist, or folder:DIR (one sub-folder of images per class)")
	fs.StringVar(&c.Dir, "data-dir", c.Dir, "where the dataset's files are (default: $VGGKIT_CACHE or the user cache dir + /vggkit, where 'vggkit download' puts them)")
	fs.IntVar(&c.Channels, "channels", c.Channels, "1 for grey images, 3 for RGB (0: the dataset's own; MNIST's grey is given 3 channels)")
	fs.IntVar(&c.ImageSize, "image-size", c.ImageSize, "folder datasets: resize and centre-crop images to this size when loading (0: 96)")
	fs.Float64Var(&c.TestFraction, "test-fraction", c.TestFraction, "folder datasets without train/ and test/ sub-folders: share of each class held out for testing (0: 0.2)")
	fs.Uint64Var(&c.SplitSeed, "split-seed", c.SplitSeed, "folder datasets without train/ and test/ sub-folders: seed of the held-out draw")
	fs.IntVar(&c.Fold, "fold", c.Fold, "STL-10 training fold 1..10 (1000 images each), or 0 for all 5000 training images")
	fs.IntVar(&c.PerClass, "per-class", c.PerClass, "Shapes10 images per class (0: 500 train, 100 test)")
	fs.IntVar(&c.Limit, "limit", c.Limit, "train on the first N images only (0: all)")
}

func bindModel(fs *flag.FlagSet, c *config.Config) {
	m := &c.Model
	fs.StringVar(&m.Arch, "arch", m.Arch, "vgg11, vgg13, vgg16 or vgg19")
	fs.BoolVar(&m.BatchNorm, "bn", m.BatchNorm, "batch norm after each convolution (the _bn variants)")
	fs.StringVar(&m.Activation, "act", m.Activation, "activation: relu or leaky")
	fs.Float64Var(&m.LeakySlope, "slope", m.LeakySlope, "LeakyReLU negative slope")
	fs.StringVar(&m.Head, "head", m.Head, "gap (global average pool + linear) or classic (7x7 pool, 4096, 4096)")
	fs.Float64Var(&m.Width, "width", m.Width, "channel multiplier (0.25 = width/4)")
	fs.IntVar(&m.InputSize, "size", m.InputSize, "input size: images are resized to size x size in the graph")
	fs.StringVar(&m.Augment, "augment", m.Augment, "training augmentation: crop-flip (random crop with padding + horizontal flip) or none")
	fs.StringVar(&m.Precision, "precision", m.Precision, "f32, or bf16 mixed precision (bf16 convolutions, f32 weights and loss; for GPUs)")
}

func bindTrain(fs *flag.FlagSet, c *config.Config) {
	t := &c.Train
	fs.StringVar(&t.Optimizer, "optimizer", t.Optimizer, "adam, adamw (decoupled weight decay) or sgd (with momentum)")
	fs.Float64Var(&t.LearningRate, "lr", t.LearningRate, "learning rate")
	fs.Float64Var(&t.Momentum, "momentum", t.Momentum, "SGD momentum")
	fs.Float64Var(&t.WeightDecay, "wd", t.WeightDecay, "weight decay: L2 in the gradient with adam and sgd (PyTorch's weight_decay), decoupled w -= lr*wd*w with adamw")
	fs.StringVar(&t.Schedule, "schedule", t.Schedule, "learning-rate schedule: cosine (to 0), onecycle (warm up from lr/25 over a quarter of the steps, then anneal to lr/25/1e4; -lr is the peak; see 'vggkit lr-find') or constant")
	fs.IntVar(&t.Epochs, "epochs", t.Epochs, "total epochs (a resumed run continues up to this many)")
	fs.IntVar(&t.BatchSize, "batch", t.BatchSize, "batch size")
	fs.Uint64Var(&t.Seed, "seed", t.Seed, "random seed (shuffling, initialisation, augmentation)")
	fs.IntVar(&t.LogEvery, "log-every", t.LogEvery, "print the mean loss every N steps (-1: once per epoch)")
	fs.Float64Var(&t.CheckpointMinutes, "ckpt-minutes", t.CheckpointMinutes, "also checkpoint every N minutes (-1: at epoch ends only)")
	fs.IntVar(&t.EvalEvery, "eval-every", t.EvalEvery, "test accuracy every N epochs (0: every epoch; -1: never)")
	fs.IntVar(&t.EarlyStop, "early-stop", t.EarlyStop, "stop after N evaluations of test accuracy without improvement (0: never)")
	fs.BoolVar(&t.DataParallel, "data-parallel", t.DataParallel, "split each batch over all local GPUs (XLA partitioning); the batch must be a multiple of their number")
	// Their defaults depend on -weights: 0 stands for them.
	t.FreezeEpochs, t.FreezeSteps, t.TrunkLR = 0, 0, 0
	fs.StringVar(&t.Weights, "weights", t.Weights, "start from pretrained weights: vgg11..vgg19 or vgg11_bn..vgg19_bn (torchvision's ImageNet weights, see 'vggkit download'), a .pth or .safetensors file, or a vggkit checkpoint folder; ImageNet weights bring ImageNet's normalisation")
	fs.IntVar(&t.FreezeEpochs, "freeze-epochs", t.FreezeEpochs, "with -weights: train only the new head for the first N epochs (0: 1; -1: never frozen)")
	fs.IntVar(&t.FreezeSteps, "freeze-steps", t.FreezeSteps, "with -weights: freeze for N steps instead of -freeze-epochs")
	fs.Float64Var(&t.TrunkLR, "trunk-lr", t.TrunkLR, "the trunk's learning rate as a fraction of -lr once unfrozen (0: 0.1 with -weights, else 1)")
}

// weightsDefaults makes the model follow -weights (config.WithWeights: ImageNet's
// normalisation, ReLU, the variant's arch and batch norm) but for what a flag set: the
// flags start from a resolved config, so their defaults cannot tell.
func weightsDefaults(fs *flag.FlagSet, c *config.Config) {
	if c.Train.Weights == "" {
		return
	}
	given := c.Model
	*c = c.WithWeights(c.Train.Weights)
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "act":
			c.Model.Activation = given.Activation
		case "arch":
			c.Model.Arch = given.Arch
		case "bn":
			c.Model.BatchNorm = given.BatchNorm
		}
	})
}

// validate turns a bad value into a command-line error (exit 2), before any work: the
// configuration's ranges, the dataset's name, and a fold given to a dataset without folds.
func validate(c config.Config) error {
	if err := c.Validate(); err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	fold := data.AllFolds
	if c.Data.Fold > 0 {
		fold = c.Data.Fold - 1
	}
	if err := data.CheckDataset(c.Data.Name, fold); err != nil {
		return fmt.Errorf("%w: -dataset %s: %v", errUsage, c.Data.Name, err)
	}
	return nil
}
