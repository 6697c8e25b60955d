package training

import (
	"fmt"

	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/layers/activation"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/vggkit/vggkit/vggkit/data"
	"github.com/vggkit/vggkit/vggkit/vgg"
)

// CAM methods: which one a model gets depends on its head.
const (
	MethodCAM     = "CAM"      // GAP head: the classifier's weights over the last feature map.
	MethodGradCAM = "Grad-CAM" // classic head: the feature map weighted by its mean gradient.
)

// CAM is one image's class activation map: where in the image the evidence for a class
// lies, at the resolution of the last convolution, before the final pool (twice the
// trunk output's; Upsample brings it to the image's).
type CAM struct {
	Map    []float32 // H*W, row-major, ReLU'd (only evidence for the class is kept).
	H, W   int
	Class  int     // the class the map is for.
	Prob   float64 // the model's softmax probability of Class.
	Pred   int     // the predicted class (Class unless another was asked for).
	Method string  // MethodCAM or MethodGradCAM.
}

// CAM computes a class activation map for every image of the set, in evaluation mode:
// CAM (Zhou et al. 2016) on the GAP head, sum_c w[c,k] A[h,w,c]; Grad-CAM (Selvaraju et
// al. 2017) on the classic head, ReLU(sum_c alpha_c A) with alpha_c the mean over h, w
// of d logit_k / d A. classes is nil (the predicted class of each image) or holds one
// class per image, -1 meaning the predicted one.
func (l *Learner) CAM(set *data.Set, classes []int) ([]CAM, error) {
	return l.cams(set, classes, l.Config.Model.Head != vgg.HeadGAP)
}

// cams is CAM with the method chosen: Grad-CAM works on either head (on the GAP head it
// is CAM divided by h*w, which the tests use to check the gradient path).
func (l *Learner) cams(set *data.Set, classes []int, grad bool) ([]CAM, error) {
	k := l.Config.Model.Classes
	if classes != nil && len(classes) != set.Len() {
		return nil, fmt.Errorf("CAM: %d classes for %d images: want one per image, or none", len(classes), set.Len())
	}
	for i, c := range classes {
		if c < -1 || c >= k {
			return nil, fmt.Errorf("CAM: class %d for image %d: the model has classes 0..%d (-1: predicted)", c, i, k-1)
		}
	}
	e, err := l.camExec(grad)
	if err != nil {
		return nil, err
	}
	method := MethodCAM
	if grad {
		method = MethodGradCAM
	}
	out := make([]CAM, 0, set.Len())
	err = l.eachPadded(set, func(t *tensors.Tensor, n int) error {
		cls := make([]int32, t.Shape().Dimensions[0])
		for i := range cls {
			cls[i] = -1
			if j := len(out) + i; i < n && classes != nil {
				cls[i] = int32(classes[j])
			}
		}
		res, err := e.Call(t, tensors.FromValue(cls))
		t.FinalizeAll()
		if err != nil {
			return err
		}
		out = append(out, camsOf(res, n, method)...)
		return nil
	})
	return out, err
}

// camsOf unpacks the first n images of a batch's outputs: maps [B,h,w], probabilities
// [B,K], the class of each map and the predicted class [B].
func camsOf(res []*tensors.Tensor, n int, method string) []CAM {
	defer func() {
		for _, r := range res {
			r.FinalizeAll()
		}
	}()
	d := res[0].Shape().Dimensions
	h, w, k := d[1], d[2], res[1].Shape().Dimensions[1]
	maps := tensors.MustCopyFlatData[float32](res[0])
	probs := tensors.MustCopyFlatData[float32](res[1])
	cls := tensors.MustCopyFlatData[int32](res[2])
	pred := tensors.MustCopyFlatData[int32](res[3])
	out := make([]CAM, n)
	for i := range out {
		c := int(cls[i])
		out[i] = CAM{Map: maps[i*h*w : (i+1)*h*w], H: h, W: w, Class: c, Prob: float64(probs[i*k+c]),
			Pred: int(pred[i]), Method: method}
	}
	return out
}

// camExec is the compiled graph of images [B,H,W,C] uint8 and classes [B] int32 (-1:
// predicted) to maps, probabilities, classes and predictions (camsOf).
func (l *Learner) camExec(grad bool) (*model.Exec, error) {
	if e := l.camExecs[grad]; e != nil {
		return e, nil
	}
	cfg := l.Config.Model
	e, err := model.NewExec(l.Backend.Backend, l.store, func(scope *model.Scope, images, classes *Node) []*Node {
		ms := scope.In("model")
		logits, feats := vgg.BuildLastConv(ms, cfg, l.ops, images)
		pred := ArgMax(logits, -1)
		cls := Where(LessThan(classes, ScalarZero(classes.Graph(), dtypes.Int32)), pred, classes)
		onehot := OneHot(cls, cfg.Classes, dtypes.Float32)
		var m *Node
		if grad {
			m = gradCAM(logits, feats, onehot)
		} else {
			m = classCAM(l.store.GetVariable(modelScope+"classifier/0/dense/weights"), feats, onehot)
		}
		return []*Node{activation.Relu(m), Softmax(logits, -1), cls, pred}
	})
	if err != nil {
		return nil, err
	}
	if l.camExecs == nil {
		l.camExecs = map[bool]*model.Exec{}
	}
	l.camExecs[grad] = e
	return e, nil
}

// classCAM is sum_c w[c,k] A[b,h,w,c] for each image's class k (onehot [B,K]), with w
// the GAP head's dense weights [C,K] (its bias shifts every position alike: left out).
func classCAM(v *model.Variable, feats, onehot *Node) *Node {
	if v == nil {
		panic("CAM: the GAP head has no classifier/0/dense/weights")
	}
	d := feats.Shape().Dimensions
	wk := Einsum("ck,bk->bc", v.NodeValue(feats.Graph()), onehot)
	return ReduceSum(Mul(feats, Reshape(wk, d[0], 1, 1, d[3])), -1)
}

// gradCAM is sum_c alpha_c A[b,h,w,c], alpha_c the spatial mean of d logit_k / d A. The
// images of a batch are independent in evaluation mode, so the gradient of the sum of
// their class scores gives each image its own.
func gradCAM(logits, feats, onehot *Node) *Node {
	score := ReduceAllSum(Mul(logits, onehot))
	alpha := ReduceMean(Gradient(score, feats)[0], 1, 2) // [B,C]
	d := feats.Shape().Dimensions
	return ReduceSum(Mul(feats, Reshape(alpha, d[0], 1, 1, d[3])), -1)
}

// Upsample returns the map resized to h x w by bilinear interpolation with half-pixel
// centres (feature cell i covers image rows i*h/H .. (i+1)*h/H, as pooling made it), for
// overlays and for measuring where its mass lies.
func (c CAM) Upsample(h, w int) []float32 {
	out := make([]float32, h*w)
	for y := range h {
		y0, y1, fy := axisWeights(y, h, c.H)
		for x := range w {
			x0, x1, fx := axisWeights(x, w, c.W)
			top := (1-fx)*c.Map[y0*c.W+x0] + fx*c.Map[y0*c.W+x1]
			bot := (1-fx)*c.Map[y1*c.W+x0] + fx*c.Map[y1*c.W+x1]
			out[y*w+x] = (1-fy)*top + fy*bot
		}
	}
	return out
}

// axisWeights maps output index i of n to the two source cells of m it lies between
// and the weight of the second, clamped at the borders.
func axisWeights(i, n, m int) (lo, hi int, f float32) {
	s := (float32(i)+0.5)*float32(m)/float32(n) - 0.5
	s = min(max(s, 0), float32(m-1))
	lo = int(s)
	hi = min(lo+1, m-1)
	return lo, hi, s - float32(lo)
}
