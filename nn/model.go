package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"

	"github.com/awd-toolkit/awd/linalg"
)

// Arch describes a model; it is what a checkpoint's JSON records.
type Arch struct {
	Model   string `json:"model"`            // "mlp" or "cnn"
	In      [3]int `json:"input"`            // C, H, W of one input (an MLP's: 1, 1, its size)
	Widths  []int  `json:"widths,omitempty"` // MLP hidden widths
	Outputs int    `json:"outputs"`          // L, the number of logits
	// Image is, for an MLP, the C, H, W of the images its flat input was
	// built for (ModelSpec.Arch sets it from the data set), so that images
	// of another shape with as many pixels (14x56 for 28x28) are refused
	// (ImageShape). It is zero when not known: an MLP built from its size
	// alone (NewMLP, InferArch) or read from a checkpoint written before
	// it was recorded; then only the size is checked. A checkpoint's JSON
	// records it beside the arch (CheckpointMeta.Image), not in it, so
	// that the architecture reports compare (awd.Origin) stays the
	// network's alone, as in the reports written before.
	Image [3]int `json:"-"`
}

// ImageShape returns the C, H, W of the images the model was built for
// and whether they are known: a CNN's In, an MLP's Image when set.
func (a Arch) ImageShape() ([3]int, bool) {
	switch {
	case a.Model == "cnn":
		return a.In, true
	case a.Image != [3]int{}:
		return a.Image, true
	}
	return [3]int{}, false
}

// CNNFeatures is the `features` configuration of docs/math.md section 2: 3x3 convs
// (padding 1, bias) with these output channels, -1 a 2x2 max-pool.
var CNNFeatures = []int{32, -1, 64, -1, 128, 128, -1}

// CNN sizes after the features: fc 128 -> CNNHidden (no bias), ReLU, classifier.
const CNNHidden = 20

// Param is one tensor of the model in PyTorch's state_dict layout.
type Param struct {
	Name  string
	Shape []int
	Data  []float32
}

type layerKind int

const (
	kLinear layerKind = iota
	kConv
	kReLU
	kMaxPool
	kAvgPool
)

// layer is one module; weights live in Model.params (w, b are indices or -1).
type layer struct {
	kind    layerKind
	name    string // PyTorch module name (linear, conv)
	in, out int    // features or channels
	h, w    int    // input spatial size (conv, pools)
	wi, bi  int    // parameter indices, -1 when absent
}

// Model is an MLP or the CNN of docs/math.md section 2 with float32 parameters in
// PyTorch layout. Training runs in float32 (linalg.Gemm32); the per-sample
// quantities are computed in float64 from the same weights.
type Model struct {
	Arch   Arch
	layers []layer
	params []Param

	// nets64 keeps float64 networks between PerSample calls: their
	// buffers are large for the CNN, and fresh memory costs page faults.
	nets64 sync.Pool
}

// NewMLP returns the MLP in -> widths... -> outputs, ReLU, no biases, with
// layers fc1, fc2, ..., initialised as PyTorch does (see Init).
func NewMLP(in int, widths []int, outputs int, seed uint64) (*Model, error) {
	return NewModel(Arch{Model: "mlp", In: [3]int{1, 1, in}, Widths: widths, Outputs: outputs}, seed)
}

// NewCNN returns the CNN for c x h x w inputs with outputs logits.
func NewCNN(c, h, w, outputs int, seed uint64) (*Model, error) {
	return NewModel(Arch{Model: "cnn", In: [3]int{c, h, w}, Outputs: outputs}, seed)
}

// NewModel builds the model described by a, initialised from seed.
func NewModel(a Arch, seed uint64) (*Model, error) {
	m, err := buildModel(a)
	if err != nil {
		return nil, err
	}
	m.Init(seed)
	return m, nil
}

// maxParams bounds the total number of parameters of a model (2^28, 1 GiB
// of float32, as maxArray bounds one layer), so that a damaged or hostile
// checkpoint JSON is refused before anything is allocated.
const maxParams = 1 << 28

// checkArch checks a without allocating anything and returns the number of
// parameters of the model it describes.
func checkArch(a Arch) (int, error) {
	if a.Outputs < 1 || a.Outputs > maxArray {
		return 0, fmt.Errorf("model: %d outputs: give 1 to %d logits (one per class of the data)", a.Outputs, maxArray)
	}
	// Each factor and the first product are bounded before the next
	// multiplication, so the product cannot wrap around.
	if a.In[0] < 1 || a.In[1] < 1 || a.In[2] < 1 || a.In[0] > maxArray || a.In[1] > maxArray || a.In[2] > maxArray ||
		a.In[0]*a.In[1] > maxArray || a.In[0]*a.In[1]*a.In[2] > maxArray {
		return 0, fmt.Errorf("model: input shape %v: give channels, height and width of at least 1 each, with at most %d values in all", a.In, maxArray)
	}
	if im := a.Image; im != [3]int{} && (a.Model != "mlp" || !sizeIs(im, a.In[0]*a.In[1]*a.In[2])) {
		return 0, fmt.Errorf("model: image shape %v for a %s with input %v (an MLP's images have as many values as its input)", im, a.Model, a.In)
	}
	total := 0
	add := func(what string, n int) error {
		if n > maxArray {
			return fmt.Errorf("model: %s would have %d values, more than the %d (1 GiB of float32) awd holds in one layer: make the layer narrower", what, n, maxArray)
		}
		if total += n; total > maxParams {
			return fmt.Errorf("model: more than %d parameters (1 GiB of float32), the most awd builds: make the layers narrower or fewer", maxParams)
		}
		return nil
	}
	switch a.Model {
	case "mlp":
		in := a.In[0] * a.In[1] * a.In[2]
		for i, w := range a.Widths {
			if w < 1 || w > maxArray {
				return 0, fmt.Errorf("model: width %d of hidden layer %d: give 1 to %d units", w, i+1, maxArray)
			}
			if err := add(fmt.Sprintf("fc%d.weight", i+1), in*w); err != nil {
				return 0, err
			}
			in = w
		}
		return total, add(fmt.Sprintf("fc%d.weight", len(a.Widths)+1), in*a.Outputs)
	case "cnn":
		if len(a.Widths) != 0 {
			return 0, fmt.Errorf("model: the cnn takes no widths (got %v)", a.Widths)
		}
		c, h, w := a.In[0], a.In[1], a.In[2]
		for _, v := range CNNFeatures {
			if v < 0 {
				if h < 2 || w < 2 {
					return 0, fmt.Errorf("model: input %v too small for the cnn's pools", a.In)
				}
				h, w = h/2, w/2
				continue
			}
			if err := add("a convolution", v*c*9+v); err != nil {
				return 0, err
			}
			c = v
		}
		return total, add("the classifier", c*CNNHidden+CNNHidden*a.Outputs+a.Outputs)
	}
	return 0, fmt.Errorf("model: unknown kind %q (want mlp or cnn)", a.Model)
}

// sizeIs reports whether the C, H, W of shape are positive with product
// n, without overflow.
func sizeIs(shape [3]int, n int) bool {
	p := 1
	for _, v := range shape {
		if v < 1 || v > n {
			return false
		}
		p *= v
		if p > n {
			return false
		}
	}
	return p == n
}

func buildModel(a Arch) (*Model, error) {
	if _, err := checkArch(a); err != nil {
		return nil, err
	}
	a.Widths = slices.Clone(a.Widths)
	m := &Model{Arch: a}
	addParam := func(name string, shape ...int) int {
		n := 1
		for _, s := range shape {
			n *= s
		}
		m.params = append(m.params, Param{Name: name, Shape: shape, Data: make([]float32, n)})
		return len(m.params) - 1
	}
	linear := func(name string, in, out int, bias bool) {
		l := layer{kind: kLinear, name: name, in: in, out: out, bi: -1}
		l.wi = addParam(name+".weight", out, in)
		if bias {
			l.bi = addParam(name+".bias", out)
		}
		m.layers = append(m.layers, l)
	}
	relu := func() { m.layers = append(m.layers, layer{kind: kReLU, wi: -1, bi: -1}) }
	switch a.Model {
	case "mlp":
		in := a.In[0] * a.In[1] * a.In[2]
		for i, w := range a.Widths {
			linear("fc"+strconv.Itoa(i+1), in, w, false)
			relu()
			in = w
		}
		linear("fc"+strconv.Itoa(len(a.Widths)+1), in, a.Outputs, false)
	case "cnn":
		c, h, w := a.In[0], a.In[1], a.In[2]
		idx := 0
		for _, v := range CNNFeatures {
			if v < 0 {
				m.layers = append(m.layers, layer{kind: kMaxPool, in: c, out: c, h: h, w: w, wi: -1, bi: -1})
				h, w = h/2, w/2
				idx++
				continue
			}
			name := "features." + strconv.Itoa(idx)
			l := layer{kind: kConv, name: name, in: c, out: v, h: h, w: w}
			l.wi = addParam(name+".weight", v, c, 3, 3)
			l.bi = addParam(name+".bias", v)
			m.layers = append(m.layers, l)
			relu()
			c = v
			idx += 2
		}
		m.layers = append(m.layers, layer{kind: kAvgPool, in: c, out: c, h: h, w: w, wi: -1, bi: -1})
		linear("fc", c, CNNHidden, false)
		relu()
		linear("classifier", CNNHidden, a.Outputs, true)
	}
	return m, nil
}

// Init sets every parameter as PyTorch's default initialisation does for
// nn.Linear and nn.Conv2d (kaiming_uniform_ with a = sqrt(5)): weights and
// biases uniform in (-1/sqrt(fan_in), 1/sqrt(fan_in)), fan_in = in features
// (in channels * 9 for a conv). Values come from a PCG stream of seed, in
// state_dict order.
func (m *Model) Init(seed uint64) {
	r := rand.New(rand.NewPCG(seed, 0x1417))
	for _, l := range m.layers {
		if l.wi < 0 {
			continue
		}
		fanIn := l.in
		if l.kind == kConv {
			fanIn *= 9
		}
		bound := 1 / math.Sqrt(float64(fanIn))
		for _, pi := range []int{l.wi, l.bi} {
			if pi < 0 {
				continue
			}
			for i := range m.params[pi].Data {
				m.params[pi].Data[i] = float32((2*r.Float64() - 1) * bound)
			}
		}
	}
}

// Params returns the parameters in state_dict order, sharing storage.
func (m *Model) Params() []Param { return m.params }

// Param returns the parameter called name (e.g. "fc2.weight").
func (m *Model) Param(name string) (Param, bool) {
	for _, p := range m.params {
		if p.Name == name {
			return p, true
		}
	}
	return Param{}, false
}

// NumParams is the total number of parameters.
func (m *Model) NumParams() int {
	n := 0
	for _, p := range m.params {
		n += len(p.Data)
	}
	return n
}

// Clone returns a deep copy.
func (m *Model) Clone() *Model {
	c := &Model{Arch: m.Arch, layers: slices.Clone(m.layers), params: make([]Param, len(m.params))}
	c.nets64 = sync.Pool{}
	c.Arch.Widths = slices.Clone(m.Arch.Widths)
	for i, p := range m.params {
		c.params[i] = Param{Name: p.Name, Shape: slices.Clone(p.Shape), Data: slices.Clone(p.Data)}
	}
	return c
}

// Layers returns the names of the fully connected layers, the ones
// PerSample can study, from input to output.
func (m *Model) Layers() []string {
	var out []string
	for _, l := range m.layers {
		if l.kind == kLinear {
			out = append(out, l.name)
		}
	}
	return out
}

// DefaultLayer is the layer under study of docs/math.md section 2: for an MLP the
// last hidden-to-hidden layer (fc2 of 784-50-50-10, fc3 of
// 3072-1000-50-50-10), for the CNN fc.
func (m *Model) DefaultLayer() string {
	if m.Arch.Model == "cnn" {
		return "fc"
	}
	ls := m.Layers()
	if len(ls) == 1 {
		return ls[0]
	}
	return ls[len(ls)-2]
}

func (m *Model) linear(name string) (int, error) {
	for i, l := range m.layers {
		if l.kind == kLinear && l.name == name {
			return i, nil
		}
	}
	return 0, fmt.Errorf("model has no fully connected layer %q (have %v)", name, m.Layers())
}

// LayerShape returns the weight shape (out m, in n) of a fully connected layer.
func (m *Model) LayerShape(name string) (out, in int, err error) {
	i, err := m.linear(name)
	if err != nil {
		return 0, 0, err
	}
	return m.layers[i].out, m.layers[i].in, nil
}

// Weight returns a float64 copy of the weight of a fully connected layer
// (out x in, PyTorch order).
func (m *Model) Weight(name string) (linalg.Dense, error) {
	i, err := m.linear(name)
	if err != nil {
		return linalg.Dense{}, err
	}
	l := m.layers[i]
	d := linalg.NewDense(l.out, l.in)
	for k, v := range m.params[l.wi].Data {
		d.Data[k] = float64(v)
	}
	return d, nil
}
