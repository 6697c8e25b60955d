package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"

	"github.com/vggkit/vggkit/vggkit"
	"github.com/vggkit/vggkit/vggkit/config"
	"github.com/vggkit/vggkit/vggkit/pictures"
	"github.com/vggkit/vggkit/vggkit/training"
)

// runLRFind is fastai's lr_find from the command line: the model and data flags as
// train's, a sweep that leaves nothing behind but the picture, and the suggestions.
func runLRFind(args []string, stdout io.Writer) error {
	cfg := config.Default()
	fs := newFlags("lr-find", stdout)
	out := fs.String("out", "lr.png", "the picture of the curve with its suggestions (empty: none)")
	var o training.LRFindOptions
	fs.Float64Var(&o.Start, "start", 1e-7, "the sweep's first learning rate")
	fs.Float64Var(&o.End, "end", 10, "the sweep's last learning rate")
	fs.IntVar(&o.Steps, "steps", 100, "training steps of the sweep")
	bindData(fs, &cfg.Data)
	bindModel(fs, &cfg)
	bindTrain(fs, &cfg)
	if err := parseAll(fs, args, &cfg); err != nil {
		return err
	}
	if !(o.Start > 0 && o.End > o.Start) || o.Steps < 6 {
		return fmt.Errorf("%w: -start %g, -end %g, -steps %d: need 0 < start < end and 6 steps or more", errUsage, o.Start, o.End, o.Steps)
	}
	warnNoSIMD(stdout)
	run, err := vggkit.Open(cfg, "")
	if err != nil {
		return err
	}
	fmt.Fprint(stdout, run.Describe())
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	res, err := run.Learner.LRFind(ctx, run.Train, o)
	if err != nil {
		return err
	}
	printSuggestions(stdout, res)
	if *out == "" {
		return nil
	}
	c, err := pictures.LRFind(res)
	if err == nil {
		err = c.Save(*out)
	}
	if err == nil {
		fmt.Fprintf(stdout, "picture: %s\n", *out)
	}
	return err
}

func printSuggestions(w io.Writer, r *training.LRFindResult) {
	fmt.Fprintf(w, "\nlr finder: %d steps from %.3g to %.3g (smoothed loss %.4f -> %.4f)\n", len(r.LRs), r.LRs[0],
		r.LRs[len(r.LRs)-1], r.Losses[0], r.Losses[len(r.Losses)-1])
	for _, s := range r.Suggestions {
		fmt.Fprintf(w, "  %-8s %.3g  (%s)\n", s.Name, s.LR, s.Why)
	}
	fmt.Fprintf(w, "train with: -lr %.2g (valley), e.g. -schedule onecycle\n", r.Best())
}
