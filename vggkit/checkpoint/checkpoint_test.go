package checkpoint

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/dtypes/bfloat16"
	"github.com/gomlx/compute/dtypes/float16"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
)

// TestMain runs the child-process roles of the lock and kill tests (see child_test.go).
func TestMain(m *testing.M) {
	if role := os.Getenv(childEnv); role != "" {
		runChild(role)
		return
	}
	os.Exit(m.Run())
}

type testModel struct {
	Arch       string  `json:"arch"`
	LeakySlope float64 `json:"leaky_slope"`
}

type testMeta struct {
	Model   testModel `json:"model"`
	Classes []string  `json:"classes"`
	Step    int64     `json:"step"`
}

var meta0 = testMeta{Model: testModel{Arch: "vgg11", LeakySlope: 0.2}, Classes: []string{"cat", "dog"}, Step: 42}

// newStore holds variables of several dtypes, one of them empty, two not trainable.
func newStore(t testing.TB) *model.Store {
	s := model.NewStore()
	add := func(path string, v *tensors.Tensor, trainable bool) {
		t.Helper()
		variable, err := s.CreateVariable(path, v)
		if err != nil {
			t.Fatal(err)
		}
		variable.SetTrainable(trainable)
	}
	add("/conv/weights", tensors.FromFlatDataAndDimensions([]float32{.5, -1, 2, 3.25, 4, -5}, 2, 3), true)
	add("/conv/bias", tensors.FromValue([]float64{0.125, 1e-300, -7}), true)
	add("/bn/scale", tensors.FromValue(bfloat16.FromFloat32s(1, 0.5, -2, 3)), true)
	add("/bn/shift", tensors.FromFlatDataAndDimensions(float16.FromFloat32s(0.25, -0.5, 8, 1), 2, 2), true)
	add("/optimizer/step", tensors.FromScalar(int64(1234)), false)
	add("/rng/state", tensors.FromValue([]uint64{1, 1 << 63, 99}), false)
	add("/mask", tensors.FromValue([]bool{true, false, true}), true)
	add("/empty", tensors.FromShape(shapes.Make(dtypes.Float32, 0, 4)), true)
	return s
}

func setValue(t testing.TB, v *model.Variable, value *tensors.Tensor) {
	t.Helper()
	if err := v.SetValue(value); err != nil {
		t.Fatal(err)
	}
}

func rawBytes(t testing.TB, v *model.Variable) []byte {
	t.Helper()
	var b []byte
	if err := v.MustValue().ConstBytes(func(data []byte) { b = slices.Clone(data) }); err != nil {
		t.Fatal(err)
	}
	return b
}

// sameStores checks that got has every variable of want, same shape, Trainable and bytes.
func sameStores(t *testing.T, want, got *model.Store) {
	t.Helper()
	if want.NumVariables() != got.NumVariables() {
		t.Errorf("%d variables, want %d", got.NumVariables(), want.NumVariables())
	}
	for w := range want.IterVariables() {
		g := got.GetVariable(w.Path())
		switch {
		case g == nil:
			t.Errorf("variable %s missing", w.Path())
		case !g.Shape().Equal(w.Shape()) || g.Trainable != w.Trainable:
			t.Errorf("variable %s: %s trainable=%v, want %s trainable=%v", w.Path(), g.Shape(), g.Trainable, w.Shape(), w.Trainable)
		case !bytes.Equal(rawBytes(t, g), rawBytes(t, w)):
			t.Errorf("variable %s: value %s, want %s", w.Path(), g.MustValue(), w.MustValue())
		}
	}
}

// saved saves newStore with meta0 in a new directory and returns the directory and file.
func saved(t testing.TB) (dir, file string) {
	t.Helper()
	dir = t.TempDir()
	if err := Save(dir, meta0, newStore(t)); err != nil {
		t.Fatal(err)
	}
	return dir, filepath.Join(dir, File)
}

// parts is a v2 file taken apart: the decoded header, its bytes, and the raw data.
type parts struct {
	h    header
	hdr  []byte
	data []byte
}

func split(t testing.TB, file string) parts {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	n := binary.LittleEndian.Uint64(b[len(magicV2):])
	p := parts{hdr: b[prefixLen : prefixLen+int64(n)], data: b[prefixLen+int64(n)+sumLen:]}
	if err := json.Unmarshal(p.hdr, &p.h); err != nil {
		t.Fatal(err)
	}
	return p
}

// entry returns the header entry of a variable.
func (p *parts) entry(t testing.TB, path string) *varEntry {
	for i := range p.h.Vars {
		if p.h.Vars[i].Path == path {
			return &p.h.Vars[i]
		}
	}
	t.Fatalf("no variable %s", path)
	return nil
}

// writeV2 writes a v2 file with header bytes hdr (checksummed) and raw data.
func writeV2(t testing.TB, file string, hdr, data []byte) {
	t.Helper()
	sum := sha256.Sum256(hdr)
	b := slices.Concat([]byte(magicV2), binary.LittleEndian.AppendUint64(nil, uint64(len(hdr))), hdr, sum[:], data)
	if err := os.WriteFile(file, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// rewrite writes p back with h re-encoded: valid checksums for whatever the test changed.
func (p *parts) rewrite(t testing.TB, file string) {
	t.Helper()
	for i, e := range p.h.Vars {
		p.h.Vars[i].SHA256 = hexSum(p.data[e.Offset : e.Offset+e.Length])
	}
	hdr, err := json.Marshal(p.h)
	if err != nil {
		t.Fatal(err)
	}
	writeV2(t, file, hdr, p.data)
}

// wantErr fails unless err is an error whose message holds every part.
func wantErr(t *testing.T, what string, err error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: no error, want one with %q", what, parts)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("%s: error %q lacks %q", what, err, p)
		}
	}
}

func tempFiles(t testing.TB, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, ".checkpoint-*.tmp"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestRoundTrip(t *testing.T) {
	orig := newStore(t)
	dir := t.TempDir()
	if err := Save(dir, meta0, orig); err != nil {
		t.Fatal(err)
	}
	if !Exists(dir) || !Exists(filepath.Join(dir, File)) || Exists(t.TempDir()) {
		t.Error("Exists is wrong")
	}
	if v, err := Version(dir); v != 2 || err != nil {
		t.Errorf("Version = %d, %v; want 2", v, err)
	}
	if left := tempFiles(t, dir); len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
	var m testMeta
	if err := ReadMeta(dir, &m); err != nil || !jsonEqual(m, meta0) {
		t.Fatalf("ReadMeta = %+v, %v; want %+v", m, err, meta0)
	}
	// The dtypes are named as gomlx's DType marshals them.
	if p := split(t, filepath.Join(dir, File)); !bytes.Contains(p.hdr, []byte(`"dtype":"BFloat16"`)) {
		t.Errorf("header %s: no BFloat16 dtype", p.hdr)
	}

	fresh := model.NewStore() // every variable created, Trainable kept
	m = testMeta{}
	if err := Load(dir, &m, fresh); err != nil || !jsonEqual(m, meta0) {
		t.Fatalf("Load = %+v, %v", m, err)
	}
	sameStores(t, orig, fresh)

	existing := newStore(t) // existing variables get their saved values
	setValue(t, existing.GetVariable("/conv/weights"), tensors.FromValue([][]float32{{9, 9, 9}, {9, 9, 9}}))
	if err := Load(filepath.Join(dir, File), nil, existing); err != nil {
		t.Fatal(err)
	}
	sameStores(t, orig, existing)
}

func jsonEqual(a, b any) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return bytes.Equal(ja, jb)
}

func TestLoadShapeMismatch(t *testing.T) {
	dir, _ := saved(t)
	s := model.NewStore()
	bias, _ := s.CreateVariable("/conv/bias", tensors.FromValue([]float64{1, 2, 3}))
	s.CreateVariable("/conv/weights", tensors.FromValue([]float32{1, 2}))
	err := Load(dir, nil, s)
	wantErr(t, "Load", err, "/conv/weights", "(Float32)[2, 3]", "(Float32)[2]", dir)
	if got := tensors.MustCopyFlatData[float64](bias.MustValue()); !slices.Equal(got, []float64{1, 2, 3}) {
		t.Errorf("failed Load changed /conv/bias to %v", got)
	}
}

func TestCorruptWeight(t *testing.T) {
	dir, file := saved(t)
	p := split(t, file)
	b, _ := os.ReadFile(file)
	off := int64(len(b)-len(p.data)) + p.entry(t, "/conv/bias").Offset
	b[off] ^= 1 // the lowest mantissa bit of 0.125: still finite
	os.WriteFile(file, b, 0o644)

	s := model.NewStore()
	weights, _ := s.CreateVariable("/conv/weights", tensors.FromValue([][]float32{{0, 0, 0}, {0, 0, 0}}))
	wantErr(t, "Load", Load(dir, nil, s), file, "/conv/bias", "checksum")
	if s.NumVariables() != 1 || slices.ContainsFunc(tensors.MustCopyFlatData[float32](weights.MustValue()),
		func(x float32) bool { return x != 0 }) {
		t.Error("a failed Load changed the store")
	}
	if err := ReadMeta(dir, &testMeta{}); err != nil {
		t.Errorf("ReadMeta of a file with a corrupt weight (intact header): %v", err)
	}
}

func TestCorruptHeader(t *testing.T) {
	_, file := saved(t)
	good, _ := os.ReadFile(file)
	i := bytes.Index(good, []byte(`"leaky_slope"`))
	if i < 0 {
		t.Fatal("no leaky_slope in the file")
	}
	b := slices.Clone(good)
	b[i+1] ^= 0x20 // "Leaky_slope": encoding/json would match it case-insensitively, strict or not
	os.WriteFile(file, b, 0o644)
	wantErr(t, "ReadMeta", ReadMeta(file, &testMeta{}), file, "header checksum")
	wantErr(t, "Load", Load(file, &testMeta{}, model.NewStore()), file, "header checksum")

	b = slices.Clone(good)
	n := binary.LittleEndian.Uint64(b[len(magicV2):])
	b[prefixLen+int64(n)+5] ^= 0x80 // in the stored checksum
	os.WriteFile(file, b, 0o644)
	wantErr(t, "ReadMeta (checksum flipped)", ReadMeta(file, &testMeta{}), file, "header checksum")
}

func TestStrictDecode(t *testing.T) {
	_, file := saved(t)
	p := split(t, file)
	extra, _ := json.Marshal(struct {
		testMeta
		Extra int `json:"extra_field"`
	}{meta0, 1})
	p.h.Meta = extra
	p.rewrite(t, file)
	wantErr(t, "ReadMeta", ReadMeta(file, &testMeta{}), file, "extra_field")
	wantErr(t, "Load", Load(file, &testMeta{}, model.NewStore()), file, "extra_field")

	q := split(t, file)
	for _, c := range []struct{ from, to, want string }{
		{`"trainable"`, `"trainabel"`, `unknown field "trainabel"`},   // a renamed field in a variable
		{`{"meta"`, `{"comment":1,"meta"`, `unknown field "comment"`}, // an unknown field at the top
		{`"meta"`, `"mota"`, `unknown field "mota"`},                  // the metadata renamed away
	} {
		writeV2(t, file, bytes.Replace(q.hdr, []byte(c.from), []byte(c.to), 1), q.data)
		wantErr(t, c.to, ReadMeta(file, &testMeta{}), file, c.want)
	}
}

func TestSaveRefusesNonFinite(t *testing.T) {
	for _, c := range []struct {
		name string
		bad  *tensors.Tensor
	}{
		{"f32 NaN", tensors.FromValue([]float32{1, 2, 3, float32(math.NaN()), 5})},
		{"f64 +Inf", tensors.FromValue([]float64{1, 2, 3, math.Inf(1)})},
		{"bf16 NaN", tensors.FromValue(bfloat16.FromFloat32s(1, 2, 3, float32(math.NaN())))},
		{"f16 -Inf", tensors.FromValue(float16.FromFloat32s(1, 2, 3, float32(math.Inf(-1))))},
		{"f16 overflow to Inf", tensors.FromValue(float16.FromFloat32s(1, 2, 3, 1e6))},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir, file := saved(t)
			before, _ := os.ReadFile(file)
			s := newStore(t)
			s.CreateVariable("/layer/bad", c.bad)
			wantErr(t, "Save", Save(dir, meta0, s), file, "/layer/bad", "index 3")
			if after, _ := os.ReadFile(file); !bytes.Equal(before, after) {
				t.Error("a refused Save changed the checkpoint")
			}
			if left := tempFiles(t, dir); len(left) > 0 {
				t.Errorf("a refused Save left %v", left)
			}
			newDir := filepath.Join(t.TempDir(), "new")
			if Save(newDir, meta0, s) == nil || Exists(newDir) {
				t.Error("a refused Save wrote a new checkpoint")
			}
		})
	}
}

func TestLoadRefusesNonFinite(t *testing.T) {
	for _, c := range []struct {
		path  string
		index int
		bits  []byte
		want  string
	}{
		{"/conv/weights", 4, binary.LittleEndian.AppendUint32(nil, math.Float32bits(float32(math.NaN()))), "NaN"},
		{"/bn/scale", 2, binary.LittleEndian.AppendUint16(nil, 0xff80), "-Inf"}, // bf16 -Inf
	} {
		t.Run(c.path, func(t *testing.T) {
			dir, file := saved(t)
			p := split(t, file)
			e := p.entry(t, c.path)
			copy(p.data[e.Offset+int64(c.index*len(c.bits)):], c.bits)
			p.rewrite(t, file) // checksums valid: only the value is wrong
			wantErr(t, "Load", Load(dir, &testMeta{}, model.NewStore()), file, c.path,
				fmt.Sprintf("index %d", c.index), c.want)
		})
	}
}

func TestMalformed(t *testing.T) {
	dir, file := saved(t)
	good, _ := os.ReadFile(file)
	check := func(what string, b []byte, want ...string) {
		t.Helper()
		os.WriteFile(file, b, 0o644)
		wantErr(t, what+": ReadMeta", ReadMeta(dir, &testMeta{}), append(want, file)...)
		wantErr(t, what+": Load", Load(dir, &testMeta{}, model.NewStore()), append(want, file)...)
	}
	for n := range len(good) { // every truncation
		check(fmt.Sprintf("truncated to %d bytes", n), good[:n])
	}
	check("trailing bytes", append(slices.Clone(good), 0), "truncated or corrupt")
	bad := slices.Clone(good)
	bad[0] = 'W'
	check("bad magic", bad, "bad magic")
	if _, err := Version(file); err == nil {
		t.Error("Version of a bad magic: no error")
	}
	for _, n := range []uint64{1 << 30, 1 << 62, math.MaxUint64} {
		b := slices.Clone(good)
		binary.LittleEndian.PutUint64(b[len(magicV2):], n)
		alloc := allocated(func() { check(fmt.Sprintf("header length %d", n), b, "header length") })
		if alloc > 16<<20 {
			t.Errorf("header length %d: %d bytes allocated", n, alloc)
		}
	}
	wantErr(t, "no checkpoint", Load(t.TempDir(), nil, model.NewStore()), File)
}

// TestBadVariables: headers with valid checksums but impossible variables.
func TestBadVariables(t *testing.T) {
	_, file := saved(t)
	good, _ := os.ReadFile(file)
	for _, c := range []struct {
		name string
		edit func(e *varEntry)
		want string
	}{
		{"1 GiB", func(e *varEntry) { e.Dims, e.Length = []int{1 << 28}, 1<<30 }, "beyond the end"},
		{"overflow", func(e *varEntry) { e.Dims = []int{1 << 40, 1 << 40} }, "does not match"},
		{"negative dim", func(e *varEntry) { e.Dims = []int{-2, -3} }, "does not match"},
		{"wrong length", func(e *varEntry) { e.Dims = []int{3} }, "does not match"},
		{"offset", func(e *varEntry) { e.Offset = 4 }, "offset"},
		{"packed dtype", func(e *varEntry) { e.DType = dtypes.Int4 }, "unsupported dtype Int4"},
		{"no checksum", func(e *varEntry) { e.SHA256 = "" }, "sha256"},
		{"bad path", func(e *varEntry) { e.Path = "" }, "bad path"},
		{"duplicate", func(e *varEntry) { e.Path = "/conv/bias" }, "appears twice"},
	} {
		os.WriteFile(file, good, 0o644)
		p := split(t, file)
		c.edit(&p.h.Vars[0])
		hdr, _ := json.Marshal(p.h)
		writeV2(t, file, hdr, p.data)
		alloc := allocated(func() {
			wantErr(t, c.name, Load(file, &testMeta{}, model.NewStore()), file, c.want)
		})
		if alloc > 16<<20 {
			t.Errorf("%s: %d bytes allocated", c.name, alloc)
		}
	}
}

// allocated returns the bytes f allocates.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

func TestLockRemovesStaleTemps(t *testing.T) {
	dir, file := saved(t)
	stale := filepath.Join(dir, ".checkpoint-123.tmp")
	other := filepath.Join(dir, "notes.tmp")
	os.WriteFile(stale, []byte("half a save"), 0o644)
	os.WriteFile(other, nil, 0o644)
	release, err := Lock(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !errors.Is(err, os.ErrNotExist) {
		t.Error("Lock left the stale temporary file")
	}
	if !Exists(file) || !fileExists(other) {
		t.Error("Lock removed more than the temporary files")
	}
	holder, _ := os.ReadFile(filepath.Join(dir, lockFile))
	if !strings.HasPrefix(string(holder), strconv.Itoa(os.Getpid())+"\n") {
		t.Errorf("lock file holds %q, want our PID first", holder)
	}
	if err := release(); err != nil {
		t.Fatal(err)
	}
	if err := release(); err != nil {
		t.Errorf("second release: %v", err)
	}
}

func fileExists(name string) bool {
	_, err := os.Stat(name)
	return err == nil
}

func TestLockExcludesOtherProcess(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	release, err := Lock(dir)
	if err != nil {
		t.Fatal(err)
	}
	code, out := child(t, "lock", dir)
	if code != childLocked {
		t.Fatalf("child Lock while we hold it: exit %d, output %q; want ErrLocked", code, out)
	}
	wantErr(t, "child's Lock", errors.New(out), dir, "process "+strconv.Itoa(os.Getpid())+" ", os.Args[0])
	if err := release(); err != nil {
		t.Fatal(err)
	}
	if code, out := child(t, "lock", dir); code != 0 {
		t.Fatalf("child Lock after release: exit %d, output %q", code, out)
	}
}

func TestReadV1(t *testing.T) {
	orig := newStore(t)
	dir := t.TempDir()
	m := v1Meta{Dataset: "cifar10", Step: 7, Classes: []string{"a", "b"}}
	if err := saveV1(dir, m, orig); err != nil {
		t.Fatal(err)
	}
	if v, err := Version(dir); v != 1 || err != nil {
		t.Fatalf("Version = %d, %v; want 1", v, err)
	}
	wantErr(t, "Load of v1", Load(dir, nil, model.NewStore()), "ReadV1")
	s := model.NewStore()
	raw, err := ReadV1(dir, s)
	if err != nil {
		t.Fatal(err)
	}
	var got v1Meta
	if err := decodeStrict(raw, &got); err != nil || !jsonEqual(got, m) {
		t.Errorf("ReadV1 metadata %s (%v), want %+v without vars", raw, err, m)
	}
	sameStores(t, orig, s)

	_, v2 := saved(t)
	if _, err := ReadV1(v2, model.NewStore()); err == nil {
		t.Error("ReadV1 of a v2 file: no error")
	}
	setValue(t, orig.GetVariable("/conv/bias"), tensors.FromValue([]float64{1, math.NaN(), 3}))
	saveV1(dir, m, orig)
	_, err = ReadV1(dir, model.NewStore())
	wantErr(t, "ReadV1 with NaN", err, "/conv/bias", "index 1")
}

func FuzzReadMeta(f *testing.F) {
	_, file := saved(f)
	good, _ := os.ReadFile(file)
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add([]byte(magicV2 + "\x02\x00\x00\x00\x00\x00\x00\x00{}"))
	f.Add([]byte(magicV1 + "\x02\x00\x00\x00\x00\x00\x00\x00{}"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, b := range [][]byte{b, reseal(b)} {
			r := bytes.NewReader(b)
			var m testMeta
			_ = readMeta(r, r.Size(), "fuzz", &m)
			_ = load(r, r.Size(), "fuzz", &m, model.NewStore())
			_, _ = readV1(r, r.Size(), "fuzz", model.NewStore())
		}
	})
}

// reseal returns b with its header checksum made valid, when its header length fits, so that
// the fuzzer gets past the checksum to the JSON and the layout checks.
func reseal(b []byte) []byte {
	if int64(len(b)) < prefixLen+sumLen {
		return b
	}
	n := binary.LittleEndian.Uint64(b[len(magicV2):])
	if n > uint64(int64(len(b))-prefixLen-sumLen) {
		return b
	}
	b = slices.Clone(b)
	sum := sha256.Sum256(b[prefixLen : prefixLen+int64(n)])
	copy(b[prefixLen+int64(n):], sum[:])
	return b
}
