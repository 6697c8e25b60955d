package backend

import (
	"reflect"
	"testing"

	"github.com/vggkit/vggkit/vggkit/backend/fastops"
	"github.com/vggkit/vggkit/vggkit/config"
)

// The pure-Go backend gets its im2col forms; $VGGKIT_CONV forces another convolution.
func TestOpsFollowBackendAndEnv(t *testing.T) {
	t.Setenv(EnvVar, "go")
	same := func(a, b any) bool { return reflect.ValueOf(a).Pointer() == reflect.ValueOf(b).Pointer() }
	for conv, want := range map[string]any{"": fastops.Im2ColConv3x3, "hybrid": fastops.HybridConv3x3, "native": fastops.NativeConv3x3} {
		t.Setenv(config.EnvConv, conv)
		c, err := New()
		if err != nil {
			t.Fatal(err)
		}
		ops := c.Ops()
		if !same(ops.Conv3x3, want) || !same(ops.AddBias, fastops.AddBiasMatmulGradient) || !ops.DecomposedBatchNorm {
			t.Errorf("%s=%q on the pure-Go backend: ops %+v", config.EnvConv, conv, ops)
		}
	}
}

// On XLA CPU the hybrid form follows vggkit's kernels: native on the small maps they take
// when they are registered, im2col there otherwise.
func TestXLACPUOpsFollowKernels(t *testing.T) {
	xlaCPU(t)
	same := func(a, b any) bool { return reflect.ValueOf(a).Pointer() == reflect.ValueOf(b).Pointer() }
	c, err := New()
	if err != nil {
		t.Fatal(err)
	}
	want := any(fastops.HybridConv3x3)
	if on, _ := c.CPUKernels(); on {
		want = fastops.HybridKernelsConv3x3
	}
	if !same(c.Ops().Conv3x3, want) {
		t.Error("XLA CPU: Ops().Conv3x3 is not the hybrid form that matches its kernels")
	}
	t.Setenv(CPUKernelsEnvVar, "0")
	if c, err = New(); err != nil {
		t.Fatal(err)
	}
	if !same(c.Ops().Conv3x3, fastops.HybridConv3x3) {
		t.Errorf("%s=0: Ops().Conv3x3 is not HybridConv3x3", CPUKernelsEnvVar)
	}
}
