package weights

// Layout conversions from PyTorch's tensors (row-major, given with their PyTorch dims)
// to vggkit's.

func same(src []float32, _ []int) []float32 { return src }

// oihwToHWIO turns a conv kernel [Cout,Cin,kH,kW] into GoMLX's channels-last [kH,kW,Cin,Cout].
func oihwToHWIO(src []float32, d []int) []float32 {
	o, i, h, w := d[0], d[1], d[2], d[3]
	dst := make([]float32, len(src))
	for a := range o {
		for b := range i {
			for y := range h {
				for x := range w {
					dst[((y*w+x)*i+b)*o+a] = src[((a*i+b)*h+y)*w+x]
				}
			}
		}
	}
	return dst
}

// transpose turns a Linear's [out,in] into layers.Dense's [in,out].
func transpose(src []float32, d []int) []float32 {
	o, i := d[0], d[1]
	dst := make([]float32, len(src))
	for a := range o {
		for b := range i {
			dst[b*o+a] = src[a*i+b]
		}
	}
	return dst
}

// flattenCHWtoHWC transposes classifier.0 ([out, C*7*7], inputs in C,H,W order) into
// [7*7*C, out] with inputs in the H,W,C order of vggkit's flattened feature map.
func flattenCHWtoHWC(c int) func([]float32, []int) []float32 {
	return func(src []float32, d []int) []float32 {
		o, hw := d[0], d[1]/c
		dst := make([]float32, len(src))
		for a := range o {
			for ch := range c {
				for p := range hw {
					dst[(p*c+ch)*o+a] = src[a*d[1]+ch*hw+p]
				}
			}
		}
		return dst
	}
}
