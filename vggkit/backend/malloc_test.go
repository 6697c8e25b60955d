package backend

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

// faultsChild names the child mode of TestHugePagesCutPageFaults.
const faultsChild = "VGGKIT_TEST_FAULTS_CHILD"

// A program that imports vggkit starts with glibc's huge pages for malloc, so that XLA's
// large per-execution buffers do not fault in 4 KB pages on every run: at 32 px, batch
// 128, that was about 18,000 page faults per training step, a quarter of its time. The
// child runs a program with a 64 MB intermediate several times and reports the minor
// page faults per run; with VGGKIT_MALLOC=0 (glibc's defaults, the old behaviour) it
// must show the faults, or the test could not tell.
func TestHugePagesCutPageFaults(t *testing.T) {
	if os.Getenv(faultsChild) != "" {
		faultsPerRun(t)
		return
	}
	if runtime.GOOS != "linux" {
		t.Skip("glibc's tunables: Linux only")
	}
	if b, err := os.ReadFile("/sys/kernel/mm/transparent_hugepage/enabled"); err != nil || strings.Contains(string(b), "[never]") {
		t.Skipf("transparent huge pages unavailable on this machine (%v)", strings.TrimSpace(string(b)))
	}
	run := func(malloc string) (faults int, hugePages string) {
		t.Helper()
		cmd := exec.Command(os.Args[0], "-test.run=^TestHugePagesCutPageFaults$", "-test.v")
		cmd.Env = append(withoutEnv(os.Environ(), "GLIBC_TUNABLES", "VGGKIT_MALLOC"), faultsChild+"=1", "VGGKIT_MALLOC="+malloc)
		out, err := cmd.CombinedOutput()
		if strings.Contains(string(out), "--- SKIP") {
			t.Skipf("child skipped: %s", out)
		}
		if err != nil {
			t.Fatalf("child (VGGKIT_MALLOC=%s): %v\n%s", malloc, err, out)
		}
		for _, line := range strings.Split(string(out), "\n") {
			if _, rest, ok := strings.Cut(line, "faults per run: "); ok {
				f := strings.Fields(rest)
				faults, _ = strconv.Atoi(f[0])
				return faults, f[1]
			}
		}
		t.Fatalf("child printed no fault count:\n%s", out)
		return 0, ""
	}
	// The process keeps its name: re-executing /proc/self/exe would have named it "exe".
	if b, err := os.ReadFile("/proc/self/comm"); err == nil && strings.TrimSpace(string(b)) == "exe" {
		t.Errorf("this test process is named %q after the re-execution at load", strings.TrimSpace(string(b)))
	}
	on, onHuge := run("1")
	off, offHuge := run("0")
	t.Logf("minor page faults per run of a program with a 64 MB intermediate: %d with huge pages (%s), %d with glibc's defaults (%s)", on, onHuge, off, offHuge)
	if onHuge != "true" || offHuge != "false" {
		t.Errorf("HugePages() = %s by default, %s with VGGKIT_MALLOC=0; want true, false", onHuge, offHuge)
	}
	if off < 8000 {
		t.Fatalf("with glibc's defaults the 64 MB buffer faulted only %d times per run: this test cannot see the defect", off)
	}
	if on > off/8 {
		t.Errorf("huge pages: %d page faults per run, against %d with glibc's defaults; want at most an eighth", on, off)
	}
}

// faultsPerRun is the child: minor page faults per execution, after two warm-up runs.
func faultsPerRun(t *testing.T) {
	c := xlaCPUChoice(t)
	// y [2048, 8192] (64 MB) is a dot's result, which XLA keeps in its temporary buffer.
	exe := MustNewExec(c.Backend, func(x, w *Node) *Node { return ReduceAllSum(Sin(Dot(x, w).Product())) })
	xs := tensors.FromShape(shapes.Make(dtypes.Float32, 2048, 64))
	ws := tensors.FromShape(shapes.Make(dtypes.Float32, 64, 8192))
	for range 2 {
		exe.MustExec(xs, ws)
	}
	const runs = 5
	before := minorFaults()
	for range runs {
		exe.MustExec(xs, ws)
	}
	fmt.Printf("faults per run: %d %v\n", (minorFaults()-before)/runs, HugePages())
}

func minorFaults() int {
	var u syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &u); err != nil {
		panic(err)
	}
	return int(u.Minflt)
}

func withoutEnv(env []string, names ...string) []string {
	var out []string
	for _, kv := range env {
		keep := true
		for _, n := range names {
			keep = keep && !strings.HasPrefix(kv, n+"=")
		}
		if keep {
			out = append(out, kv)
		}
	}
	return out
}
