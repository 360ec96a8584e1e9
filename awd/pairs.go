package awd

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"

	"github.com/awd-toolkit/awd/kernels"
	"github.com/awd-toolkit/awd/linalg"
)

// Pairs is the AWD matching of paper section 3.1 (Def. 3.1): the analysis
// samples split into balanced batches of size B, batch 2j paired with batch
// 2j+1, and inside each class the samples of the two batches matched one to
// one by minimum total Euclidean distance of their inputs.
type Pairs struct {
	// Partner[n] is the sample matched with n (Partner[Partner[n]] == n), or
	// -1 for a sample left out (see Dropped).
	Partner []int
	// Batches are the sample indices of each batch; batch 2j is paired with
	// batch 2j+1. All have exactly B samples, and the two batches of a pair
	// hold the same number of samples of each class.
	Batches [][]int
	// Dropped counts the samples in no batch: one sample of every class with
	// an odd count, and the last pairs (one per class, spread over the
	// classes) that do not fill a whole pair of batches.
	Dropped int
	// Cost is the total distance sum over matched pairs ||x_n - x_n'||.
	Cost float64
}

// MatchPairs builds the matched pairs for the N samples whose inputs are the
// rows of x (N x D) and labels their classes (>= 0). batch is B; seed fixes
// the shuffles (PCG); greedy replaces the optimal assignment (Hungarian,
// O(k^3) for k samples of a class in a batch) by nearest-first greedy
// matching (O(k^2 log k)).
//
// Balance: every class's samples are shuffled and taken two at a time; the
// two members of such a couple go to batch 2j and 2j+1 respectively, so both
// batches of a pair hold the same number of each class. Couples of all
// classes are interleaved in proportion to the class sizes (stratified), then
// cut B at a time into pairs of batches, so each class is spread evenly. The
// couples that do not fill a last pair of batches are dropped, as is the odd
// sample of a class with an odd count; Dropped says how many.
//
// Errors: shapes that disagree, a NaN or infinite input, B < 1, negative
// labels, or fewer than 2B usable samples (no pair of batches).
func MatchPairs(x linalg.Dense, labels []int, batch int, seed uint64, greedy bool) (*Pairs, error) {
	for r := 0; r < x.Rows; r++ {
		if err := finiteInput(r, x.Row(r)); err != nil {
			return nil, err
		}
	}
	return matchPairs(x.Rows, labels, batch, seed, greedy, func(u, w int) float64 { return dist(x.Row(u), x.Row(w)) })
}

// MatchPairs32 is MatchPairs for inputs given as float32 rows of dim values
// (x holds N of them, as nn.Dataset.X): each distance is computed in
// float64 from the exact float64 values of the inputs, as MatchPairs does
// on the converted rows, so the pairs are the same, without an N x dim
// float64 copy (125 MB for 20,000 MNIST images).
func MatchPairs32(x []float32, dim int, labels []int, batch int, seed uint64, greedy bool) (*Pairs, error) {
	if dim < 1 || len(x) != len(labels)*dim {
		return nil, fmt.Errorf("match pairs: %d input values for %d samples of %d", len(x), len(labels), dim)
	}
	for s := range len(labels) {
		if err := finiteInput(s, x[s*dim:(s+1)*dim]); err != nil {
			return nil, err
		}
	}
	return matchPairs(len(labels), labels, batch, seed, greedy, func(u, w int) float64 {
		var s float64
		for i, v := range x[u*dim : (u+1)*dim] {
			t := float64(v) - float64(x[w*dim+i])
			s += t * t
		}
		return math.Sqrt(s)
	})
}

// finiteInput refuses a NaN or infinite input value of sample s: its
// distances would be NaN, and the optimal assignment never settles on them.
func finiteInput[T float32 | float64](s int, x []T) error {
	for i, v := range x {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return fmt.Errorf("match pairs: sample %d: input value %d is %v", s, i, v)
		}
	}
	return nil
}

// matchPairs is MatchPairs with the distance of samples u and w given by dist.
func matchPairs(n int, labels []int, batch int, seed uint64, greedy bool, dist func(u, w int) float64) (*Pairs, error) {
	if len(labels) != n {
		return nil, fmt.Errorf("match pairs: %d labels for %d samples", len(labels), n)
	}
	if batch < 1 {
		return nil, fmt.Errorf("match pairs: batch size %d", batch)
	}
	byClass := map[int][]int{}
	for i, y := range labels {
		if y < 0 {
			return nil, fmt.Errorf("match pairs: sample %d has label %d", i, y)
		}
		byClass[y] = append(byClass[y], i)
	}
	classes := make([]int, 0, len(byClass))
	for c := range byClass {
		classes = append(classes, c)
	}
	sort.Ints(classes)
	rng := rand.New(rand.NewPCG(seed, 0x617764706169727a)) // "awdpairz"

	// Couples, stratified: couple t of class c (of T_c) sits at (t+1/2)/T_c.
	type couple struct {
		pos    float64
		class  int
		first  int
		second int
	}
	var couples []couple
	for _, c := range classes {
		idx := slices.Clone(byClass[c])
		rng.Shuffle(len(idx), func(i, j int) { idx[i], idx[j] = idx[j], idx[i] })
		tc := len(idx) / 2
		for t := 0; t < tc; t++ {
			couples = append(couples, couple{(float64(t) + 0.5) / float64(tc), c, idx[2*t], idx[2*t+1]})
		}
	}
	sort.SliceStable(couples, func(i, j int) bool {
		if couples[i].pos != couples[j].pos {
			return couples[i].pos < couples[j].pos
		}
		return couples[i].class < couples[j].class
	})
	npairs := len(couples) / batch
	if npairs == 0 {
		return nil, fmt.Errorf("match pairs: %d samples in %d classes give %d same-class couples, fewer than one pair of batches of %d", n, len(classes), len(couples), batch)
	}
	// Dropping the tail of the stratified order drops the latest couples of
	// every class in turn: the classes stay balanced.
	couples = couples[:npairs*batch]

	res := &Pairs{Partner: make([]int, n), Batches: make([][]int, 2*npairs)}
	for i := range res.Partner {
		res.Partner[i] = -1
	}
	res.Dropped = n - 2*len(couples)
	// The pairs of batches are matched independently (each writes the
	// partners of its own samples) from up to GOMAXPROCS goroutines; their
	// costs are summed afterwards in batch order, so the total does not
	// depend on the number of threads.
	costs := make([][]float64, npairs)
	parallelEach(npairs, func(j int) {
		cs := couples[j*batch : (j+1)*batch]
		b0, b1 := make([]int, 0, batch), make([]int, 0, batch)
		for _, c := range cs {
			b0 = append(b0, c.first)
			b1 = append(b1, c.second)
		}
		res.Batches[2*j], res.Batches[2*j+1] = b0, b1
		// Match per class inside the pair of batches.
		per := map[int][2][]int{}
		for _, c := range cs {
			v := per[c.class]
			v[0] = append(v[0], c.first)
			v[1] = append(v[1], c.second)
			per[c.class] = v
		}
		for _, c := range classes {
			v, ok := per[c]
			if !ok {
				continue
			}
			k := len(v[0])
			cost := make([]float64, k*k)
			for r, u := range v[0] {
				for col, w := range v[1] {
					cost[r*k+col] = dist(u, w)
				}
			}
			var assign []int
			if greedy {
				assign = greedyAssign(cost, k)
			} else {
				assign = hungarian(cost, k)
			}
			for r, col := range assign {
				u, w := v[0][r], v[1][col]
				res.Partner[u], res.Partner[w] = w, u
				costs[j] = append(costs[j], cost[r*k+col])
			}
		}
	})
	for _, cj := range costs {
		for _, c := range cj {
			res.Cost += c
		}
	}
	return res, nil
}

func dist(x, y []float64) float64 {
	var s float64
	for i, v := range x {
		t := v - y[i]
		s += t * t
	}
	return math.Sqrt(s)
}

// hungarian returns the assignment row -> column minimising the total cost of
// the k x k matrix (row-major), by the O(k^3) shortest augmenting path
// method with potentials (Kuhn-Munkres in the Jonker-Volgenant form).
func hungarian(cost []float64, k int) []int {
	if k == 0 {
		return nil
	}
	inf := math.Inf(1)
	// 1-based arrays; column 0 is the virtual start.
	u := make([]float64, k+1)
	v := make([]float64, k+1)
	p := make([]int, k+1) // p[col] = row matched to col
	way := make([]int, k+1)
	minv := make([]float64, k+1)
	used := make([]bool, k+1)
	for i := 1; i <= k; i++ {
		p[0] = i
		j0 := 0
		for j := range minv {
			minv[j] = inf
			used[j] = false
		}
		for {
			used[j0] = true
			i0, delta, j1 := p[j0], inf, 0
			for j := 1; j <= k; j++ {
				if used[j] {
					continue
				}
				cur := cost[(i0-1)*k+j-1] - u[i0] - v[j]
				if cur < minv[j] {
					minv[j], way[j] = cur, j0
				}
				if minv[j] < delta {
					delta, j1 = minv[j], j
				}
			}
			for j := 0; j <= k; j++ {
				if used[j] {
					u[p[j]] += delta
					v[j] -= delta
				} else {
					minv[j] -= delta
				}
			}
			j0 = j1
			if p[j0] == 0 {
				break
			}
		}
		for j0 != 0 {
			j1 := way[j0]
			p[j0] = p[j1]
			j0 = j1
		}
	}
	assign := make([]int, k)
	for j := 1; j <= k; j++ {
		assign[p[j]-1] = j - 1
	}
	return assign
}

// greedyAssign matches the globally closest remaining (row, column) first.
func greedyAssign(cost []float64, k int) []int {
	idx := make([]int, k*k)
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return cost[idx[a]] < cost[idx[b]] })
	assign := make([]int, k)
	rowDone, colDone := make([]bool, k), make([]bool, k)
	left := k
	for _, e := range idx {
		r, c := e/k, e%k
		if rowDone[r] || colDone[c] {
			continue
		}
		assign[r] = c
		rowDone[r], colDone[c] = true, true
		if left--; left == 0 {
			break
		}
	}
	return assign
}

// DTheta returns dtheta = vec(dW) for the minimal-norm weight perturbation
// dW = (W da) a^T / ||a||^2, da = aPartner - a, that makes
// (W + dW) a = W aPartner (docs/math.md section 4). w is m x n; the result has
// length d = m n, row-major like theta. For a = 0 no such dW exists and the
// result is nil. Cost 2 m n flops.
func DTheta(w linalg.Dense, a, aPartner []float64) []float64 {
	if len(a) != w.Cols || len(aPartner) != w.Cols {
		panic(fmt.Sprintf("awd: DTheta: W %dx%d, a of %d, partner of %d", w.Rows, w.Cols, len(a), len(aPartner)))
	}
	na2 := kernels.Ddot(a, a)
	if na2 == 0 {
		return nil
	}
	da := make([]float64, len(a))
	for i := range a {
		da[i] = aPartner[i] - a[i]
	}
	out := make([]float64, w.Rows*w.Cols)
	for p := 0; p < w.Rows; p++ {
		vp := kernels.Ddot(w.Row(p), da) / na2
		row := out[p*w.Cols : (p+1)*w.Cols]
		for i, ai := range a {
			row[i] = vp * ai
		}
	}
	return out
}

// PartnerDiff returns da (N x n) with row s = a_{partner[s]} - a_s for the
// rows of a (N x n), ready for State.AddPairs; the row of a sample without
// partner (partner -1) is NaN, which AddPairs skips.
func PartnerDiff(a linalg.Dense, partner []int) linalg.Dense {
	if len(partner) != a.Rows {
		panic(fmt.Sprintf("awd: PartnerDiff: %d partners for %d rows", len(partner), a.Rows))
	}
	da := linalg.NewDense(a.Rows, a.Cols)
	for s, q := range partner {
		if q < 0 {
			row := da.Row(s)
			for i := range row {
				row[i] = math.NaN()
			}
			continue
		}
		row, as, aq := da.Row(s), a.Row(s), a.Row(q)
		for i := range row {
			row[i] = aq[i] - as[i]
		}
	}
	return da
}
