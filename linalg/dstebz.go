package linalg

import (
	"cmp"
	"math"
	"slices"
	"sync"
)

// Bisection for selected eigenvalues of a symmetric tridiagonal matrix
// (LAPACK DSTEBZ, by index).
//
// The Sturm count of T - x I,
//
//	q_0 = d_0 - x,  q_i = d_i - x - e_{i-1}^2 / q_{i-1},
//
// has as many negative q_i as T has eigenvalues below x (Sylvester's law of
// inertia for the LDL^T factorisation; a zero pivot is replaced by
// -pivmin). Intervals [lo, hi) with their counts are halved until they are
// narrower than 2 eps max(|lo|, |hi|) + atol (atol = eps ||T||); an interval
// that still holds several eigenvalues then returns them as one cluster.
// Interval splitting depends only on the counts, so splitting the wanted
// index range over goroutines does not change the results. Off-diagonals
// with e_i^2 <= (2 eps)^2 |d_i d_{i+1}| + safmin are set to zero, which
// splits T into unreduced blocks; every eigenvalue is then attributed to the
// block whose own Sturm counts place it in its final interval.
// Cost about 3 n flops per count and ~ 53 + log2(n) counts per eigenvalue.

const safmin = 0x1p-1022

// tridiagSubset holds selected eigenvalues of T and their blocks.
type tridiagSubset struct {
	w      []float64 // ascending
	block  []int     // index into blocks
	blocks [][2]int  // [start, end) of the unreduced blocks
	e2     []float64 // squared off-diagonal with splits zeroed
	tnorm  float64
	// ivals are the final intervals of the bisection: a coarse run
	// (dstebzTol) is refined from them (refine).
	ivals []ival
}

// ival is a bisection interval [lo, hi) holding the eigenvalues with
// ascending indices clo <= i < chi.
type ival struct {
	lo, hi   float64
	clo, chi int
}

// dstebz finds the eigenvalues with ascending indices il <= i < iu.
func dstebz(d, e []float64, il, iu int) tridiagSubset { return dstebzTol(d, e, il, iu, 0) }

// dstebzTol is dstebz that stops halving at the absolute width
// max(eps, rtol) ||T|| (with the relative test as before): rtol = 1e-6
// takes about a third of the counts, enough to see which eigenvalues are
// clustered (steinCost) before deciding how to compute the vectors.
func dstebzTol(d, e []float64, il, iu int, rtol float64) tridiagSubset {
	return dstebzFrom(d, e, il, iu, rtol, nil)
}

// refine continues the bisection of the coarse s (from dstebzTol for the
// same T and indices) to full accuracy. The intervals depend only on the
// counts at their midpoints, so this gives the very numbers of dstebz, for
// the counts that took s to its width.
func (s tridiagSubset) refine(d, e []float64, il, iu int) tridiagSubset {
	return dstebzFrom(d, e, il, iu, 0, s.ivals)
}

// dstebzFrom is dstebzTol starting from the intervals from (nil: the
// Gershgorin interval of all of T).
func dstebzFrom(d, e []float64, il, iu int, rtol float64, from []ival) tridiagSubset {
	n := len(d)
	e2 := make([]float64, max(n-1, 0))
	var pivmin float64 = 1
	var tnorm float64
	gl, gu := math.Inf(1), math.Inf(-1)
	blocks := [][2]int{}
	start := 0
	const ulp = 2 * eps
	for i := 0; i < n-1; i++ {
		t := e[i] * e[i]
		if t <= ulp*ulp*math.Abs(d[i]*d[i+1])+safmin {
			t = 0
			blocks = append(blocks, [2]int{start, i + 1})
			start = i + 1
		}
		e2[i] = t
		pivmin = math.Max(pivmin, t)
	}
	blocks = append(blocks, [2]int{start, n})
	pivmin *= safmin
	for i := 0; i < n; i++ {
		var r float64
		if i > 0 {
			r += math.Sqrt(e2[i-1])
		}
		if i < n-1 {
			r += math.Sqrt(e2[i])
		}
		gl = math.Min(gl, d[i]-r)
		gu = math.Max(gu, d[i]+r)
		tnorm = math.Max(tnorm, math.Abs(d[i])+r)
	}
	widen := 2*eps*tnorm*float64(n) + 2*pivmin
	gl -= widen
	gu += widen
	atol := max(eps, rtol) * tnorm
	if atol == 0 {
		atol = safmin
	}
	out := tridiagSubset{w: make([]float64, iu-il), block: make([]int, iu-il), blocks: blocks, e2: e2, tnorm: tnorm}
	var mu sync.Mutex
	var clusters []ival
	solve := func(jl, ju int) {
		var local []ival
		stack := []ival{{gl, gu, 0, n}}
		if from != nil {
			// Lowest first on top, as the halving pushes them.
			stack = stack[:0]
			for i := len(from) - 1; i >= 0; i-- {
				stack = append(stack, from[i])
			}
		}
		var batch [4]ival
		var xs [4]float64
		for len(stack) > 0 {
			// Take up to four intervals that still need halving and count
			// at their midpoints together (four independent recurrences
			// hide the latency of the divisions).
			nb := 0
			for nb < 4 && len(stack) > 0 {
				iv := stack[len(stack)-1]
				stack = stack[:len(stack)-1]
				if iv.chi <= jl || iv.clo >= ju || iv.chi == iv.clo {
					continue
				}
				if iv.hi-iv.lo <= 2*eps*math.Max(math.Abs(iv.lo), math.Abs(iv.hi))+atol {
					v := iv.lo + (iv.hi-iv.lo)/2
					for i := max(iv.clo, jl); i < min(iv.chi, ju); i++ {
						out.w[i-il] = v
					}
					local = append(local, iv)
					continue
				}
				batch[nb] = iv
				xs[nb] = iv.lo + (iv.hi-iv.lo)/2
				nb++
			}
			if nb == 0 {
				continue
			}
			for t := nb; t < 4; t++ {
				xs[t] = xs[0]
			}
			cs := sturmCount4(d, e2, pivmin, xs)
			for t := nb - 1; t >= 0; t-- {
				iv, mid := batch[t], xs[t]
				cm := min(max(cs[t], iv.clo), iv.chi)
				// Push the upper half first so the lower one is refined first.
				stack = append(stack, ival{mid, iv.hi, cm, iv.chi}, ival{iv.lo, mid, iv.clo, cm})
			}
		}
		mu.Lock()
		clusters = append(clusters, local...)
		mu.Unlock()
	}
	k := iu - il
	par := Threads()
	if par > 1 && k >= 32 && n >= 200 {
		var wg sync.WaitGroup
		chunk := (k + par - 1) / par
		for j0 := il; j0 < iu; j0 += chunk {
			wg.Add(1)
			go func(j0 int) {
				defer wg.Done()
				solve(j0, min(j0+chunk, iu))
			}(j0)
		}
		wg.Wait()
	} else {
		solve(il, iu)
	}
	// The final intervals in ascending order, each once (a cluster split
	// over two goroutines' ranges is found by both).
	slices.SortFunc(clusters, func(a, b ival) int { return cmp.Compare(a.clo, b.clo) })
	clusters = slices.CompactFunc(clusters, func(a, b ival) bool { return a == b })
	out.ivals = clusters
	if len(blocks) == 1 {
		return out
	}
	// Attribute each cluster's eigenvalues to blocks (in block order).
	seen := map[[2]float64]bool{}
	for _, iv := range clusters {
		key := [2]float64{iv.lo, iv.hi}
		if seen[key] {
			continue
		}
		seen[key] = true
		g := iv.clo
		for b, bl := range blocks {
			nlo := sturmCount(d[bl[0]:bl[1]], e2[bl[0]:max(bl[1]-1, bl[0])], pivmin, iv.lo)
			nhi := sturmCount(d[bl[0]:bl[1]], e2[bl[0]:max(bl[1]-1, bl[0])], pivmin, iv.hi)
			for c := nlo; c < nhi && g < iv.chi; c++ {
				if g >= il && g < iu {
					out.block[g-il] = b
				}
				g++
			}
		}
	}
	return out
}

// sturmCount returns the number of eigenvalues of (d, e2) below x.
func sturmCount(d, e2 []float64, pivmin, x float64) int {
	cnt := 0
	q := d[0] - x
	if math.Abs(q) <= pivmin {
		q = -pivmin
	}
	if q < 0 {
		cnt++
	}
	for i := 1; i < len(d); i++ {
		q = d[i] - x - e2[i-1]/q
		if math.Abs(q) <= pivmin {
			q = -pivmin
		}
		if q < 0 {
			cnt++
		}
	}
	return cnt
}

// sturmCount4 is sturmCount at four points at once.
func sturmCount4(d, e2 []float64, pivmin float64, x [4]float64) [4]int {
	var cnt [4]int
	q0, q1, q2, q3 := d[0]-x[0], d[0]-x[1], d[0]-x[2], d[0]-x[3]
	for i := 0; ; i++ {
		if math.Abs(q0) <= pivmin {
			q0 = -pivmin
		}
		if math.Abs(q1) <= pivmin {
			q1 = -pivmin
		}
		if math.Abs(q2) <= pivmin {
			q2 = -pivmin
		}
		if math.Abs(q3) <= pivmin {
			q3 = -pivmin
		}
		if q0 < 0 {
			cnt[0]++
		}
		if q1 < 0 {
			cnt[1]++
		}
		if q2 < 0 {
			cnt[2]++
		}
		if q3 < 0 {
			cnt[3]++
		}
		if i+1 >= len(d) {
			break
		}
		di, ei := d[i+1], e2[i]
		q0 = di - x[0] - ei/q0
		q1 = di - x[1] - ei/q1
		q2 = di - x[2] - ei/q2
		q3 = di - x[3] - ei/q3
	}
	return cnt
}
