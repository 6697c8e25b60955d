package backend

import (
	"github.com/vggkit/vggkit/vggkit/backend/fastops"
	"github.com/vggkit/vggkit/vggkit/config"
	"github.com/vggkit/vggkit/vggkit/vgg"
)

// Ops are the forms of VGG's primitives measured fastest on this backend (see
// fastops.For): im2col convolutions on the pure-Go backend, native and im2col mixed on XLA
// CPU (native wherever vggkit's kernels take them), native on GPUs. $VGGKIT_CONV
// ("native", "im2col", "hybrid") forces the convolutions' form, for benchmarks.
func (c *Choice) Ops() vgg.Ops {
	p := fastops.XLAGPU
	switch {
	case c.IsGo():
		p = fastops.Go
	case c.IsXLACPU():
		p = fastops.XLACPU
		if on, _ := c.CPUKernels(); on {
			p = fastops.XLACPUKernels
		}
	}
	return fastops.For(p, fastops.Conv(config.Env().Conv))
}
