package vgg

import (
	"fmt"
	"strings"
	"text/tabwriter"
)

// Layer is one row of a model summary.
type Layer struct {
	Name   string // e.g. "features.0 conv3x3"
	Shape  []int  // output H, W, C (or just C for dense layers)
	Params int64  // trainable parameters
	MACs   int64  // multiply-adds per image, forward
}

// Summary lists each layer's output shape, parameter count and multiply-adds for one image,
// computed from the config table (the tutorial wrote shapes as comments: 224x224x64).
// Parameter counts follow torchvision: conv/linear weights and biases, batch-norm scale and shift.
type Summary struct {
	Config Config
	Layers []Layer
}

// Summarize computes the summary of c.
func Summarize(c Config) (*Summary, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	s := &Summary{Config: c}
	h, w, ch := c.InputSize, c.InputSize, 3
	s.Layers = append(s.Layers, Layer{Name: "input", Shape: []int{h, w, ch}})
	for i, v := range Cfgs[c.Arch] {
		if v == M {
			h, w = h/2, w/2
			s.Layers = append(s.Layers, Layer{Name: fmt.Sprintf("features.%d maxpool2x2", i), Shape: []int{h, w, ch}})
			continue
		}
		out := c.Channels(v)
		params := int64(9*ch*out + out)
		name := fmt.Sprintf("features.%d conv3x3", i)
		if c.BatchNorm {
			params += int64(2 * out)
			name += "+bn"
		}
		s.Layers = append(s.Layers, Layer{Name: name + "+" + c.Activation, Shape: []int{h, w, out}, Params: params,
			MACs: int64(h*w) * int64(9*ch*out)})
		ch = out
	}
	switch c.Head {
	case HeadGAP:
		s.Layers = append(s.Layers, Layer{Name: "avgpool global", Shape: []int{ch}})
		s.Layers = append(s.Layers, Layer{Name: "classifier linear", Shape: []int{c.Classes},
			Params: int64(ch*c.Classes + c.Classes), MACs: int64(ch * c.Classes)})
	case HeadClassic:
		s.Layers = append(s.Layers, Layer{Name: "avgpool adaptive 7x7", Shape: []int{7, 7, ch}})
		in := 7 * 7 * ch
		hidden := c.Channels(4096)
		for k, out := range []int{hidden, hidden, c.Classes} {
			name := fmt.Sprintf("classifier.%d linear", 3*k)
			if k < 2 {
				name += "+relu+dropout"
			}
			s.Layers = append(s.Layers, Layer{Name: name, Shape: []int{out}, Params: int64(in*out + out), MACs: int64(in * out)})
			in = out
		}
	}
	return s, nil
}

// TotalParams is the sum of trainable parameters.
func (s *Summary) TotalParams() int64 {
	var n int64
	for _, l := range s.Layers {
		n += l.Params
	}
	return n
}

// TotalMACs is the forward multiply-adds for one image (torchvision's "GFLOPS" are these).
func (s *Summary) TotalMACs() int64 {
	var n int64
	for _, l := range s.Layers {
		n += l.MACs
	}
	return n
}

// FeatureShape is the shape of the last feature map (H, W, C), before the head.
func (s *Summary) FeatureShape() []int {
	for i := len(s.Layers) - 1; i >= 0; i-- {
		if strings.HasPrefix(s.Layers[i].Name, "features.") {
			return s.Layers[i].Shape
		}
	}
	return nil
}

// String renders the summary as a table.
func (s *Summary) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s, %d classes, input %dx%dx3\n", s.Config.Name(), s.Config.Classes, s.Config.InputSize, s.Config.InputSize)
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "layer\toutput\tparams\tMACs\t")
	for _, l := range s.Layers {
		dims := make([]string, len(l.Shape))
		for i, d := range l.Shape {
			dims[i] = fmt.Sprint(d)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t\n", l.Name, strings.Join(dims, "x"), commas(l.Params), commas(l.MACs))
	}
	fmt.Fprintf(tw, "total\t\t%s\t%s\t\n", commas(s.TotalParams()), commas(s.TotalMACs()))
	tw.Flush()
	return b.String()
}

// commas formats 138357544 as 138,357,544.
func commas(n int64) string {
	s := fmt.Sprint(n)
	var out []byte
	for i := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	return string(out)
}
