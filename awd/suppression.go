package awd

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"

	"github.com/awd-toolkit/awd/kernels"
	"github.com/awd-toolkit/awd/linalg"
)

// Interventions of the suppression experiment (paper App. B.3).
const (
	InterventionRank1   = "rank1"
	InterventionMean    = "mean"
	InterventionStiff   = "stiff"
	InterventionShuffle = "shuffle"
)

// Interventions lists the interventions in report order (InterventionNone,
// the unmodified baseline, is also accepted).
var Interventions = []string{InterventionRank1, InterventionMean, InterventionStiff, InterventionStiffPreserve, InterventionShuffle}

// SuppressionConfig holds the parameters of the interventions; the
// defaults (DefaultSuppression) are those of the paper's code.
type SuppressionConfig struct {
	Tau         float64 `json:"tau"`          // stiff: lambda_1^n >= Tau * max_n lambda_1^n
	TailEps     float64 `json:"tail_eps"`     // every intervention: lambda_k, k >= 2, times TailEps
	NonStiffEps float64 `json:"nonstiff_eps"` // stiff: lambda_1 of the non-stiff samples times NonStiffEps
	Seed        uint64  `json:"seed"`         // shuffle: the permutation's seed; paper protocol: the samples' draw
	CorrK       int     `json:"corr_k"`       // rebuild protocol: correlations after the intervention for the top CorrK directions (0: none; at most k, see Config.CorrK)
	// Protocol is ProtocolPaper (SuppressInBasis; "" reads as this) or
	// ProtocolRebuild (SuppressAll).
	Protocol string `json:"protocol"`
	// PerClass is the number of samples per class whose spectra are
	// modified (0: every analysis sample); the code takes 20. A class with
	// fewer analysis samples (those in the AWD batches) gives all of them,
	// as the code's slice of its first 20 does: the Result's Notes name
	// such classes, and Intervention.Samples counts the samples modified.
	PerClass int `json:"per_class"`
}

// DefaultSuppression is the paper code's protocol and parameters
// (Ablation_exp.ipynb): 20 samples per class, diagonals in the original
// basis, tau 0.001 (the notebook overrides its function's 0.1), tails
// x 1e-5, non-stiff lambda_1 x 1e-3. This project's own protocol is
// Protocol ProtocolRebuild with PerClass 0 (it was used with tau 0.1).
var DefaultSuppression = SuppressionConfig{Tau: 0.001, TailEps: 1e-5, NonStiffEps: 1e-3, Seed: 1, CorrK: 200,
	Protocol: ProtocolPaper, PerClass: PaperSuppressionPerClass}

// Intervention is the outcome of one intervention: the top-k spectrum of
// the rebuilt H' = mean_n sum_k lambda'_k v_k v_k^T, the projections
// s'_i = u'_i^T M2' u'_i of M2' = mean_n sum_k lambda'_k^2 v_k v_k^T, and
// the power-law fit of s' on lambda' (the AWD exponent after the
// intervention; C_awd is proportional to M2).
type Intervention struct {
	Name string `json:"name"`
	// Protocol is ProtocolRebuild (H' rebuilt and re-diagonalised, Lambda
	// its top-k eigenvalues, S the s'_i in its basis) or ProtocolPaper
	// (Lambda and S the diagonals h'_i, s'_i in the original H's basis).
	Protocol string `json:"protocol"`
	// Samples is the number of samples whose spectra were modified.
	Samples int       `json:"samples"`
	Fit     Fit       `json:"fit"`
	FitErr  string    `json:"fit_error,omitempty"`
	Stiff   int       `json:"stiff_samples,omitempty"`
	Lambda  []float64 `json:"-"`
	S       []float64 `json:"-"`
	// Corr is the eigenvalue-alignment correlation after the intervention
	// (see Correlation) against H's new top CorrK eigenvectors (array
	// supp_<name>_corr).
	Corr []float64 `json:"-"`
}

// ModifiedMu returns the per-sample eigenvalues mu' of Gamma_n after the
// intervention name (layout of SampleSpectra.Mu) and, for "stiff", the number
// of stiff samples. The interventions act on lambda_k^n = |a_n|^2 mu_k^n;
// lambda_1^n is the largest of the (at most L) nonzero ones, the tails the
// others. (For a sample without positive curvature, possible for MSE, the
// paper code's dense decomposition would put a null direction first.)
//
//	rank1   lambda_k *= TailEps for k >= 2
//	mean    lambda_1 = mean_n lambda_1^n; tails as rank1
//	stiff   stiff samples (lambda_1 >= Tau max lambda_1): lambda_1 = their mean,
//	        tails *= TailEps; the others lambda_1 *= NonStiffEps, tails *= TailEps
//	stiff_preserve  as stiff, but the stiff samples keep their lambda_1
//	shuffle lambda_1 permuted across samples (seeded); tails as rank1, so that
//	        it differs from rank1 only by breaking the pairing of lambda_1 with v_1
//	none    nothing changed
func ModifiedMu(ss *SampleSpectra, name string, cfg SuppressionConfig) ([]float64, int, error) {
	n, r := ss.N, ss.R
	mu := make([]float64, len(ss.Mu))
	copy(mu, ss.Mu)
	if name == InterventionNone {
		return mu, 0, nil
	}
	for s := 0; s < n; s++ {
		for k := 1; k < r; k++ {
			mu[s*r+k] *= cfg.TailEps
		}
	}
	l1 := make([]float64, n)
	var lmax, lmean float64
	lmax = math.Inf(-1)
	for s := range l1 {
		l1[s] = ss.Lambda1(s)
		lmax = math.Max(lmax, l1[s])
		lmean += l1[s] / float64(n)
	}
	set := func(s int, lambda float64) {
		if ss.Norm2[s] > 0 {
			mu[s*r] = lambda / ss.Norm2[s]
		}
	}
	stiff := 0
	switch name {
	case InterventionRank1:
	case InterventionMean:
		for s := range l1 {
			set(s, lmean)
		}
	case InterventionStiff, InterventionStiffPreserve:
		var sm float64
		for _, l := range l1 {
			if l >= cfg.Tau*lmax {
				sm += l
				stiff++
			}
		}
		sm /= float64(stiff)
		for s, l := range l1 {
			if l >= cfg.Tau*lmax {
				if name == InterventionStiff {
					set(s, sm)
				}
			} else {
				set(s, l*cfg.NonStiffEps)
			}
		}
	case InterventionShuffle:
		rng := rand.New(rand.NewPCG(cfg.Seed, 0x5eed))
		perm := rng.Perm(n)
		for s, p := range perm {
			set(s, l1[p])
		}
	default:
		return nil, 0, fmt.Errorf("unknown intervention %q (known: %v)", name, Interventions)
	}
	return mu, stiff, nil
}

// Rebuild returns H' = mean_n Gamma'_n (x) a_n a_n^T and
// M2' = mean_n |a_n|^2 Gamma'_n^2 (x) a_n a_n^T for the eigenvalues mu of
// Gamma'_n (layout of SampleSpectra.Mu) and the eigenvectors of ss, in the
// Kronecker form of docs/math.md section 4. Cost that of two Kronecker
// accumulations, O(N d^2).
func Rebuild(ss *SampleSpectra, mu []float64) (h, m2 linalg.Dense) {
	if err := ss.allVectors("Rebuild"); err != nil {
		panic(err)
	}
	d := ss.M * ss.In
	h, m2 = linalg.NewDense(d, d), linalg.NewDense(d, d)
	if ss.N == 0 {
		return h, m2
	}
	k := rebuildAcc(ss, [][]float64{mu})
	inv := 1 / float64(ss.N)
	k.set(h, 0, inv)
	k.set(m2, 1, inv)
	return h, m2
}

// rebuildAcc accumulates, in one pass over the samples and one GEMM per
// chunk, the packed Kronecker sums of every intervention j: block 2j is
// sum_n Gamma'_jn (x) a_n a_n^T, block 2j+1 is
// sum_n |a_n|^2 Gamma'_jn^2 (x) a_n a_n^T, Gamma'_jn having the eigenvalues
// mus[j] and the eigenvectors of ss. The interventions share a_n a_n^T (the
// packed outer products are built once), and, where they agree on the
// eigenvalues mu_k, k >= 2, of a sample (they all scale the tails alike),
// the tails of Gamma' and Gamma'^2 are summed once for all of them.
func rebuildAcc(ss *SampleSpectra, mus [][]float64) *kron {
	m, in, r := ss.M, ss.In, ss.R
	nb := 2 * len(mus)
	k := newKron(m, in, nb)
	tm, tn := triLen(m), triLen(in)
	chunk := min(DefaultChunk, ss.N)
	xbuf, ybuf := make([]float64, chunk*nb*tm), make([]float64, chunk*tn)
	for s0 := 0; s0 < ss.N; s0 += chunk {
		c := min(chunk, ss.N-s0)
		x, y := linalg.DenseOf(c, nb*tm, xbuf), linalg.DenseOf(c, tn, ybuf)
		parallelRows(c, func(_, r0, r1 int) {
			tail, tail2 := make([]float64, tm), make([]float64, tm)
			w, w2 := make([]float64, r), make([]float64, r)
			for t := r0; t < r1; t++ {
				s := s0 + t
				xr := x.Row(t)
				clear(xr)
				packOuter(y.Row(t), 1, ss.A[s*in:(s+1)*in])
				g := ss.G[s*r*m : (s+1)*r*m]
				n2 := ss.Norm2[s]
				shared := r > 1
				for _, mu := range mus[1:] {
					if !slices.Equal(mu[s*r+1:(s+1)*r], mus[0][s*r+1:(s+1)*r]) {
						shared = false
						break
					}
				}
				if shared {
					for i, mk := range mus[0][s*r+1 : (s+1)*r] {
						w[i], w2[i] = mk, n2*mk*mk
					}
					clear(tail)
					clear(tail2)
					packGram(tail, g[m:], w[:r-1], m)
					packGram(tail2, g[m:], w2[:r-1], m)
				}
				for j, mu := range mus {
					dh, dm := xr[2*j*tm:(2*j+1)*tm], xr[(2*j+1)*tm:(2*j+2)*tm]
					kk := r
					if shared {
						copy(dh, tail)
						copy(dm, tail2)
						kk = 1
					}
					for i, mk := range mu[s*r : s*r+kk] {
						w[i], w2[i] = mk, n2*mk*mk
					}
					packGram(dh, g[:kk*m], w[:kk], m)
					packGram(dm, g[:kk*m], w2[:kk], m)
				}
			}
		})
		k.add(x, y)
	}
	return k
}

// packGram adds sum_k w_k g_k g_k^T to dst, the upper triangle of an m x m
// matrix packed row by row (packUpper); g_k is row k of g (len(w) x m).
func packGram(dst, g, w []float64, m int) {
	for k, wk := range w {
		if wk == 0 {
			continue
		}
		gk := g[k*m : (k+1)*m]
		o := 0
		for p, gp := range gk {
			if gp != 0 {
				kernels.Daxpy(wk*gp, gk[p:], dst[o:o+m-p])
			}
			o += m - p
		}
	}
}

// SuppressAll runs the interventions names (see Suppress) with one pass over
// the samples for all of them (one GEMM per chunk of samples builds every
// intervention's H' and M2'), two at a time, each worker
// reusing its two d x d matrices from one intervention to the next; done, if
// not nil, is called after each (from one goroutine at a time).
func SuppressAll(ss *SampleSpectra, names []string, k int, cfg SuppressionConfig, done func()) ([]Intervention, error) {
	if err := ss.allVectors("the suppression experiment"); err != nil {
		return nil, err
	}
	ivs := make([]Intervention, len(names))
	mus := make([][]float64, len(names))
	for j, name := range names {
		ivs[j].Name, ivs[j].Protocol, ivs[j].Samples = name, ProtocolRebuild, ss.N
		var err error
		if mus[j], ivs[j].Stiff, err = ModifiedMu(ss, name, cfg); err != nil {
			return nil, err
		}
	}
	d := ss.M * ss.In
	var acc *kron
	if ss.N > 0 {
		acc = rebuildAcc(ss, mus)
	}
	inv := 1 / float64(max(ss.N, 1))
	// Two interventions at a time: the eigensolver's reductions are
	// memory-bound and partly serial, so a second eigensolve fills the
	// other core (two more d x d matrices).
	nw := max(1, min(2, runtime.GOMAXPROCS(0), len(names)))
	var mu sync.Mutex
	var wg sync.WaitGroup
	errs := make([]error, len(names))
	for w := 0; w < nw; w++ {
		wg.Go(func() {
			h, m2 := linalg.NewDense(d, d), linalg.NewDense(d, d)
			for j := w; j < len(names); j += nw {
				if acc != nil {
					acc.set(h, 2*j, inv)
					acc.set(m2, 2*j+1, inv)
				}
				if errs[j] = ivs[j].finish(ss, h, m2, mus[j], k, cfg); errs[j] != nil {
					return
				}
				if done != nil {
					mu.Lock()
					done()
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return ivs, nil
}

// finish fills in the spectrum of the rebuilt H', s', the fit and the
// correlations of the intervention with eigenvalues mu.
func (iv *Intervention) finish(ss *SampleSpectra, h, m2 linalg.Dense, mu []float64, k int, cfg SuppressionConfig) error {
	e, err := TopH(h, k)
	if err != nil {
		return fmt.Errorf("suppression %s: %w", iv.Name, err)
	}
	iv.Lambda = e.Values
	iv.S, _ = Project(m2, e.Vectors, false)
	if iv.Fit, err = FitPowerLawAbove(iv.Lambda, iv.S, NullFloor(iv.Lambda, h.Rows)); err != nil {
		iv.FitErr = err.Error()
	}
	if kc := min(k, cfg.CorrK); kc > 0 {
		l1 := make([]float64, ss.N)
		for s := range l1 {
			l1[s] = ss.Norm2[s] * mu[s*ss.R]
		}
		iv.Corr = Correlation(ss, l1, e.Vectors.View(0, 0, e.Vectors.Rows, kc))
	}
	return nil
}

// Suppress runs one intervention: modified per-sample spectra, rebuilt H'
// and M2', the top-k eigenpairs of H', s'_i and the fit of s' on lambda',
// and the eigenvalue-alignment correlation after the intervention.
func Suppress(ss *SampleSpectra, name string, k int, cfg SuppressionConfig) (Intervention, error) {
	iv := Intervention{Name: name, Protocol: ProtocolRebuild, Samples: ss.N}
	if err := ss.allVectors("the suppression experiment"); err != nil {
		return iv, err
	}
	mu, stiff, err := ModifiedMu(ss, name, cfg)
	if err != nil {
		return iv, err
	}
	iv.Stiff = stiff
	h, m2 := Rebuild(ss, mu)
	if err := iv.finish(ss, h, m2, mu, k, cfg); err != nil {
		return iv, err
	}
	return iv, nil
}
