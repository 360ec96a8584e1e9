package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/awd-toolkit/awd/kernels"
)

// sconvLevels are the kernel levels of this CPU and build with direct
// convolutions in assembly.
func sconvLevels() []kernels.Level {
	var ls []kernels.Level
	saved := kernels.Current()
	defer kernels.SetLevel(saved)
	for _, l := range kernels.Available() {
		kernels.SetLevel(l)
		if kernels.HasSconv() {
			ls = append(ls, l)
		}
	}
	return ls
}

// TestDirectConv checks the float32 direct convolutions (conv.go) against
// the float64 im2col network on the same weights and inputs: the logits,
// and every parameter's gradient for the same dLoss/dlogits, on MNIST's
// shape (rows of 28, 14 and 7 pixels: whole 7-pixel segments) and odd,
// uneven and small ones (rows of 10, 9, 8, 5, 4 and 2 pixels: overlapping
// segments, segments that run past a row).
func TestDirectConv(t *testing.T) {
	levels := sconvLevels()
	if len(levels) == 0 {
		m, _ := NewCNN(1, 8, 8, 10, 1)
		if newNet[float32](m, 2).dir != nil {
			t.Fatal("direct path without assembly convolutions")
		}
		t.Logf("no kernel level with direct convolutions here (%s): the float32 CNN runs through im2col", kernels.Current())
		return
	}
	saved := kernels.Current()
	defer kernels.SetLevel(saved)
	for _, l := range levels {
		kernels.SetLevel(l)
		for _, shape := range [][3]int{{1, 28, 28}, {3, 9, 9}, {1, 12, 10}, {2, 11, 8}} {
			t.Run(fmt.Sprintf("%s/%dx%dx%d", l, shape[0], shape[1], shape[2]), func(t *testing.T) {
				m, err := NewCNN(shape[0], shape[1], shape[2], 10, 7)
				if err != nil {
					t.Fatal(err)
				}
				for _, p := range m.Params() { // logits of order one
					for i := range p.Data {
						p.Data[i] *= 2
					}
				}
				const b = 3
				r := rand.New(rand.NewPCG(8, 9))
				dim := shape[0] * shape[1] * shape[2]
				x, y := randInputs(r, b, dim, 10)
				n32, n64 := newNet[float32](m, b), newNet[float64](m, b)
				if n32.dir == nil {
					t.Fatal("no direct path")
				}
				setInput(n32, x, b)
				setInput(n64, x, b)
				n32.forward(b)
				n64.forward(b)
				compare(t, "logits", n32.output(b), n64.output(b))
				dOut := make([]float64, b*10)
				batchLoss(CE, n64.output(b), y, 10, dOut)
				d32 := make([]float32, len(dOut))
				for i, v := range dOut {
					d32[i] = float32(v)
				}
				n32.backward(b, d32, nil)
				n64.backward(b, dOut, nil)
				for li, l := range m.layers {
					for _, pi := range []int{l.wi, l.bi} {
						if pi < 0 {
							continue
						}
						g32, g64 := n32.g[pi], n64.g[pi]
						if l.kind == kConv && pi == l.wi { // both to PyTorch's layout
							p32, p64 := make([]float32, len(g32)), make([]float32, len(g64))
							convFromInternal(g32, p32, l.out, l.in, true)
							convFromInternal(g64, p64, l.out, l.in, false)
							g64 = make([]float64, len(p64))
							for i, v := range p64 {
								g64[i] = float64(v)
							}
							g32 = p32
						}
						compare(t, fmt.Sprintf("layer %d %s", li, m.params[pi].Name), g32, g64)
					}
				}
			})
		}
	}
}

// compare checks got against want to 1024 eps32 of want's largest entry:
// the float32 path rounds its inputs, weights and every partial sum, which
// on these sizes (sums of up to 3*28*28*9 = 21,000 products per gradient
// entry, of both signs) leaves relative errors of about 1e-6 (measured:
// 1e-7 to 8e-7), against 1.2e-4 allowed; a wrong index or tap is off by
// order one.
func compare(t *testing.T, what string, got []float32, want []float64) {
	t.Helper()
	var scale float64
	for _, v := range want[:len(got)] {
		scale = max(scale, math.Abs(v))
	}
	tol := 1024 * 0x1p-23 * scale
	for i, v := range got {
		if d := math.Abs(float64(v) - want[i]); !(d <= tol) {
			t.Fatalf("%s[%d] = %g, float64 im2col %g (|diff| %g > %g)", what, i, v, want[i], d, tol)
		}
	}
}

// TestDirectConvThreads: the direct path's logits and gradients are the same
// bits on 1, 2 and 3 goroutines (an uneven split of 9 images, and of the
// weight gradient's tiles), at every level with direct convolutions.
func TestDirectConvThreads(t *testing.T) {
	saved := kernels.Current()
	defer kernels.SetLevel(saved)
	for _, l := range sconvLevels() {
		kernels.SetLevel(l)
		m, _ := NewCNN(1, 28, 28, 10, 3)
		const b = 9
		r := rand.New(rand.NewPCG(10, 11))
		x, y := randInputs(r, b, 784, 10)
		run := func(procs int) [][]float32 {
			defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
			n := newNet[float32](m, b)
			setInput(n, x, b)
			n.forward(b)
			dOut := make([]float32, b*10)
			batchLoss(CE, n.output(b), y, 10, dOut)
			n.backward(b, dOut, nil)
			return append([][]float32{append([]float32(nil), n.output(b)...)}, n.g...)
		}
		want := run(1)
		for _, procs := range []int{2, 3} {
			got := run(procs)
			for i := range want {
				for k := range want[i] {
					if math.Float32bits(got[i][k]) != math.Float32bits(want[i][k]) {
						t.Fatalf("%s, %d goroutines: tensor %d [%d] = %g, on one %g", l, procs, i, k, got[i][k], want[i][k])
					}
				}
			}
		}
	}
}
