package awd

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/awd-toolkit/awd/linalg"
)

// TestMatchAnchors checks the paper code's pair rule against a brute-force
// search written from its definition: for every sample, the same-class
// anchors of its batch are scanned for the nearest one farther than 1e-6.
func TestMatchAnchors(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	const n, dim, batch, per = 157, 5, 16, 4
	act := linalg.NewDense(n, dim)
	labels := make([]int, n)
	for s := 0; s < n; s++ {
		labels[s] = rng.IntN(3)
		for j := range act.Row(s) {
			act.Set(s, j, rng.NormFloat64())
		}
	}
	// Sample 10 duplicates sample 11 (same class): an anchor at distance 0
	// that is not the sample itself.
	labels[10] = labels[11]
	copy(act.Row(10), act.Row(11))
	// Class 3 has a single sample: it can only find itself.
	labels[20] = 3
	pr, err := MatchAnchors(act, labels, batch, per, 9)
	if err != nil {
		t.Fatal(err)
	}
	if len(pr.Batches) != (n+batch-1)/batch || len(pr.Anchors) != len(pr.Batches) {
		t.Fatalf("%d batches, %d anchor sets", len(pr.Batches), len(pr.Anchors))
	}
	count := map[int]int{}
	for _, y := range labels {
		count[y]++
	}
	seen := make([]int, n)
	unmatched := 0
	for b, bs := range pr.Batches {
		// anchors: min(per, class size) distinct samples of each class
		perClass := map[int][]int{}
		for _, a := range pr.Anchors[b] {
			perClass[labels[a]] = append(perClass[labels[a]], a)
			seen[a]++
		}
		for c, as := range perClass {
			if len(as) != min(per, count[c]) {
				t.Errorf("batch %d class %d: %d anchors", b, c, len(as))
			}
			u := slices.Clone(as)
			slices.Sort(u)
			if len(slices.Compact(u)) != len(as) {
				t.Errorf("batch %d class %d: an anchor drawn twice", b, c)
			}
		}
		for _, s := range bs {
			want, best := -1, math.Inf(1)
			first, firstD := -1, math.Inf(1)
			for _, a := range perClass[labels[s]] {
				var d2 float64
				for j := 0; j < dim; j++ {
					v := act.At(s, j) - act.At(a, j)
					d2 += v * v
				}
				if d := math.Sqrt(d2); d < firstD {
					first, firstD = a, d
				}
			}
			for _, a := range perClass[labels[s]] {
				if a == first && firstD < 1e-6 {
					continue
				}
				var d2 float64
				for j := 0; j < dim; j++ {
					v := act.At(s, j) - act.At(a, j)
					d2 += v * v
				}
				if d := math.Sqrt(d2); d < best {
					want, best = a, d
				}
			}
			if pr.Partner[s] != want {
				t.Errorf("sample %d: partner %d, brute force %d", s, pr.Partner[s], want)
			}
			if want < 0 {
				unmatched++
			}
		}
	}
	if pr.Partner[20] != -1 || pr.Unmatched != unmatched {
		t.Errorf("lone sample partner %d; unmatched %d, brute force %d", pr.Partner[20], pr.Unmatched, unmatched)
	}
	// Every sample of a class of size >= per is an anchor in about
	// nb per / size batches.
	for s := 0; s < n; s++ {
		if count[labels[s]] > per && seen[s] == 0 && labels[s] != 3 {
			want := float64(len(pr.Batches)*per) / float64(count[labels[s]])
			if want > 5 {
				t.Errorf("sample %d never drawn as anchor (expected %.1f times)", s, want)
			}
		}
	}
	if _, err := MatchAnchors(act, labels[:5], batch, per, 1); err == nil {
		t.Error("label count mismatch accepted")
	}
	if _, err := MatchAnchors(act, labels, batch, 0, 1); err == nil {
		t.Error("0 anchors per class accepted")
	}
}

func TestPartnerDiffFrom(t *testing.T) {
	all := linalg.DenseOf(3, 2, []float64{1, 2, 3, 5, 8, 13})
	da := PartnerDiffFrom(all, []int{2, 1}, []int{2, -1, 0})
	if da.At(0, 0) != -7 || da.At(0, 1) != -11 || !math.IsNaN(da.At(1, 0)) {
		t.Errorf("da = %v", da.Data)
	}
}
