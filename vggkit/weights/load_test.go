package weights

import (
	"archive/zip"
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vggkit/vggkit/vggkit/config"
)

// writeSafetensors writes rs as an F32 safetensors file (I64 for integer tensors).
func writeSafetensors(t *testing.T, path string, rs map[string]raw) {
	t.Helper()
	header := map[string]any{}
	var data []byte
	for _, name := range sortedNames(rs) {
		r := rs[name]
		start, dtype := len(data), "F32"
		if r.i64 != nil {
			dtype = "I64"
			for _, v := range r.i64 {
				data = binary.LittleEndian.AppendUint64(data, uint64(v))
			}
		} else {
			for _, v := range r.f32 {
				data = binary.LittleEndian.AppendUint32(data, math.Float32bits(v))
			}
		}
		header[name] = map[string]any{"dtype": dtype, "shape": r.dims, "data_offsets": []int{start, len(data)}}
	}
	h, err := json.Marshal(header)
	if err != nil {
		t.Fatal(err)
	}
	out := binary.LittleEndian.AppendUint64(nil, uint64(len(h)))
	if err := os.WriteFile(path, append(append(out, h...), data...), 0o644); err != nil {
		t.Fatal(err)
	}
}

func readRef(t *testing.T, path string) map[string]raw {
	t.Helper()
	rs, _, err := readRaw(path)
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

// wantErr fails unless err holds every fragment.
func wantErr(t *testing.T, err error, fragments ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want one with %q", fragments)
	}
	for _, f := range fragments {
		if !strings.Contains(err.Error(), f) {
			t.Errorf("error %q does not say %q", err, f)
		}
	}
}

func TestLoadRefusesBadTensors(t *testing.T) {
	r := makeRefs(t)
	c := r.get(t, "bn_gap")
	dir := t.TempDir()
	for _, tc := range []struct {
		name   string
		change func(rs map[string]raw)
		want   []string
	}{
		{"wrong shape", func(rs map[string]raw) {
			rs["features.4.weight"] = raw{dims: []int{16, 16, 3, 3}, f32: make([]float32, 16*16*9)}
		}, []string{"features.4.weight", "[16 16 3 3]", "wants [16 8 3 3]"}},
		{"missing", func(rs map[string]raw) { delete(rs, "features.1.running_var") }, []string{"features.1.running_var is missing"}},
		{"unknown", func(rs map[string]raw) { rs["features.99.weight"] = raw{dims: []int{1}, f32: []float32{1}} }, []string{"features.99.weight", "no place"}},
		{"integers", func(rs map[string]raw) { rs["classifier.0.bias"] = raw{dims: []int{7}, i64: make([]int64, 7)} }, []string{"classifier.0.bias holds integers"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rs := readRef(t, c.Files["st"])
			tc.change(rs)
			path := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_")+".safetensors")
			writeSafetensors(t, path, rs)
			_, err := Load(path, c.model())
			wantErr(t, err, append(tc.want, path)...)
		})
	}
}

func TestReadRefusesDamagedFiles(t *testing.T) {
	r := makeRefs(t)
	c := r.get(t, "bn_gap")
	dir := t.TempDir()
	for _, f := range sortedNames(c.Files) {
		b, err := os.ReadFile(c.Files[f])
		if err != nil {
			t.Fatal(err)
		}
		for _, cut := range []int{len(b) / 2, len(b) - 1000, len(b) - 100, len(b) - 4, len(b) - 1, 20, 3} {
			path := filepath.Join(dir, f+".cut")
			if err := os.WriteFile(path, b[:cut], 0o644); err != nil {
				t.Fatal(err)
			}
			_, _, err := Read(path)
			if err == nil {
				t.Errorf("%s cut to %d of %d bytes: read without error", f, cut, len(b))
				continue
			}
			if !strings.Contains(err.Error(), path) {
				t.Errorf("%s cut to %d: error %q does not name the file", f, cut, err)
			}
		}
	}
	// A safetensors header claiming more bytes than the file has.
	bad := filepath.Join(dir, "huge.safetensors")
	os.WriteFile(bad, append(binary.LittleEndian.AppendUint64(nil, 1<<40), '{', '}'), 0o644)
	_, _, err := Read(bad)
	wantErr(t, err, bad, "header of 1099511627776 bytes")
	// Offsets out of the data.
	bad = filepath.Join(dir, "offsets.safetensors")
	h := `{"x":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}`
	os.WriteFile(bad, append(append(binary.LittleEndian.AppendUint64(nil, uint64(len(h))), h...), make([]byte, 8)...), 0o644)
	_, _, err = Read(bad)
	wantErr(t, err, bad, "tensor x", "outside the 8 data bytes")
	// Neither format.
	bad = filepath.Join(dir, "text.pth")
	os.WriteFile(bad, []byte("hello, this is not a tensor file"), 0o644)
	_, _, err = Read(bad)
	wantErr(t, err, bad, "neither a PyTorch .pth")
}

// TestLoadHeads: a classic head for 10 classes loads whole into the same model, without
// its last layer into a model of other classes, and not at all into a GAP-head model.
func TestLoadHeads(t *testing.T) {
	r := makeRefs(t)
	c := r.get(t, "plain_classic")
	images, err := os.ReadFile(filepath.Join(r.dir, c.Name+".images"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name          string
		change        func(m *config.Model)
		fresh, unused []string
	}{
		{"other classes", func(m *config.Model) { m.Classes = 3 },
			[]string{"classifier/6/dense/weights", "classifier/6/dense/biases"}, []string{"classifier.6.bias", "classifier.6.weight"}},
		{"gap head", func(m *config.Model) { m.Head = config.HeadGAP },
			[]string{"classifier/0/dense/weights", "classifier/0/dense/biases"},
			[]string{"classifier.0.bias", "classifier.0.weight", "classifier.3.bias", "classifier.3.weight", "classifier.6.bias", "classifier.6.weight"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := c.model()
			tc.change(&m)
			l, err := Load(c.Files["zip"], m)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(l.Fresh, tc.fresh) || !slices.Equal(l.Unused, tc.unused) {
				t.Errorf("fresh %v unused %v, want %v and %v", l.Fresh, l.Unused, tc.fresh, tc.unused)
			}
			for _, p := range l.Fresh {
				if l.Vars[p] != nil {
					t.Errorf("fresh %s is loaded too", p)
				}
			}
			if got := forward(t, m, l.Vars, images, c.Size); len(got) != 2*m.Classes {
				t.Errorf("%d logits, want %d", len(got), 2*m.Classes)
			}
		})
	}
}

// TestFullWidthNames: torchvision's own vgg11 and vgg11_bn (num_classes=10) state dicts
// have exactly the names and shapes vggkit maps, at full width.
func TestFullWidthNames(t *testing.T) {
	r := makeRefs(t)
	for name, sd := range r.Full {
		arch, bn := strings.CutSuffix(name, "_bn")
		m := config.Model{Arch: arch, BatchNorm: bn, Head: config.HeadClassic, Classes: 10}.Resolve()
		ps, err := params(m, 3)
		if err != nil {
			t.Fatal(err)
		}
		mapped := map[string][]int{}
		for _, p := range ps {
			if p.torch != "" {
				mapped[p.torch] = p.from
			}
		}
		for k, shape := range sd {
			if strings.HasSuffix(k, ".num_batches_tracked") {
				continue
			}
			if !slices.Equal(mapped[k], shape) {
				t.Errorf("%s: torchvision's %s %v, vggkit maps %v", name, k, shape, mapped[k])
			}
			delete(mapped, k)
		}
		if len(mapped) > 0 {
			t.Errorf("%s: vggkit maps tensors torchvision lacks: %v", name, mapped)
		}
	}
	if len(r.Full) != 2 {
		t.Errorf("%d full-width models, want 2", len(r.Full))
	}
}

// TestReadBF16: a bf16 safetensors file reads as the f32 one rounded to bf16.
func TestReadBF16(t *testing.T) {
	c := makeRefs(t).get(t, "bn_gap")
	f32, bf := readRef(t, c.Files["st"]), readRef(t, c.Files["bf16"])
	for name, r := range f32 {
		b := bf[name]
		if !slices.Equal(r.dims, b.dims) {
			t.Fatalf("%s: %v vs %v", name, r.dims, b.dims)
		}
		for i, v := range r.f32 {
			if d := math.Abs(float64(v - b.f32[i])); d > math.Abs(float64(v))/128 {
				t.Fatalf("%s[%d]: bf16 %g, f32 %g", name, i, b.f32[i], v)
			}
		}
	}
	if bf["features.1.num_batches_tracked"].i64[0] != 123 {
		t.Errorf("num_batches_tracked %v, want 123", bf["features.1.num_batches_tracked"].i64)
	}
}

func TestImageNetClasses(t *testing.T) {
	names := ImageNetClasses()
	if len(names) != 1000 {
		t.Fatalf("%d classes, want 1000", len(names))
	}
	for i, want := range map[int]string{0: "tench", 1: "goldfish", 281: "tabby", 999: "toilet tissue"} {
		if names[i] != want {
			t.Errorf("class %d is %q, want %q", i, names[i], want)
		}
	}
}

// A .pth whose pickle declares a storage of 10^12 floats (a corrupt or hostile size
// field) is refused before anything is allocated: gopickle makes each storage at its
// declared size first, and asking for 4 TB killed the process.
func TestReadRefusesStorageLargerThanFile(t *testing.T) {
	str := func(s string) []byte {
		return append(append([]byte{'X'}, binary.LittleEndian.AppendUint32(nil, uint32(len(s)))...), s...)
	}
	var p []byte
	add := func(b ...[]byte) {
		for _, x := range b {
			p = append(p, x...)
		}
	}
	// {"w": torch._utils._rebuild_tensor_v2(PERSID(("storage", torch.FloatStorage, "0",
	// "cpu", 10**12)), 0, (4,), (1,), False, OrderedDict())}, pickle protocol 2.
	add([]byte("\x80\x02}"), str("w"), []byte("ctorch._utils\n_rebuild_tensor_v2\n(("), str("storage"),
		[]byte("ctorch\nFloatStorage\n"), str("0"), str("cpu"),
		[]byte("\x8a\x06\x00\x10\xa5\xd4\xe8\x00tQK\x00K\x04\x85K\x01\x85\x89ccollections\nOrderedDict\n)RtRs."))
	path := filepath.Join(t.TempDir(), "huge.pth")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	z := zip.NewWriter(f)
	for name, data := range map[string][]byte{"huge/data.pkl": p, "huge/data/0": make([]byte, 16), "huge/version": []byte("3\n")} {
		w, err := z.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Store})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(data)
	}
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	_, _, err = Read(path)
	wantErr(t, err, path, "storage 0 declares 1000000000000 elements of 4 bytes", "holds 16 bytes")
}
