package awd

import (
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/awd-toolkit/awd/linalg"
)

// Suppression protocols (Intervention.Protocol).
const (
	// ProtocolPaper is the paper code's protocol (Ablation_exp.ipynb):
	// a subset of PaperSuppressionPerClass samples per class, tau 0.001,
	// and the diagonals of the modified H' and M2' read in the ORIGINAL H's
	// eigenbasis (SuppressInBasis).
	ProtocolPaper = "paper"
	// ProtocolRebuild is this project's: all analysis samples, H' rebuilt
	// and re-diagonalised, s'_i in H''s own eigenbasis (SuppressAll).
	ProtocolRebuild = "rebuild"
)

// More interventions.
const (
	// InterventionNone keeps every eigenvalue: the baseline of the
	// protocol ("Original" in the code's figure).
	InterventionNone = "none"
	// InterventionStiffPreserve is stiff without the mean collapse: tails
	// x TailEps, the non-stiff samples' lambda_1 x NonStiffEps, the stiff
	// ones' lambda_1 kept ("Cut @ k=1 & Stiff Preserve" in the code).
	InterventionStiffPreserve = "stiff_preserve"
)

// PaperSuppressionPerClass is the number of samples per class the paper's
// code decomposes (cal_h_g.py: sample_number = 20).
const PaperSuppressionPerClass = 20

// PaperInterventions are the rows of the code's figure: the original
// spectra, tails suppressed, stiff preserved, stiff mean collapse.
var PaperInterventions = []string{InterventionNone, InterventionRank1, InterventionStiffPreserve, InterventionStiff}

// SubsetPerClass returns perClass positions of each class of labels
// (all of a class with fewer), drawn at random from PCG(seed, "awdsubst"),
// in increasing order. The paper's code takes the first 20 of each class
// of its (randomly permuted) training set. A negative perClass is a
// programming error and panics with its value (SuppressionConfig.Validate
// refuses it where a user gives it).
func SubsetPerClass(labels []int, perClass int, seed uint64) []int {
	if perClass < 0 {
		panic(fmt.Sprintf("awd: SubsetPerClass: perClass=%d, want at least 0", perClass))
	}
	classes, by := byClass(labels)
	rng := rand.New(rand.NewPCG(seed, 0x6177647375627374))
	var out []int
	for _, c := range classes {
		idx := by[c]
		rng.Shuffle(len(idx), func(i, j int) { idx[i], idx[j] = idx[j], idx[i] })
		out = append(out, idx[:min(perClass, len(idx))]...)
	}
	slices.Sort(out)
	return out
}

// byClass returns the distinct labels in ascending order and the positions
// of each in labels: the grouping that SubsetPerClass draws from and
// perClassNote counts.
func byClass(labels []int) ([]int, map[int][]int) {
	by := map[int][]int{}
	for i, y := range labels {
		by[y] = append(by[y], i)
	}
	return slices.Sorted(maps.Keys(by)), by
}

// perClassNote says which classes of labels have fewer samples than
// perClass, of which SubsetPerClass then takes all (as the paper code's
// slice of the first 20 of each class does), and how many samples are
// taken in all; "" when every class has perClass (or perClass is 0).
func perClassNote(labels []int, perClass int) string {
	if perClass <= 0 {
		return ""
	}
	classes, by := byClass(labels)
	var short []string
	taken := 0
	for _, c := range classes {
		n := len(by[c])
		taken += min(n, perClass)
		if n < perClass {
			short = append(short, fmt.Sprintf("%d (%d)", c, n))
		}
	}
	if len(short) == 0 {
		return ""
	}
	noun := "class "
	if len(short) > 1 {
		noun = "classes "
	}
	return fmt.Sprintf("suppression: per_class %d is more than the analysis samples of %s%s: all of theirs are modified, %d samples in all", perClass, noun, strings.Join(short, ", "), taken)
}

// Subset returns the per-sample spectra of the samples idx (positions in ss).
func (ss *SampleSpectra) Subset(idx []int) *SampleSpectra {
	m, in, r, v := ss.M, ss.In, ss.R, ss.Kept()
	out := NewSampleSpectra(m, in, r)
	out.V = v
	out.Grow(len(idx))
	for _, s := range idx {
		if s < 0 || s >= ss.N {
			panic(fmt.Sprintf("awd: SampleSpectra.Subset: sample %d of %d", s, ss.N))
		}
		out.A = append(out.A, ss.A[s*in:(s+1)*in]...)
		out.Norm2 = append(out.Norm2, ss.Norm2[s])
		out.Scale = append(out.Scale, ss.Scale[s])
		out.Mu = append(out.Mu, ss.Mu[s*r:(s+1)*r]...)
		out.G = append(out.G, ss.G[s*v*m:(s+1)*v*m]...)
		if len(ss.Label) == ss.N {
			out.Label = append(out.Label, ss.Label[s])
		}
		out.N++
	}
	return out
}

// SuppressInBasis runs the interventions names with the paper code's
// protocol (Ablation_exp.ipynb: get_top_k_decomposition, compute_H_C_only,
// create_stiff_mean_spectrum) on the per-sample spectra ss, in the basis u
// (d x k: the top-k eigenvectors of the original H, which the code's
// h_holder is rotated into). For each intervention, with lambda'_kn the
// modified eigenvalues of H_n (ModifiedMu) and v_kn its eigenvectors,
//
//	h'_i = mean_n sum_k lambda'_kn (v_kn . u_i)^2
//	s'_i = mean_n sum_k lambda'_kn^2 (v_kn . u_i)^2
//
// are the diagonals of the modified H' and M2' in u's basis (no matrix is
// rebuilt and nothing is re-diagonalised) and the fit is of s'_i on h'_i
// (Lambda = h', S = s'). InterventionNone is the unmodified baseline.
// The code keeps min(d, 2000) modes per sample; all but rank(H_n) <= L of
// them are zero, and ss keeps those L. Cost 2 N d k flops for the
// projections plus N k L per intervention.
func SuppressInBasis(ss *SampleSpectra, u linalg.Dense, names []string, cfg SuppressionConfig) ([]Intervention, error) {
	d, k := u.Rows, u.Cols
	if d != ss.M*ss.In {
		panic(fmt.Sprintf("awd: SuppressInBasis: basis of %d rows for d=%d", d, ss.M*ss.In))
	}
	if ss.N == 0 {
		return nil, fmt.Errorf("suppression (paper protocol): no samples")
	}
	if err := ss.allVectors("the suppression experiment"); err != nil {
		return nil, err
	}
	mus := make([][]float64, len(names))
	ivs := make([]Intervention, len(names))
	for j, name := range names {
		ivs[j] = Intervention{Name: name, Protocol: ProtocolPaper, Samples: ss.N}
		if name == InterventionNone {
			mus[j] = ss.Mu
			continue
		}
		var err error
		if mus[j], ivs[j].Stiff, err = ModifiedMu(ss, name, cfg); err != nil {
			return nil, err
		}
	}
	// Per worker: the sums of h' and s' of every intervention, over blocks
	// of samples whose projections are GEMMs.
	type part struct{ h, s [][]float64 }
	const blk = 32
	nblk := (ss.N + blk - 1) / blk
	nw := max(1, min(runtime.GOMAXPROCS(0), nblk))
	parts := make([]part, nw)
	for w := range parts {
		parts[w] = part{make([][]float64, len(names)), make([][]float64, len(names))}
		for j := range names {
			parts[w].h[j] = make([]float64, k)
			parts[w].s[j] = make([]float64, k)
		}
	}
	var wg sync.WaitGroup
	for w := 0; w < nw; w++ {
		wg.Go(func() { suppressBlocks(ss, u, mus, parts[w].h, parts[w].s, w*nblk/nw, (w+1)*nblk/nw, blk) })
	}
	wg.Wait()
	inv := 1 / float64(ss.N)
	for j := range ivs {
		h, s := make([]float64, k), make([]float64, k)
		for _, p := range parts {
			for i := 0; i < k; i++ {
				h[i] += p.h[j][i]
				s[i] += p.s[j][i]
			}
		}
		for i := range h {
			h[i] *= inv
			s[i] *= inv
		}
		ivs[j].Lambda, ivs[j].S = h, s
		var err error
		if ivs[j].Fit, err = FitPowerLawAbove(h, s, NullFloor(h, d)); err != nil {
			ivs[j].FitErr = err.Error()
		}
	}
	return ivs, nil
}

// suppressBlocks adds, for the sample blocks [b0, b1) of size blk, the
// terms of h'_i and s'_i of every intervention (eigenvalues mus[j]) to h[j]
// and s[j].
func suppressBlocks(ss *SampleSpectra, u linalg.Dense, mus [][]float64, h, s [][]float64, b0, b1, blk int) {
	m, in, r, k := ss.M, ss.In, ss.R, u.Cols
	ahat := linalg.NewDense(blk, in)
	z := make([]linalg.Dense, m) // z[q] (blk x k): (U_i a_hat)_q for the block's samples
	for q := range z {
		z[q] = linalg.NewDense(blk, k)
	}
	proj := make([]float64, r)
	for b := b0; b < b1; b++ {
		s0 := b * blk
		c := min(blk, ss.N-s0)
		for t := 0; t < c; t++ {
			row := ahat.Row(t)
			copy(row, ss.A[(s0+t)*in:(s0+t+1)*in])
			if n2 := ss.Norm2[s0+t]; n2 > 0 {
				inv := 1 / math.Sqrt(n2)
				for i := range row {
					row[i] *= inv
				}
			}
		}
		for q := 0; q < m; q++ {
			linalg.Gemm(false, false, 1, ahat.View(0, 0, c, in), u.View(q*in, 0, in, k), 0, z[q].View(0, 0, c, k))
		}
		for t := 0; t < c; t++ {
			smp := s0 + t
			g := ss.G[smp*r*m : (smp+1)*r*m]
			for i := 0; i < k; i++ {
				// (v_kn . u_i)^2 = (gamma_kn . U_i a_hat_n)^2, U_i the m x in
				// matrix of u_i
				for kk := 0; kk < r; kk++ {
					var v float64
					for q, gq := range g[kk*m : (kk+1)*m] {
						v += gq * z[q].Data[t*z[q].Stride+i]
					}
					proj[kk] = v * v
				}
				for j, mu := range mus {
					var hv, sv float64
					for kk, pv := range proj {
						lam := ss.Norm2[smp] * mu[smp*r+kk]
						hv += lam * pv
						sv += lam * lam * pv
					}
					h[j][i] += hv
					s[j][i] += sv
				}
			}
		}
	}
}
