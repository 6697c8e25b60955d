package sweep

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// Rows is the results as a table, best first: the trial, its parameters (in paths'
// order), epochs, final train loss, test accuracy and training time. The first row is the header.
func Rows(rs []Result, paths []string) [][]string {
	head := []string{"trial"}
	for _, p := range paths {
		head = append(head, Label(p))
	}
	rows := [][]string{append(head, "epochs", "train loss", "test accuracy", "seconds")}
	for _, r := range rs {
		row := []string{r.Name}
		for _, p := range paths {
			row = append(row, Format(r.Params[p]))
		}
		acc := "-"
		switch {
		case r.Diverged != "":
			acc = "diverged"
		case r.TestAcc >= 0:
			acc = fmt.Sprintf("%.1f %%", 100*r.TestAcc)
		}
		rows = append(rows, append(row, fmt.Sprint(r.Epochs), fmt.Sprintf("%.3f", r.TrainLoss), acc, fmt.Sprintf("%.0f", r.Seconds)))
	}
	return rows
}

// Format writes a parameter's value as a table shows it: 0.0031, adam, on/off.
func Format(v any) string {
	switch x := v.(type) {
	case bool:
		if x {
			return "on"
		}
		return "off"
	case float64:
		return fmt.Sprintf("%.2g", x)
	case nil:
		return "-"
	}
	return fmt.Sprint(v)
}

// Summary is a sentence or two of Markdown saying what the results show: the winner,
// by how much it beat the worst trial and the runner-up, how many diverged, and the
// sweep's training time. It is written from the results, so it is true of the run it
// describes.
func Summary(rs []Result, paths []string) string {
	var ok []Result
	diverged, seconds := 0, 0.0
	for _, r := range rs {
		seconds += r.Seconds
		if r.Diverged != "" {
			diverged++
		} else if r.TestAcc >= 0 {
			ok = append(ok, r)
		}
	}
	if len(ok) == 0 {
		return fmt.Sprintf("No trial finished with a test accuracy (%d diverged).", diverged)
	}
	best, worst := ok[0], ok[len(ok)-1]
	var b strings.Builder
	fmt.Fprintf(&b, "**%s won** (%s): %.1f %% test accuracy after %d epochs", best.Name, settings(best, paths), 100*best.TestAcc, best.Epochs)
	if len(ok) > 1 {
		fmt.Fprintf(&b, ", %.1f points above the runner-up (%s, %.1f %%) and %.1f points above the worst trial (%s, %.1f %% after %d epoch(s))",
			100*(best.TestAcc-ok[1].TestAcc), ok[1].Name, 100*ok[1].TestAcc, 100*(best.TestAcc-worst.TestAcc), worst.Name,
			100*worst.TestAcc, worst.Epochs)
	}
	b.WriteString(".")
	if diverged > 0 {
		fmt.Fprintf(&b, " %d trial(s) diverged.", diverged)
	}
	fmt.Fprintf(&b, " %d trials, %s of training in all.", len(rs), (time.Duration(math.Round(seconds)) * time.Second).String())
	return b.String()
}

// settings is "learning rate 0.003, optimizer adam, batch norm on".
func settings(r Result, paths []string) string {
	var parts []string
	for _, p := range paths {
		parts = append(parts, Label(p)+" "+Format(r.Params[p]))
	}
	return strings.Join(parts, ", ")
}
