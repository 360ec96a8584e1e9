package awd

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/awd-toolkit/awd/linalg"
)

// Interventions of the suppression experiment (paper App. B.3).
const (
	InterventionRank1   = "rank1"
	InterventionMean    = "mean"
	InterventionStiff   = "stiff"
	InterventionShuffle = "shuffle"
)

// Interventions lists the known interventions in report order.
var Interventions = []string{InterventionRank1, InterventionMean, InterventionStiff, InterventionShuffle}

// SuppressionConfig holds the parameters of the interventions; the
// defaults (DefaultSuppression) are those of the paper's code.
type SuppressionConfig struct {
	Tau         float64 `json:"tau"`          // stiff: lambda_1^n >= Tau * max_n lambda_1^n
	TailEps     float64 `json:"tail_eps"`     // every intervention: lambda_k, k >= 2, times TailEps
	NonStiffEps float64 `json:"nonstiff_eps"` // stiff: lambda_1 of the non-stiff samples times NonStiffEps
	Seed        uint64  `json:"seed"`         // shuffle: the permutation's seed
	CorrK       int     `json:"corr_k"`       // correlations after the intervention for the top CorrK directions (0: none)
}

// DefaultSuppression is tau 0.1, tails x 1e-5, non-stiff lambda_1 x 1e-3.
var DefaultSuppression = SuppressionConfig{Tau: 0.1, TailEps: 1e-5, NonStiffEps: 1e-3, Seed: 1, CorrK: 200}

// Intervention is the outcome of one intervention: the top-k spectrum of
// the rebuilt H' = mean_n sum_k lambda'_k v_k v_k^T, the projections
// s'_i = u'_i^T M2' u'_i of M2' = mean_n sum_k lambda'_k^2 v_k v_k^T, and
// the power-law fit of s' on lambda' (the AWD exponent after the
// intervention; C_awd is proportional to M2).
type Intervention struct {
	Name   string    `json:"name"`
	Fit    Fit       `json:"fit"`
	FitErr string    `json:"fit_error,omitempty"`
	Stiff  int       `json:"stiff_samples,omitempty"`
	Lambda []float64 `json:"-"`
	S      []float64 `json:"-"`
	// Corr is the eigenvalue-alignment correlation after the intervention
	// (see Correlation) against H's new top CorrK eigenvectors (array
	// supp_<name>_corr).
	Corr []float64 `json:"-"`
}

// ModifiedMu returns the per-sample eigenvalues mu' of Gamma_n after the
// intervention name (layout of SampleSpectra.Mu) and, for "stiff", the number
// of stiff samples. The interventions act on lambda_k^n = |a_n|^2 mu_k^n:
//
//	rank1   lambda_k *= TailEps for k >= 2
//	mean    lambda_1 = mean_n lambda_1^n; tails as rank1
//	stiff   stiff samples (lambda_1 >= Tau max lambda_1): lambda_1 = their mean,
//	        tails *= TailEps; the others lambda_1 *= NonStiffEps, tails *= TailEps
//	shuffle lambda_1 permuted across samples (seeded); tails as rank1, so that
//	        it differs from rank1 only by breaking the pairing of lambda_1 with v_1
func ModifiedMu(ss *SampleSpectra, name string, cfg SuppressionConfig) ([]float64, int, error) {
	n, r := ss.N, ss.R
	mu := make([]float64, len(ss.Mu))
	copy(mu, ss.Mu)
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
	case InterventionStiff:
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
				set(s, sm)
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
// Kronecker form of SPEC section 4. Cost that of two Kronecker
// accumulations, O(N d^2).
func Rebuild(ss *SampleSpectra, mu []float64) (h, m2 linalg.Dense) {
	m, in, r := ss.M, ss.In, ss.R
	d := m * in
	h, m2 = linalg.NewDense(d, d), linalg.NewDense(d, d)
	if ss.N == 0 {
		return h, m2
	}
	// KronSum streams its own GEMM chunks; this outer chunk only bounds the
	// memory of the modified P_n to chunk m^2 numbers.
	chunk := 4 * DefaultChunk
	c0 := min(chunk, ss.N)
	ph, pm := linalg.NewDense(c0, m*m), linalg.NewDense(c0, m*m)
	inv := 1 / float64(ss.N)
	for s0 := 0; s0 < ss.N; s0 += chunk {
		c := min(chunk, ss.N-s0)
		for t := 0; t < c; t++ {
			s := s0 + t
			gp, gp2 := ph.Row(t), pm.Row(t)
			clear(gp)
			clear(gp2)
			n2 := ss.Norm2[s]
			for k := 0; k < r; k++ {
				mk := mu[s*r+k]
				if mk == 0 {
					continue
				}
				g := ss.G[(s*r+k)*m : (s*r+k+1)*m]
				for p, gpv := range g {
					if gpv == 0 {
						continue
					}
					row, row2 := gp[p*m:(p+1)*m], gp2[p*m:(p+1)*m]
					w1, w2 := mk*gpv, n2*mk*mk*gpv
					for q, gq := range g {
						row[q] += w1 * gq
						row2[q] += w2 * gq
					}
				}
			}
		}
		a := linalg.DenseOf(c, in, ss.A[s0*in:(s0+c)*in])
		KronSum(h, inv, ph.View(0, 0, c, m*m), a)
		KronSum(m2, inv, pm.View(0, 0, c, m*m), a)
	}
	return h, m2
}

// Suppress runs one intervention: modified per-sample spectra, rebuilt H'
// and M2', the top-k eigenpairs of H', s'_i and the fit of s' on lambda',
// and the eigenvalue-alignment correlation after the intervention.
func Suppress(ss *SampleSpectra, name string, k int, cfg SuppressionConfig) (Intervention, error) {
	iv := Intervention{Name: name}
	mu, stiff, err := ModifiedMu(ss, name, cfg)
	if err != nil {
		return iv, err
	}
	iv.Stiff = stiff
	h, m2 := Rebuild(ss, mu)
	e, err := TopH(h, k)
	if err != nil {
		return iv, fmt.Errorf("suppression %s: %w", name, err)
	}
	iv.Lambda = e.Values
	iv.S, _ = Project(m2, e.Vectors, false)
	if iv.Fit, err = FitPowerLaw(iv.Lambda, iv.S); err != nil {
		iv.FitErr = err.Error()
	}
	if kc := min(k, cfg.CorrK); kc > 0 {
		l1 := make([]float64, ss.N)
		for s := range l1 {
			l1[s] = ss.Norm2[s] * mu[s*ss.R]
		}
		iv.Corr = Correlation(ss, l1, e.Vectors.View(0, 0, e.Vectors.Rows, kc))
	}
	return iv, nil
}
