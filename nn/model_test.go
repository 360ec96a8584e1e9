package nn

import (
	"strings"
	"testing"
)

// TestLayerLimits: an MLP with a hidden layer above 2^24 values (5000 x
// 5000, refused before) is built; a layer above 2^28 values, or more than
// 2^28 parameters in all, is refused before anything is allocated, saying
// what to change; an input shape whose product wraps around int64 is
// refused (it wrapped to 0 and was taken).
func TestLayerLimits(t *testing.T) {
	m, err := NewMLP(784, []int{5000, 5000}, 10, 1)
	if err != nil {
		t.Fatalf("784-5000-5000-10: %v", err)
	}
	if w, ok := m.Param("fc2.weight"); !ok || len(w.Data) != 25_000_000 || w.Data[len(w.Data)-1] == 0 {
		t.Fatalf("fc2.weight: %v values (ok %v), want 25e6 initialised", len(w.Data), ok)
	}
	for _, tc := range []struct {
		widths []int
		want   string
	}{
		{[]int{16385, 16384}, "fc2.weight would have 268451840 values, more than the 268435456 (1 GiB of float32) awd holds in one layer: make the layer narrower"},
		{[]int{16384, 16384, 16384}, "more than 268435456 parameters (1 GiB of float32), the most awd builds: make the layers narrower or fewer"},
	} {
		if _, err := checkArch(Arch{Model: "mlp", In: [3]int{1, 1, 784}, Widths: tc.widths, Outputs: 10}); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("widths %v: %v, want %q", tc.widths, err, tc.want)
		}
	}
	if _, err := checkArch(Arch{Model: "mlp", In: [3]int{1 << 24, 1 << 24, 1 << 24}, Widths: []int{3}, Outputs: 2}); err == nil {
		t.Error("input shape 2^24 x 2^24 x 2^24 (a product of 2^72, 0 mod 2^64) taken")
	}
}

// TestBadShapesSayWhatToGive: a width, an output count or an input shape
// out of range is refused with the range to give; the errors named the
// value alone ("model: width -3 of hidden layer 1").
func TestBadShapesSayWhatToGive(t *testing.T) {
	for _, tc := range []struct {
		name   string
		in     int
		widths []int
		out    int
		want   string
	}{
		{"width -3", 784, []int{-3}, 10, "model: width -3 of hidden layer 1: give 1 to 268435456 units"},
		{"width 0", 784, []int{8, 0}, 10, "model: width 0 of hidden layer 2: give 1 to 268435456 units"},
		{"outputs 0", 784, []int{8}, 0, "model: 0 outputs: give 1 to 268435456 logits"},
		{"input 0", 0, []int{8}, 10, "model: input shape [1 1 0]: give channels, height and width of at least 1 each"},
	} {
		if _, err := NewMLP(tc.in, tc.widths, tc.out, 1); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
}
