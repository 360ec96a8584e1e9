package awd

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
)

// MLFit is a maximum-likelihood power-law fit of the tail of a set of
// positive values x (a spectrum), after Clauset, Shalizi and Newman (SIAM
// Review 51, 2009): the density p(x) = (Alpha-1)/XMin (x/XMin)^-Alpha for
// x >= XMin, Alpha = 1 + NTail / sum ln(x_i/XMin) over the tail, XMin the
// candidate that minimises the Kolmogorov-Smirnov distance KS between the
// tail and the fitted law. SE = (Alpha-1)/sqrt(NTail) is the standard
// error of Alpha. P is the goodness-of-fit p-value: the fraction of Reps
// synthetic data sets (the fitted law above XMin with probability
// NTail/N, the observed values below it otherwise), each fitted the same
// way, whose KS distance is at least KS; P < 0.1 rejects the power law.
// A rank-ordered spectrum lambda_i ~ i^-s has Alpha = 1 + 1/s: RankExp is
// s = 1/(Alpha-1).
type MLFit struct {
	Alpha   float64 `json:"alpha"`
	SE      float64 `json:"se"`
	XMin    float64 `json:"xmin"`
	NTail   int     `json:"n_tail"`
	N       int     `json:"n"`
	KS      float64 `json:"ks"`
	P       Float   `json:"p"` // NaN without the test (Reps 0)
	Reps    int     `json:"reps"`
	RankExp float64 `json:"rank_exponent"`
	Seed    uint64  `json:"seed"`
}

// mlMinTail is the smallest tail a candidate XMin may leave, and
// mlCandidates the most candidates tried (spread evenly over the sorted
// values that leave that tail), which bounds the cost at
// O(mlCandidates n) per fit.
const (
	mlMinTail    = 10
	mlCandidates = 100
)

// FitPowerLawML fits the positive values of x (others are ignored) as
// MLFit describes, with reps synthetic data sets from PCG(seed) for the
// goodness of fit. Cost O(mlCandidates n (reps + 1)). An error when fewer
// than mlMinTail positive values remain.
func FitPowerLawML(x []float64, reps int, seed uint64) (MLFit, error) {
	var v []float64
	for _, xi := range x {
		if xi > 0 && !math.IsInf(xi, 0) {
			v = append(v, xi)
		}
	}
	if len(v) < mlMinTail {
		return MLFit{}, fmt.Errorf("power-law fit (ML): %d positive values, need %d", len(v), mlMinTail)
	}
	slices.Sort(v)
	f := MLFit{N: len(v), Reps: reps, Seed: seed, P: Float(math.NaN())}
	var ok bool
	f.Alpha, f.XMin, f.KS, f.NTail, ok = mlScan(v)
	if !ok {
		return f, fmt.Errorf("power-law fit (ML): no candidate xmin (%d values, all equal?)", len(v))
	}
	f.SE = (f.Alpha - 1) / math.Sqrt(float64(f.NTail))
	f.RankExp = 1 / (f.Alpha - 1)
	if reps > 0 {
		rng := rand.New(rand.NewPCG(seed, 0x706f776572))
		body := v[:len(v)-f.NTail]
		ptail := float64(f.NTail) / float64(len(v))
		syn := make([]float64, len(v))
		hits := 0
		for r := 0; r < reps; r++ {
			for i := range syn {
				if len(body) == 0 || rng.Float64() < ptail {
					syn[i] = f.XMin * math.Pow(1-rng.Float64(), -1/(f.Alpha-1))
				} else {
					syn[i] = body[rng.IntN(len(body))]
				}
			}
			slices.Sort(syn)
			if _, _, ks, _, ok := mlScan(syn); ok && ks >= f.KS {
				hits++
			}
		}
		f.P = Float(float64(hits) / float64(reps))
	}
	return f, nil
}

// mlScan returns the fit with the smallest KS distance over the candidate
// xmin of the ascending values v.
func mlScan(v []float64) (alpha, xmin, ks float64, ntail int, ok bool) {
	n := len(v)
	last := n - mlMinTail // the largest start index leaving mlMinTail values
	if last < 0 {
		return 0, 0, 0, 0, false
	}
	// ln x, and its suffix sums for the MLE at each start
	lx := make([]float64, n)
	logs := make([]float64, n+1)
	for i := n - 1; i >= 0; i-- {
		lx[i] = math.Log(v[i])
		logs[i] = logs[i+1] + lx[i]
	}
	step := max(1, (last+1)/mlCandidates)
	ks = math.Inf(1)
	prev := -1.0
	for i := 0; i <= last; i += step {
		if v[i] == prev {
			continue // the same xmin
		}
		prev = v[i]
		for i > 0 && v[i-1] == v[i] { // the tail starts at the first copy of xmin
			i--
		}
		nt := n - i
		s := logs[i] - float64(nt)*lx[i]
		if s <= 0 {
			continue
		}
		a := 1 + float64(nt)/s
		d := ksPareto(lx[i:], a)
		if d < ks {
			alpha, xmin, ks, ntail, ok = a, v[i], d, nt, true
		}
	}
	return alpha, xmin, ks, ntail, ok
}

// ksPareto is the Kolmogorov-Smirnov distance between the ascending sample
// whose logarithms are lt and the power law of exponent a above
// xmin = exp(lt[0]), CDF 1 - (x/xmin)^(1-a).
func ksPareto(lt []float64, a float64) float64 {
	n := float64(len(lt))
	l0 := lt[0]
	var d float64
	for j, lx := range lt {
		p := 1 - math.Exp((1-a)*(lx-l0))
		d = math.Max(d, math.Max(math.Abs(float64(j+1)/n-p), math.Abs(p-float64(j)/n)))
	}
	return d
}
