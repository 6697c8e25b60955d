package checkpoint

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
)

// The tests that need a second process re-run the test binary with childEnv naming its role
// and childDirEnv the checkpoint directory; TestMain hands it to runChild.
const (
	childEnv    = "VGGKIT_CHECKPOINT_TEST_CHILD"
	childDirEnv = "VGGKIT_CHECKPOINT_TEST_DIR"
	childLocked = 3        // exit code of the "lock" role when Lock fails with ErrLocked
	bigElems    = 50 << 20 // float32 values of the kill test's large variable: 200 MiB
)

func runChild(role string) {
	dir := os.Getenv(childDirEnv)
	var err error
	switch role {
	case "lock":
		_, err = Lock(dir)
		if errors.Is(err, ErrLocked) {
			fmt.Print(err)
			os.Exit(childLocked)
		}
	case "save-loop":
		err = saveLoop(dir)
	default:
		err = fmt.Errorf("unknown role %q", role)
	}
	if err != nil {
		fmt.Print(err)
		os.Exit(1)
	}
	os.Exit(0)
}

// child runs the test binary in a role on dir and returns its exit code and output.
func child(t *testing.T, role, dir string) (int, string) {
	t.Helper()
	cmd := childCmd(role, dir)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatal(err)
	}
	return cmd.ProcessState.ExitCode(), string(out)
}

func childCmd(role, dir string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+role, childDirEnv+"="+dir)
	return cmd
}

// saveLoop holds the lock on dir, saves a small checkpoint (step 0), then a 200 MiB one
// (steps 1, 2, ...) again and again until killed.
func saveLoop(dir string) error {
	if _, err := Lock(dir); err != nil {
		return err
	}
	small := model.NewStore()
	small.CreateVariable("/step", tensors.FromScalar(int64(0)))
	if err := Save(dir, testMeta{Step: 0}, small); err != nil {
		return err
	}
	big := model.NewStore()
	t := tensors.FromShape(shapes.Make(dtypes.Float32, bigElems))
	tensors.MustMutableFlatData(t, func(flat []float32) {
		for i := range flat {
			flat[i] = float32(i % 1000)
		}
	})
	big.CreateVariable("/big", t)
	step, _ := big.CreateVariable("/step", tensors.FromScalar(int64(0)))
	for i := int64(1); i <= 100; i++ {
		if err := step.SetValue(tensors.FromScalar(i)); err != nil {
			return err
		}
		if err := Save(dir, testMeta{Step: i}, big); err != nil {
			return err
		}
	}
	return errors.New("100 saves and not killed")
}

// TestKillDuringSave: a process killed in the middle of a save leaves its temporary file and
// its lock; the next Lock gets the lock, removes the file, and the last complete checkpoint loads.
func TestKillDuringSave(t *testing.T) {
	for attempt := 1; attempt <= 3; attempt++ {
		dir := t.TempDir()
		start := time.Now()
		temps, out := killMidSave(t, dir)
		if len(temps) == 0 { // the save finished between seeing its temporary file and the kill
			t.Logf("attempt %d: no temporary file left at the kill, again", attempt)
			continue
		}
		st, _ := os.Stat(temps[0])
		t.Logf("killed after %v, leaving %s of %d bytes; child output %q", time.Since(start), temps[0], st.Size(), out)
		release, err := Lock(dir)
		if err != nil {
			t.Fatalf("Lock after the holder was killed: %v", err)
		}
		defer release()
		if left := tempFiles(t, dir); len(left) > 0 {
			t.Errorf("Lock left %v", left)
		}
		checkLastSave(t, dir)
		return
	}
	t.Fatal("3 attempts and never killed in the middle of a save")
}

// killMidSave runs saveLoop in a child, SIGKILLs it once a checkpoint exists and a large save
// is under way (16 MiB written), and returns the temporary files then left.
func killMidSave(t *testing.T, dir string) ([]string, string) {
	cmd := childCmd("save-loop", dir)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	deadline := time.Now().Add(2 * time.Minute)
	for !(Exists(dir) && bigTemp(t, dir)) {
		select {
		case err := <-done:
			t.Fatalf("child ended (%v) before it was killed; output %q", err, out.String())
		case <-time.After(2 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			<-done
			t.Fatalf("no save under way after 2 minutes; child output %q", out.String())
		}
	}
	cmd.Process.Kill()
	<-done
	return tempFiles(t, dir), out.String()
}

// bigTemp tells whether dir has a temporary file of 16 MiB or more: a large save under way.
func bigTemp(t *testing.T, dir string) bool {
	for _, name := range tempFiles(t, dir) {
		if st, err := os.Stat(name); err == nil && st.Size() >= 16<<20 {
			return true
		}
	}
	return false
}

// checkLastSave loads dir and checks it is one of saveLoop's checkpoints, whole.
func checkLastSave(t *testing.T, dir string) {
	var m testMeta
	s := model.NewStore()
	start := time.Now()
	if err := Load(dir, &m, s); err != nil {
		t.Fatal(err)
	}
	t.Logf("loaded step %d (%d variables) in %v", m.Step, s.NumVariables(), time.Since(start))
	if step := tensors.ToScalar[int64](s.GetVariable("/step").MustValue()); step != m.Step {
		t.Errorf("variable /step = %d, metadata step %d", step, m.Step)
	}
	if big := s.GetVariable("/big"); (big != nil) != (m.Step > 0) {
		t.Errorf("step %d, /big present: %v", m.Step, big != nil)
	} else if big != nil {
		tensors.MustConstFlatData(big.MustValue(), func(flat []float32) {
			if len(flat) != bigElems || flat[bigElems-1] != float32((bigElems-1)%1000) {
				t.Errorf("/big has %d values, last %g", len(flat), flat[len(flat)-1])
			}
		})
	}
}
