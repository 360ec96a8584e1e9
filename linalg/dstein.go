package linalg

import (
	"math"
	"math/rand/v2"
	"sync"

	"github.com/awd-toolkit/awd/kernels"
)

// Inverse iteration for eigenvectors of a symmetric tridiagonal matrix
// (LAPACK DSTEIN).
//
// For an eigenvalue lambda accurate to O(eps ||T||), one or two solves of
// (T - lambda I) x = b from a random b give x dominated by the eigenvector:
// the residual of x/|x| is |b|/|x|, so iteration stops once
// |x| >= 1/(10 sqrt(m) eps3) (eps3 = 2 eps ||T||), plus one extra solve.
// The solves use Gaussian elimination with partial pivoting of the
// tridiagonal matrix (DGTTRF/DGTTRS), pivots below eps3 being perturbed to
// eps3. Eigenvalues closer than 1e-3 ||T|| form a cluster: each new vector is
// orthogonalised (modified Gram-Schmidt, twice) against the cluster's earlier
// ones after every solve, and exactly equal eigenvalues are separated by
// 10 eps max(|lambda|, ||T||) first. Clusters are independent and run
// concurrently. Cost O(m) per solve plus O(m c) per vector in a cluster of
// size c.

// dstein computes the eigenvectors of the tridiagonal (d, e) for the
// eigenvalues s.w (ascending, with their blocks) into the columns of z
// (n x len(s.w)), which must be zero on entry.
func dstein(d, e []float64, s tridiagSubset, z Dense) {
	k := len(s.w)
	// Clusters: within each block, runs of eigenvalues closer than ortol.
	type item struct {
		b    int
		cols []int
	}
	byBlock := make(map[int][]int)
	var order []int
	for j := 0; j < k; j++ {
		b := s.block[j]
		if _, ok := byBlock[b]; !ok {
			order = append(order, b)
		}
		byBlock[b] = append(byBlock[b], j)
	}
	var items []item
	for _, b := range order {
		cols := byBlock[b]
		ortol := 1e-3 * blockNorm(d, e, s.blocks[b])
		for i := 0; i < len(cols); {
			i1 := i + 1
			for i1 < len(cols) && s.w[cols[i1]]-s.w[cols[i1-1]] <= ortol {
				i1++
			}
			items = append(items, item{b, cols[i:i1]})
			i = i1
		}
	}
	run := func(it item) {
		bl := s.blocks[it.b]
		m := bl[1] - bl[0]
		c := len(it.cols)
		vecs := make([]float64, c*m)
		if m == 1 {
			for t := 0; t < c; t++ {
				vecs[t] = 1
			}
		} else {
			w := make([]float64, c)
			for t, j := range it.cols {
				w[t] = s.w[j]
			}
			inverseIterCluster(d[bl[0]:bl[1]], e[bl[0]:bl[1]-1], w, it.cols[0], vecs)
		}
		for t, col := range it.cols {
			for r := 0; r < m; r++ {
				z.Data[(bl[0]+r)*z.Stride+col] = vecs[t*m+r]
			}
		}
	}
	par := Threads()
	if par <= 1 || len(items) < 2 {
		for _, it := range items {
			run(it)
		}
		return
	}
	var wg sync.WaitGroup
	next := make(chan item)
	for g := 0; g < par; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for it := range next {
				run(it)
			}
		}()
	}
	for _, it := range items {
		next <- it
	}
	close(next)
	wg.Wait()
}

func blockNorm(d, e []float64, bl [2]int) float64 {
	var nrm float64
	for i := bl[0]; i < bl[1]; i++ {
		r := math.Abs(d[i])
		if i > bl[0] {
			r += math.Abs(e[i-1])
		}
		if i < bl[1]-1 {
			r += math.Abs(e[i])
		}
		nrm = math.Max(nrm, r)
	}
	return nrm
}

// inverseIterCluster computes the unit eigenvectors for the clustered
// eigenvalues w of the unreduced tridiagonal (d, e) into the rows of vecs
// (len(w) x m). seed makes the random starts deterministic.
func inverseIterCluster(d, e, w []float64, seed int, vecs []float64) {
	m := len(d)
	onenrm := blockNorm(d, e, [2]int{0, m})
	eps3 := 2 * eps * onenrm
	if eps3 == 0 {
		eps3 = safmin
	}
	crit := 1 / (10 * math.Sqrt(float64(m)) * eps3)
	f := newTridiagLU(m)
	xjm := math.Inf(-1)
	for t, lam := range w {
		if t > 0 {
			pert := 10 * eps * math.Max(math.Abs(lam), onenrm)
			if lam-xjm < pert {
				lam = xjm + pert
			}
		}
		xjm = lam
		f.factor(d, e, lam, eps3)
		rng := rand.New(rand.NewPCG(uint64(seed+t), 0x5eed))
		x := vecs[t*m : (t+1)*m]
		for i := range x {
			x[i] = 2*rng.Float64() - 1
		}
		orthAgainst(x, vecs[:t*m], m)
		normalize(x)
		extra := 0
		for it := 0; it < 8; it++ {
			f.solve(x)
			orthAgainst(x, vecs[:t*m], m)
			g := dnrm2(x)
			if g == 0 || math.IsInf(g, 0) || math.IsNaN(g) {
				for i := range x {
					x[i] = 2*rng.Float64() - 1
				}
				orthAgainst(x, vecs[:t*m], m)
				normalize(x)
				continue
			}
			kernels.Dscal(1/g, x)
			if g >= crit {
				extra++
				if extra > 1 {
					break
				}
			}
		}
		// Sign convention: largest component positive.
		jmax := 0
		for i := range x {
			if math.Abs(x[i]) > math.Abs(x[jmax]) {
				jmax = i
			}
		}
		if x[jmax] < 0 {
			kernels.Dscal(-1, x)
		}
	}
}

// orthAgainst removes from x its components along the rows of prev (unit
// vectors of length m), by modified Gram-Schmidt applied twice.
func orthAgainst(x, prev []float64, m int) {
	c := len(prev) / m
	for pass := 0; pass < 2 && c > 0; pass++ {
		for p := 0; p < c; p++ {
			v := prev[p*m : (p+1)*m]
			kernels.Daxpy(-kernels.Ddot(v, x), v, x)
		}
	}
}

func normalize(x []float64) {
	if g := dnrm2(x); g > 0 {
		kernels.Dscal(1/g, x)
	}
}

// tridiagLU is the LU factorisation with partial pivoting of T - lambda I
// (LAPACK DGTTRF): L unit lower bidiagonal with multipliers dl, U upper
// triangular with diagonal dg and two superdiagonals du, du2.
type tridiagLU struct {
	dl, dg, du, du2 []float64
	piv             []bool
}

func newTridiagLU(m int) *tridiagLU {
	return &tridiagLU{dl: make([]float64, m), dg: make([]float64, m), du: make([]float64, m), du2: make([]float64, m), piv: make([]bool, m)}
}

// factor factors T - lam I and replaces pivots smaller than tol by +-tol.
func (f *tridiagLU) factor(d, e []float64, lam, tol float64) {
	m := len(d)
	for i := 0; i < m; i++ {
		f.dg[i] = d[i] - lam
		f.du2[i] = 0
		f.piv[i] = false
		if i < m-1 {
			f.dl[i] = e[i]
			f.du[i] = e[i]
		}
	}
	for i := 0; i < m-1; i++ {
		if math.Abs(f.dg[i]) >= math.Abs(f.dl[i]) {
			if f.dg[i] != 0 {
				fact := f.dl[i] / f.dg[i]
				f.dl[i] = fact
				f.dg[i+1] -= fact * f.du[i]
			} else {
				f.dl[i] = 0
			}
		} else {
			fact := f.dg[i] / f.dl[i]
			f.dg[i] = f.dl[i]
			f.dl[i] = fact
			tmp := f.du[i]
			f.du[i] = f.dg[i+1]
			f.dg[i+1] = tmp - fact*f.dg[i+1]
			if i < m-2 {
				f.du2[i] = f.du[i+1]
				f.du[i+1] = -fact * f.du[i+1]
			}
			f.piv[i] = true
		}
	}
	for i := 0; i < m; i++ {
		if math.Abs(f.dg[i]) < tol {
			f.dg[i] = math.Copysign(tol, f.dg[i])
		}
	}
}

// solve overwrites x with (T - lam I)^{-1} x using the factorisation.
func (f *tridiagLU) solve(x []float64) {
	m := len(x)
	for i := 0; i < m-1; i++ {
		if f.piv[i] {
			x[i], x[i+1] = x[i+1], x[i]-f.dl[i]*x[i+1]
		} else {
			x[i+1] -= f.dl[i] * x[i]
		}
	}
	x[m-1] /= f.dg[m-1]
	if m > 1 {
		x[m-2] = (x[m-2] - f.du[m-2]*x[m-1]) / f.dg[m-2]
	}
	for i := m - 3; i >= 0; i-- {
		x[i] = (x[i] - f.du[i]*x[i+1] - f.du2[i]*x[i+2]) / f.dg[i]
	}
}
