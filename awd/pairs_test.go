package awd

import (
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/awd-toolkit/awd/linalg"
)

// permutations calls f on every permutation of 0..k-1.
func permutations(k int, f func([]int)) {
	p := make([]int, k)
	for i := range p {
		p[i] = i
	}
	var rec func(i int)
	rec = func(i int) {
		if i == k {
			f(p)
			return
		}
		for j := i; j < k; j++ {
			p[i], p[j] = p[j], p[i]
			rec(i + 1)
			p[i], p[j] = p[j], p[i]
		}
	}
	rec(0)
}

func TestHungarianOptimal(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, tc := range []struct {
		name string
		k    int
		gen  func() float64
	}{
		{"k=1", 1, rng.Float64},
		{"k=2", 2, rng.Float64},
		{"k=5", 5, rng.Float64},
		{"k=7", 7, rng.Float64},
		{"k=6/ties", 6, func() float64 { return float64(rng.IntN(3)) }},
		{"k=6/negative", 6, rng.NormFloat64},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for trial := 0; trial < 20; trial++ {
				k := tc.k
				cost := make([]float64, k*k)
				var scale float64
				for i := range cost {
					cost[i] = tc.gen()
					scale += math.Abs(cost[i])
				}
				best := math.Inf(1)
				permutations(k, func(p []int) {
					var s float64
					for r, c := range p {
						s += cost[r*k+c]
					}
					best = math.Min(best, s)
				})
				for _, alg := range []struct {
					name string
					f    func([]float64, int) []int
				}{{"hungarian", hungarian}, {"greedy", greedyAssign}} {
					as := alg.f(cost, k)
					seen := make([]bool, k)
					var s float64
					for r, c := range as {
						if seen[c] {
							t.Fatalf("%s: column %d assigned twice", alg.name, c)
						}
						seen[c] = true
						s += cost[r*k+c]
					}
					tol := 4 * float64(k) * eps64 * scale
					if alg.name == "hungarian" && s > best+tol {
						t.Errorf("trial %d: cost %v, optimum %v", trial, s, best)
					}
					if s < best-tol {
						t.Errorf("%s trial %d: cost %v below the optimum %v", alg.name, trial, s, best)
					}
				}
			}
		})
	}
}

func TestMatchPairs(t *testing.T) {
	for _, tc := range []struct {
		name    string
		counts  []int // samples per class
		batch   int
		greedy  bool
		dropped int
	}{
		{"K=3/even", []int{20, 20, 20}, 6, false, 0},
		{"K=3/B=50-like", []int{40, 40, 40}, 10, false, 0},            // 60 couples = 6 pairs of batches of 10
		{"K=2/odd-class", []int{11, 9}, 4, false, 4},                  // couples 5+4 = 9: 2 pairs of 4, one couple and 2 odd samples left
		{"K=4/unbalanced", []int{30, 10, 16, 8}, 8, true, 0},          // 32 couples = 4 pairs of batches
		{"K=1", []int{25}, 3, false, 25 - 2*12},                       // 12 couples = 4 pairs of batches
		{"K=3/leftover-tail", []int{21, 21, 22}, 5, false, 64 - 2*30}, // 10+10+11 couples, 6 pairs of 5
	} {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(9, uint64(len(tc.counts))))
			var labels []int
			for c, k := range tc.counts {
				for i := 0; i < k; i++ {
					labels = append(labels, c)
				}
			}
			rng.Shuffle(len(labels), func(i, j int) { labels[i], labels[j] = labels[j], labels[i] })
			n, dim := len(labels), 3
			x := linalg.NewDense(n, dim)
			for i := range x.Data {
				x.Data[i] = rng.NormFloat64()
			}
			for i := range x.Data { // float32 values, for MatchPairs32 below
				x.Data[i] = float64(float32(x.Data[i]))
			}
			res, err := MatchPairs(x, labels, tc.batch, 42, tc.greedy)
			if err != nil {
				t.Fatal(err)
			}
			// MatchPairs32 on the same inputs as float32 rows: the same pairs
			// and, the distances being the same float64 sums, the same cost.
			x32 := make([]float32, len(x.Data))
			for i, v := range x.Data {
				x32[i] = float32(v)
			}
			res32, err := MatchPairs32(x32, dim, labels, tc.batch, 42, tc.greedy)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(res32, res) {
				t.Errorf("MatchPairs32 differs from MatchPairs: %+v, %+v", res32, res)
			}
			if res.Dropped != tc.dropped {
				t.Errorf("dropped %d, want %d", res.Dropped, tc.dropped)
			}
			paired := 0
			for s, q := range res.Partner {
				if q < 0 {
					continue
				}
				paired++
				if res.Partner[q] != s || q == s {
					t.Fatalf("partner not symmetric: %d -> %d -> %d", s, q, res.Partner[q])
				}
				if labels[q] != labels[s] {
					t.Fatalf("pair %d-%d crosses classes %d, %d", s, q, labels[s], labels[q])
				}
			}
			if paired != n-res.Dropped {
				t.Errorf("%d samples paired, %d dropped, of %d", paired, res.Dropped, n)
			}
			if len(res.Batches)%2 != 0 {
				t.Fatalf("%d batches", len(res.Batches))
			}
			where := map[int]int{}
			for b, idx := range res.Batches {
				if len(idx) != tc.batch {
					t.Errorf("batch %d has %d samples", b, len(idx))
				}
				for _, s := range idx {
					if _, dup := where[s]; dup {
						t.Fatalf("sample %d in two batches", s)
					}
					where[s] = b
				}
			}
			for s, q := range res.Partner {
				if q >= 0 && where[s]^1 != where[q] {
					t.Errorf("sample %d in batch %d paired with %d in batch %d", s, where[s], q, where[q])
				}
			}
			// Balance: the couples of all classes are interleaved in
			// proportion, so class c fills a share B T_c / T of each batch
			// (T_c = its couples, T all couples), give or take one at each
			// end of the batch's window in the interleaved order.
			totalCouples := 0
			for _, k := range tc.counts {
				totalCouples += k / 2
			}
			for j := 0; j < len(res.Batches)/2; j++ {
				for c, k := range tc.counts {
					got := 0
					for _, s := range res.Batches[2*j] {
						if labels[s] == c {
							got++
						}
					}
					share := float64(tc.batch) * float64(k/2) / float64(totalCouples)
					if math.Abs(float64(got)-share) > 2 {
						t.Errorf("pair %d: class %d has %d samples per batch, share about %.1f", j, c, got, share)
					}
				}
			}
			// Optimality per class and pair of batches, by brute force
			// (small groups only); greedy is never better.
			var total float64
			for j := 0; j < len(res.Batches)/2; j++ {
				for c := range tc.counts {
					var u, w []int
					for _, s := range res.Batches[2*j] {
						if labels[s] == c {
							u = append(u, s)
						}
					}
					for _, s := range res.Batches[2*j+1] {
						if labels[s] == c {
							w = append(w, s)
						}
					}
					var got float64
					for _, s := range u {
						got += dist(x.Row(s), x.Row(res.Partner[s]))
					}
					total += got
					if len(u) > 7 {
						continue
					}
					best := math.Inf(1)
					permutations(len(u), func(p []int) {
						var s float64
						for r, col := range p {
							s += dist(x.Row(u[r]), x.Row(w[col]))
						}
						best = math.Min(best, s)
					})
					tol := 8 * float64(len(u)) * eps64 * (best + 1)
					if !tc.greedy && got > best+tol {
						t.Errorf("pair %d class %d: cost %v, optimum %v", j, c, got, best)
					}
					if got < best-tol {
						t.Errorf("pair %d class %d: cost %v below the optimum %v", j, c, got, best)
					}
				}
			}
			if math.Abs(total-res.Cost) > 1e-12*total {
				t.Errorf("Cost %v, sum of distances %v", res.Cost, total)
			}
			// Same seed, same result.
			again, _ := MatchPairs(x, labels, tc.batch, 42, tc.greedy)
			for s := range res.Partner {
				if again.Partner[s] != res.Partner[s] {
					t.Fatal("not reproducible for a fixed seed")
				}
			}
		})
	}
}

func TestMatchPairsErrors(t *testing.T) {
	x := linalg.NewDense(10, 2)
	labels := []int{0, 0, 0, 0, 0, 1, 1, 1, 1, 1}
	for _, tc := range []struct {
		name   string
		labels []int
		batch  int
	}{
		{"labels-length", labels[:9], 2},
		{"batch=0", labels, 0},
		{"negative-label", []int{0, 0, 0, 0, 0, 1, 1, 1, 1, -1}, 2},
		{"batch-too-large", labels, 5}, // 4 couples < 5
		{"no-couples", []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := MatchPairs(x, tc.labels, tc.batch, 1, false); err == nil {
				t.Error("accepted")
			}
			if _, err := MatchPairs32(make([]float32, 20), 2, tc.labels, tc.batch, 1, false); err == nil {
				t.Error("MatchPairs32 accepted")
			}
		})
	}
	if _, err := MatchPairs32(make([]float32, 21), 2, labels, 2, 1, false); err == nil {
		t.Error("MatchPairs32 accepted 21 values for 10 samples of 2")
	}
}

// TestDTheta checks the defining property (W + dW) a = W a' and the minimal
// norm: dW = v a^T / |a|^2 is the least-norm solution of dW a = v, so its norm
// is |v| / |a|.
func TestDTheta(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 3))
	for _, sz := range [][2]int{{1, 1}, {3, 5}, {7, 2}} {
		t.Run(fmt.Sprintf("%dx%d", sz[0], sz[1]), func(t *testing.T) {
			m, n := sz[0], sz[1]
			w := randomW(rng, m, n)
			a, ap := make([]float64, n), make([]float64, n)
			for i := range a {
				a[i], ap[i] = rng.Float64(), rng.Float64()
			}
			dt := DTheta(w, a, ap)
			var na, nv, nd float64
			for i := range a {
				na += a[i] * a[i]
			}
			for p := 0; p < m; p++ {
				var lhs, rhs, v float64
				for i := 0; i < n; i++ {
					lhs += (w.At(p, i) + dt[p*n+i]) * a[i]
					rhs += w.At(p, i) * ap[i]
					v += w.At(p, i) * (ap[i] - a[i])
				}
				nv += v * v
				if math.Abs(lhs-rhs) > 16*float64(n)*eps64*(math.Abs(rhs)+1) {
					t.Errorf("row %d: (W+dW)a = %v, W a' = %v", p, lhs, rhs)
				}
			}
			for _, v := range dt {
				nd += v * v
			}
			if math.Abs(nd-nv/na) > 1e-13*nd {
				t.Errorf("|dtheta|^2 = %v, |W da|^2/|a|^2 = %v", nd, nv/na)
			}
			if DTheta(w, make([]float64, n), ap) != nil {
				t.Error("a = 0 gave a dtheta")
			}
		})
	}
}
