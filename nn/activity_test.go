package nn

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestActivity checks Activity against PerSample's A (the same forward
// pass) for an MLP and the CNN, and against a hand-written forward pass of
// the MLP's first layer.
func TestActivity(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	mlp, err := NewMLP(7, []int{5, 4}, 3, 1)
	if err != nil {
		t.Fatal(err)
	}
	cnn, err := NewCNN(1, 8, 8, 3, 2)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		m     *Model
		layer string
		n     int
	}{{mlp, "fc2", 300}, {mlp, "fc1", 5}, {cnn, "fc", 3}} {
		dim := tc.m.Arch.In[0] * tc.m.Arch.In[1] * tc.m.Arch.In[2]
		x := make([]float64, tc.n*dim)
		for i := range x {
			x[i] = rng.Float64()
		}
		labels := make([]int, tc.n)
		act, err := tc.m.Activity(tc.layer, x)
		if err != nil {
			t.Fatal(err)
		}
		ps, err := tc.m.PerSample(tc.layer, x, labels, CE)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(act, ps.A) {
			t.Errorf("%s %s: Activity differs from PerSample's A", tc.m.Arch.Model, tc.layer)
		}
	}
	// fc2's input is relu(W1 x).
	w1, _ := mlp.Weight("fc1")
	x := []float64{0.1, 0.5, -0.3, 0.9, 0.2, -0.7, 0.4}
	act, err := mlp.Activity("fc2", x)
	if err != nil {
		t.Fatal(err)
	}
	for p := 0; p < 5; p++ {
		var s float64
		for i, v := range x {
			s += w1.At(p, i) * v
		}
		if s = max(s, 0); act[p] != s && (act[p]-s > 1e-15 || s-act[p] > 1e-15) {
			t.Errorf("a[%d] = %v, want %v", p, act[p], s)
		}
	}
	if _, err := mlp.Activity("fc9", x); err == nil {
		t.Error("unknown layer accepted")
	}
	if _, err := mlp.Activity("fc2", x[:5]); err == nil {
		t.Error("partial sample accepted")
	}
}
