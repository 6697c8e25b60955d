// Command vggkit runs the VGG journey headless: demo, train, eval, predict, lr-find, summary, download.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"
)

type command struct {
	name, args, help string
	run              func(args []string, stdout io.Writer) error
}

// commands is filled in init: the run functions refer back to it for -h.
var commands []command

func init() {
	commands = []command{
		{"demo", "[flags]", "the whole journey on the embedded Shapes10 dataset with a small VGG (a few minutes on 2 CPU cores); writes a report folder", runDemo},
		{"train", "[-config FILE] [flags]", "train a VGG (resumes from -ckpt when it holds a checkpoint); evaluates and writes a report at the end", runTrain},
		{"sweep", "-plan -dir DIR [-space FILE] | -collect DIR", "hyperparameter sweeps spread over any scheduler: -plan writes one config file per trial (run each with 'vggkit train -config'), -collect gathers the results from the run folders", runSweep},
		{"eval", "-ckpt DIR [flags]", "overall and per-class accuracy and the confusion matrix over a whole test split", runEval},
		{"predict", "-ckpt DIR [-cam OUT.png] IMAGE...", "top-5 classes with probabilities for image files of any size (JPEG, PNG, GIF, BMP, WebP, TIFF), resized and centre-cropped as in training; -cam also draws where the model looked (class activation maps)", runPredict},
		{"export", "-ckpt DIR [-format onnx] OUT.onnx", "write the model as ONNX for ONNX Runtime or Triton: uint8 images [N,size,size,C] in (resized to the model's input size by the caller), logits out", runExport},
		{"lr-find", "[flags as train] [-out lr.png]", "fastai's learning-rate finder: a short sweep of exponentially rising rates; prints the suggested rates (valley, minimum/10, steep) and draws the loss curve; the model is left untouched", runLRFind},
		{"summary", "[flags]", "the layer table (output shape, parameters, multiply-adds) and the total parameter count", runSummary},
		{"doctor", "[-install cpu|cuda]", "report the compute backends, PJRT plugins and devices; -install fetches the XLA CPU or CUDA plugin with pip", runDoctor},
		{"bench", "[flags]", "time training steps (or evaluation) of a model on random images: compile time, img/s, TFLOP/s, memory", runBench},
		{"download", "DATASET|WEIGHTS [-dir DIR]", "download (resuming) and check stl10 (2.6 GB), cifar10, cifar100, mnist, fashion-mnist or kmnist, or torchvision's ImageNet weights vgg11..vgg19 and vgg11_bn..vgg19_bn (0.5 GB each, into DIR/weights), into the cache directory", runDownload},
	}
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "vggkit: VGG image classification on GoMLX, headless.\n\nUsage: vggkit COMMAND [flags]\n\nCommands:")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.help)
	}
	fmt.Fprintln(w, "\nRun 'vggkit COMMAND -h' for a command's flags and defaults.")
}

// errUsage marks errors in how the command was called (exit status 2).
var errUsage = errors.New("usage")

func main() {
	if os.Getenv("GOGC") == "" {
		// Every batch is a new tensor, garbage once the step has used it; at Go's default
		// GOGC=100 the heap grows to twice the dataset before a collection (STL-10 train:
		// 286 MB peak for 138 MB of images, 185 MB at 25, measured with bench/pipeline/rss).
		// The program sets this, not the library: a library changes no process state.
		debug.SetGCPercent(25)
	}
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stdout)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, c := range commands {
		if c.name != args[0] {
			continue
		}
		err := c.run(args[1:], stdout)
		switch {
		case err == nil:
			return 0
		case errors.Is(err, flag.ErrHelp):
			return 0
		case errors.Is(err, context.Canceled):
			fmt.Fprintf(stderr, "vggkit %s: interrupted\n", c.name)
			return 130
		case errors.Is(err, errUsage):
			fmt.Fprintf(stderr, "vggkit %s: %v\n", c.name, strings.TrimPrefix(err.Error(), "usage: "))
			return 2
		default:
			fmt.Fprintf(stderr, "vggkit %s: error: %v\n", c.name, err)
			return 1
		}
	}
	fmt.Fprintf(stderr, "vggkit: unknown command %q\n\n", args[0])
	usage(stderr)
	return 2
}

// newFlags makes a FlagSet whose -h prints the command's purpose and its defaults.
func newFlags(name string, out io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(out)
	for _, c := range commands {
		if c.name == name {
			fs.Usage = func() {
				fmt.Fprintf(out, "Usage: vggkit %s %s\n\n%s.\n\nFlags:\n", c.name, c.args, c.help)
				fs.PrintDefaults()
			}
		}
	}
	return fs
}

func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	return nil
}
