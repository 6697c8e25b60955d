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
