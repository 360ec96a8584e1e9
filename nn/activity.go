package nn

import (
	"fmt"
	"math"
)

// Activity returns a_n, the input activity of the fully connected layer
// `layer` (In values per sample, sample-major, float64) for the samples x
// (N inputs, CHW, sample-major): what PerSample returns as A, from the
// forward pass alone. The paper's code matches samples by their distance in
// this activity (awd.AnchorPairs). Cost one forward pass per sample.
func (m *Model) Activity(layer string, x []float64) ([]float64, error) {
	li, err := m.linear(layer)
	if err != nil {
		return nil, fmt.Errorf("activity: %w", err)
	}
	dim := m.Arch.In[0] * m.Arch.In[1] * m.Arch.In[2]
	if len(x)%dim != 0 {
		return nil, fmt.Errorf("activity: %d input values is not a whole number of samples of size %d", len(x), dim)
	}
	N, in := len(x)/dim, m.layers[li].in
	n := m.pooledNet64()
	defer m.nets64.Put(n)
	out := make([]float64, N*in)
	for off := 0; off < N; off += n.cap {
		bs := min(n.cap, N-off)
		setInput(n, x[off*dim:(off+bs)*dim], bs)
		n.forward(bs)
		copy(out[off*in:(off+bs)*in], n.input(li, bs))
	}
	for i, v := range out {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("activity: non-finite activity at sample %d", i/in)
		}
	}
	return out, nil
}
