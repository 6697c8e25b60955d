package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/vggkit/vggkit/vggkit/config"
	"github.com/vggkit/vggkit/vggkit/sweep"
)

// runSweep plans a sweep (a config file per trial, for any scheduler to run with
// `vggkit train -config`) or collects one from its run folders. The notebook
// 05-hyperparameters runs the same plans in-process, with successive halving.
func runSweep(args []string, stdout io.Writer) error {
	fs := newFlags("sweep", stdout)
	plan := fs.Bool("plan", false, "write DIR/plan.json and DIR/<trial>/config.json for each trial")
	dir := fs.String("dir", "sweep", "with -plan: the sweep folder")
	spaceFile := fs.String("space", "", `with -plan: the space, a JSON file {"base": {config}, "params": [{"path": "train.learning_rate", "min": 1e-4, "max": 3e-2, "log": true}, {"path": "train.optimizer", "values": ["adam", "sgd"]}]} (default: the notebook's: the demo model over learning rate, optimizer and batch norm)`)
	random := fs.Int("random", 12, "with -plan: draw this many trials at random (0: the whole grid; a range gives its grid 'points' values)")
	seed := fs.Uint64("seed", 1, "with -plan: the random draw's seed")
	collect := fs.String("collect", "", "print the results of the sweep folder DIR, best first")
	asJSON := fs.Bool("json", false, "with -collect: print the results as JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	switch {
	case fs.NArg() > 0:
		return fmt.Errorf("%w: unexpected arguments %q", errUsage, fs.Args())
	case *plan == (*collect != ""):
		return fmt.Errorf("%w: give -plan (with -dir) or -collect DIR", errUsage)
	case *plan:
		return planSweep(*dir, *spaceFile, *random, *seed, stdout)
	}
	return collectSweep(*collect, *asJSON, stdout)
}

func planSweep(dir, spaceFile string, random int, seed uint64, stdout io.Writer) error {
	space := sweep.Demo()
	if spaceFile != "" {
		b, err := os.ReadFile(spaceFile)
		if err != nil {
			return err
		}
		space = sweep.Space{}
		if err := json.Unmarshal(b, &space); err != nil {
			return fmt.Errorf("%w: -space %s: %v", errUsage, spaceFile, err)
		}
	}
	p, err := sweep.Random(space, random, seed)
	if random == 0 {
		p, err = sweep.Grid(space)
	}
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if err := p.Write(dir); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%d trials in %s; run each (any order, any machine sharing the folder):\n", len(p.Trials), dir)
	fmt.Fprintf(stdout, "  vggkit train -config %s\n", filepath.Join(dir, p.Trials[0].Name, sweep.ConfigFile))
	fmt.Fprintf(stdout, "then: vggkit sweep -collect %s\n", dir)
	return nil
}

func collectSweep(dir string, asJSON bool, stdout io.Writer) error {
	rs, paths, err := sweep.Collect(dir)
	if err != nil {
		return err
	}
	if asJSON {
		b, err := json.MarshalIndent(rs, "", "  ")
		if err == nil {
			_, err = fmt.Fprintln(stdout, string(b))
		}
		return err
	}
	w := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	for _, row := range sweep.Rows(rs, paths) {
		fmt.Fprintln(w, strings.Join(row, "\t"))
	}
	if err := w.Flush(); err != nil {
		return err
	}
	_, err = fmt.Fprintln(stdout, "\n"+strings.ReplaceAll(sweep.Summary(rs, paths), "**", ""))
	return err
}

// trainDefaults is where train's flags start: the -config file when one is given (and
// its folder as the run folder, as `vggkit sweep -plan` lays trials out), else the defaults.
func trainDefaults(args []string) (cfg config.Config, out, ckpt string, err error) {
	file := configFlag(args)
	if file == "" {
		return config.Default(), "vggkit-run", "vggkit-run/checkpoint", nil
	}
	b, err := os.ReadFile(file)
	if err == nil {
		err = json.Unmarshal(b, &cfg)
	}
	if err != nil {
		return cfg, "", "", fmt.Errorf("%w: -config %s: %v", errUsage, file, err)
	}
	dir := filepath.Dir(file)
	return cfg.Resolve(), filepath.Join(dir, "report"), dir, nil
}

// configFlag finds -config's value before the flags are parsed, since it sets their defaults.
func configFlag(args []string) string {
	fs := flag.NewFlagSet("", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	file := fs.String("config", "", "")
	for i, a := range args {
		name, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if strings.HasPrefix(a, "-") && name == "config" {
			end := min(i+2, len(args))
			_ = fs.Parse(args[i:end])
			return *file
		}
	}
	return ""
}
