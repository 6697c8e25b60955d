package training

import (
	"fmt"
	"io"
	"os"
	"time"
)

// progress draws one status line that rewrites itself on a terminal; elsewhere (a log
// file, a notebook cell) it prints a plain line every 10 s so the output stays short.
type progress struct {
	out      io.Writer
	tty      bool
	last     time.Time
	drawn    bool
	interval time.Duration
}

func newProgress(out io.Writer) *progress {
	p := &progress{out: out, interval: 10 * time.Second}
	if f, ok := out.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			p.tty, p.interval = true, 200*time.Millisecond
		}
	}
	return p
}

// due tells whether to draw now (always for the last step).
func (p *progress) due(final bool) bool {
	if final || time.Since(p.last) >= p.interval {
		p.last = time.Now()
		return true
	}
	return false
}

func (p *progress) show(line string) {
	if p.tty {
		fmt.Fprintf(p.out, "\r\033[K%s", line)
		p.drawn = true
		return
	}
	fmt.Fprintln(p.out, line)
}

func (p *progress) clear() {
	if p.drawn {
		fmt.Fprint(p.out, "\r\033[K")
		p.drawn = false
	}
}

// println prints a permanent line above the status line.
func (p *progress) println(line string) {
	p.clear()
	fmt.Fprintln(p.out, line)
}
