package nb

import (
	"fmt"
	"time"

	"github.com/janpfeifer/gonb/gonbui"
	"github.com/janpfeifer/gonb/gonbui/comms"
	"github.com/janpfeifer/gonb/gonbui/dom"
	"github.com/janpfeifer/gonb/gonbui/widgets"
	"github.com/vggkit/vggkit/vggkit/config"
	"github.com/vggkit/vggkit/vggkit/sweep"
)

// ExploreIdle is how long Explore waits for a choice before it closes by itself, so a
// forgotten cell does not hold the kernel.
var ExploreIdle = 10 * time.Minute

// Explore shows the sweep's curves and settings-against-accuracy picture for a
// selection of trials, and, when a browser is connected to the kernel, a menu (GoNB's
// widgets) to pick another selection: the picture is redrawn from the run folders'
// results, without training. The cell runs until "Done" is clicked (or ExploreIdle
// passes), so run it last. Executed without a browser (nbconvert, CI) the widgets would
// wait forever for one: Explore checks first, and then only draws the picture, which is
// what the saved notebook keeps either way.
func Explore(rs []sweep.Result, space sweep.Space) {
	subsets := sweep.Subsets(rs, space)
	pic := "vggkit_explore_" + gonbui.UniqueID()
	draw := func(i int) {
		gonbui.UpdateHTML(pic, sweepPictures(subsets[i].Filter(rs), space, subsets[i].Name))
		flush()
	}
	draw(0)
	if !FrontEnd(20 * time.Second) {
		if config.Env().JupyterSession != "" {
			fmt.Println("no browser answered (is the notebook open?): the picture only; run the cell again to compare")
		}
		return
	}
	explore(subsets, draw)
	fmt.Println("explorer closed; the picture above stays as the cell's output")
}

// explore runs the menu until Done, or ExploreIdle without a choice.
func explore(subsets []sweep.Subset, draw func(int)) {
	names := make([]string, len(subsets))
	for i, s := range subsets {
		names[i] = s.Name
	}
	box, div := "vggkit_explore_controls_"+gonbui.UniqueID(), "vggkit_explore_div_"+gonbui.UniqueID()
	gonbui.UpdateHTML(box, fmt.Sprintf(`<div id="%s">Compare: </div>`, div)) // transient: removed at the end.
	sel := widgets.Select(names).AppendTo(div).Done()
	done := widgets.Button("Done").AppendTo(div).Done()
	choices, clicks := sel.Listen(), done.Listen()
	defer func() {
		choices.Close()
		clicks.Close()
		gonbui.UpdateHTML(box, "")
		flush()
	}()
	for {
		select {
		case i := <-choices.C:
			if i >= 0 && i < len(subsets) {
				draw(i)
			}
		case <-clicks.C:
			return
		case <-time.After(ExploreIdle):
			return
		}
	}
}

// FrontEnd tells whether a browser is connected to the kernel, by asking it to send a
// value back over GoNB's comms within timeout (JupyterLab runs an output's script only once
// the cell is drawn, so allow for scrolling): a headless execution has no browser to
// run the request, and widgets there would block the cell forever. A kernel that no
// Jupyter server started (nbconvert, nbclient) is not asked: starting GoNB's comms
// leaves its scripts among the cell's outputs.
func FrontEnd(timeout time.Duration) bool {
	if !gonbui.IsNotebook || config.Env().JupyterSession == "" {
		return false
	}
	got := make(chan bool, 1)
	go func() {
		address := "/vggkit/probe/" + gonbui.UniqueID()
		comms.Start()
		replies := comms.Listen[int](address)
		dom.TransientJavascript(fmt.Sprintf(`(function f(n){ if (globalThis.gonb_comm) { globalThis.gonb_comm.send(%q, 1); }
  else if (n > 0) { setTimeout(() => f(n-1), 100); } })(50);`, address))
		<-replies.C
		got <- true
	}()
	select {
	case <-got:
		return true
	case <-time.After(timeout):
		return false
	}
}
