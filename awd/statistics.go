package awd

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/awd-toolkit/awd/linalg"
)

// Covariances are the finished d x d matrices of docs/math.md section 4 that the
// statistics need. X holds the covariances by name (NameC, NameCPair,
// NameCPair2, NameCMb, NameM2; absent ones are skipped; C_mb may come as
// factors instead, when only its c_i are measured); C_awd is not stored,
// its projections are (Sigma2/B) s_i. Sigma2 is NaN when no pair was
// matched (errNoPairs): there is then no C_awd.
type Covariances struct {
	H      linalg.Dense
	X      map[string]linalg.Dense
	Sigma2 float64
	B      int
	N      int

	sigma2D, sigma2M float64     // sigma^2 per d and per m (Sigma2 is one of them)
	boot             *BootGroups // the bootstrap groups (nil: no bootstrap)
	// eig, when set, holds SolveH's eigenpairs of H, computed before
	// Statistics (Finalize solves as soon as H is unpacked); Statistics
	// then leaves r.Timings.Eigensolve to its caller.
	eig *linalg.Eigen
	// owned says that no one else holds the matrices (Finalize made them):
	// Statistics gives each to the warm cache after its last use, where the
	// work matrices of the later steps find mapped memory.
	owned    bool
	released map[*float64]bool // what release gave away (a matrix under two names goes once)
	// factors are covariances whose c_i are all the statistics need, kept
	// as low-rank factors instead of d x d matrices (C_mb from its nb = N/B
	// batch gradients); their names are not in X.
	factors map[string]lowRank
}

// release gives x to the warm cache when cv owns it.
func (cv Covariances) release(x linalg.Dense) {
	if !cv.owned || len(x.Data) == 0 || cv.released[&x.Data[0]] {
		return
	}
	cv.released[&x.Data[0]] = true
	linalg.Recycle(x.Data)
}

// SolveH returns the eigenpairs of H the statistics of cfg need: the top k,
// or all d when the alignment is measured in H's full eigenbasis (or the
// bootstrap's basis when it runs). ctx cancels it (the solve in flight
// then finishes in the background and its result is dropped); prog may be
// nil.
func SolveH(ctx context.Context, h linalg.Dense, cfg Config, prog Progress) (eig linalg.Eigen, err error) {
	ctx, prog, stop := guardProgress(ctx, prog)
	defer func() {
		if err = stop(err); err != nil {
			eig = linalg.Eigen{}
		}
	}()
	d := h.Rows
	if cfg.K > d {
		return linalg.Eigen{}, fmt.Errorf("k=%d exceeds d=%d", cfg.K, d)
	}
	prog.Start("eigensolve", 1)
	defer prog.Finish()
	// e is the solver's own: a cancelled solve still writes it in the
	// background after SolveH has returned.
	var e linalg.Eigen
	err = cancellable(ctx, func() error {
		var err error
		if need := eigenNeed(cfg, d); need == d {
			e, err = linalg.EigSym(h, true)
		} else {
			e, err = TopH(h, need)
		}
		return err
	})
	if err != nil {
		return linalg.Eigen{}, err
	}
	prog.Add(1)
	return e, nil
}

// errNoPairs is the fit error of C_awd when no pair of samples was
// matched with a nonzero layer input a_n (a layer whose inputs are zero for
// every matched sample): without a dtheta_n there is no sigma^2, recorded
// as null, and no C_awd.
// errNoPairDTheta says why C_pair and C_pair2 are missing without a matched
// pair.
var errNoPairDTheta = errors.New("no matched pair has a nonzero layer input a_n, so no dtheta_n to measure it on (analyse a layer whose inputs are not all zero)")

// addNoPairErrors records why the covariances of matched pairs that cfg
// asks for are missing when no pair was matched (n samples): C_pair,
// C_pair2 with Pair2, the code's C_pair2 with Pair2Code unless its own
// accumulator has said so.
func (r *Result) addNoPairErrors(cfg Config, n int) {
	r.addFitError(NameCPair, errNoPairDTheta)
	if cfg.Pair2 {
		r.addFitError(NameCPair2, errNoPairDTheta)
	}
	if _, said := r.FitErrors[NameCPair2Code]; cfg.Pair2Code && !said {
		r.addFitError(NameCPair2Code, errNoCodePairs(n))
	}
}

var errNoPairs = errors.New("no matched pair has a nonzero layer input a_n, so no dtheta_n: sigma^2 and C_awd = (sigma^2/B) M2 are undefined (gamma_awd is M2's gamma; for C_awd, analyse a layer whose inputs are not all zero)")

// Statistics fills r with everything docs/math.md section 5 derives from the
// matrices and the per-sample spectra ss (nil skips the suppression
// experiment and the correlations): top-k of H, c_i, fits, Thm 5.1 bounds,
// alignment, commutator, eigenvalue-alignment correlations and the
// interventions. ctx cancels it between steps and during the eigensolves;
// prog may be nil.
func Statistics(ctx context.Context, r *Result, cv Covariances, ss *SampleSpectra, cfg Config, prog Progress) (err error) {
	ctx, prog, stop := guardProgress(ctx, prog)
	defer func() { err = stop(err) }()
	d, k := cv.H.Rows, cfg.K
	if k > d {
		return fmt.Errorf("k=%d exceeds d=%d", k, d)
	}
	r.D, r.K, r.Batch, r.N = d, k, cv.B, cv.N
	if r.Fits == nil {
		r.Fits = map[string]Fit{}
	}
	if r.Arrays.C == nil {
		r.Arrays.C = map[string][]float64{}
	}

	t0 := time.Now()
	var eAll linalg.Eigen
	if cv.eig != nil {
		eAll = *cv.eig
	} else {
		var err error
		if eAll, err = SolveH(ctx, cv.H, cfg, prog); err != nil {
			return err
		}
		r.Timings.Eigensolve = time.Since(t0).Seconds()
	}
	fullBasis := alignFull(cfg, d) && len(cfg.AlignWith) > 0
	e := topOf(eAll, k)
	// H's null space (NullFloor) is left out of the fits and the alignment.
	floor := NullFloor(eAll.Values, d)
	keep := inRange(e.Values, floor)
	t0 = time.Now()
	r.Arrays.Lambda = e.Values
	sum := &r.Spectrum
	sum.Lambda1, sum.LambdaK = e.Values[0], e.Values[k-1]
	for _, l := range e.Values {
		if l > 0 {
			sum.Positive++
		}
	}
	sum.TraceH = trace(cv.H)
	if c, ok := cv.X[NameC]; ok {
		sum.TraceC = trace(c)
	}
	sum.Sigma2 = Float(cv.Sigma2)

	// Projections; Xt only for the covariances whose alignment is asked.
	alignOf := map[string]string{} // matrix name -> alignment label
	for _, name := range cfg.AlignWith {
		src := name
		if name == NameCAWD {
			src = NameM2 // rho is invariant to the scale sigma^2/B
		}
		if _, ok := cv.X[src]; ok {
			alignOf[src] = name
		}
	}
	names := sortedKeys(cv.X)
	for name := range cv.factors {
		names = append(names, name)
	}
	slices.Sort(names)
	prog.Start("statistics", len(names)+2)
	// In the full basis the sandwiches U^T X U of the aligned covariances
	// hold their c_i on the diagonal (and C's the commutators): measure them
	// first and project only the others.
	r.Arrays.Rho, r.Arrays.RhoRand = map[string]linalg.Dense{}, map[string]linalg.Dense{}
	var fullXt map[string]linalg.Dense
	if fullBasis {
		fullXt = alignAll(r, cv, eAll, alignOf, cfg)
	}
	xts := map[string]linalg.Dense{}
	for _, name := range names {
		if err := ctx.Err(); err != nil {
			prog.Finish()
			return err
		}
		if xt, ok := fullXt[name]; ok {
			c := make([]float64, k)
			for i := range c {
				c[i] = xt.At(i, i)
			}
			r.Arrays.C[name] = c
			prog.Add(1)
			continue
		}
		if f, ok := cv.factors[name]; ok {
			r.Arrays.C[name] = f.project(e.Vectors)
			prog.Add(1)
			continue
		}
		_, full := alignOf[name]
		full = full && !fullBasis // the full basis is measured by AlignAll above
		c, xt := Project(cv.X[name], e.Vectors, full)
		r.Arrays.C[name] = c
		if full {
			xts[name] = xt
		}
		prog.Add(1)
	}
	for _, name := range sortedKeys(cv.X) {
		if _, keep := xts[name]; !keep && name != NameC {
			cv.release(cv.X[name]) // C stays for the commutator
		}
	}
	if _, ok := r.Arrays.C[NameM2]; ok && math.IsNaN(cv.Sigma2) {
		r.addFitError(NameCAWD, errNoPairs)
	} else if s, ok := r.Arrays.C[NameM2]; ok && cv.B > 0 {
		ca := make([]float64, k)
		for i, v := range s {
			ca[i] = cv.Sigma2 / float64(cv.B) * v
		}
		r.Arrays.C[NameCAWD] = ca
	}
	for name, c := range r.Arrays.C {
		f, err := FitPowerLawAbove(e.Values, c, floor)
		if err != nil {
			r.addFitError(name, err)
			continue
		}
		r.Fits[name] = f
	}

	if s, ok := r.Arrays.C[NameM2]; ok {
		locMax := sum.LocMax
		r.Bounds = CheckBounds(e.Values, s, locMax, r.AllPSD, d, cv.N)
	}
	parityStats(r, cv, eAll, cfg)

	var frame linalg.Dense
	if len(xts) > 0 {
		frame = haarFrameInto(linalg.Scratch(d*k), d, k, cfg.Seed)
		defer linalg.Recycle(frame.Data)
	}
	for _, name := range sortedKeys(xts) {
		label := alignOf[name]
		xt := xts[name]
		if k < 2 {
			r.addAlignError(label, fmt.Errorf("k=%d has no pairs", k))
			continue
		}
		a, xr := Align(label, cv.X[name], xt, keep, frame, cfg.Seed)
		if a.M == 0 || math.IsNaN(a.KEff) {
			r.addAlignError(label, fmt.Errorf("%s has no positive diagonal pairs in H's eigenbasis", label))
			continue
		}
		r.Alignment = append(r.Alignment, a)
		b := min(cfg.RhoBlock, k)
		r.Arrays.Rho[label] = Rho(xt.View(0, 0, b, b))
		r.Arrays.RhoRand[label] = Rho(xr.View(0, 0, b, b))
		linalg.Recycle(xr.Data)
	}
	for name, xt := range xts {
		linalg.Recycle(xt.Data) // the heat maps are copies (Rho)
		if name != NameC {
			cv.release(cv.X[name])
		}
	}
	prog.Add(1)
	if ct, ok := fullXt[NameC]; ok {
		byNorms, byProduct := CommutatorsInBasis(eAll.Values, ct)
		r.Commutator, r.CommutatorCode = Float(byNorms), Float(byProduct)
	} else if c, ok := cv.X[NameC]; ok {
		byNorms, byProduct := Commutators(cv.H, c)
		r.Commutator, r.CommutatorCode = Float(byNorms), Float(byProduct)
	}
	if c, ok := cv.X[NameC]; ok {
		cv.release(c)
	}
	cv.release(cv.H)
	prog.Add(1)

	if err := ctx.Err(); err != nil {
		prog.Finish()
		return err
	}
	if ss != nil && cfg.Correlation {
		l1 := make([]float64, ss.N)
		for s := range l1 {
			l1[s] = ss.Lambda1(s)
		}
		r.Arrays.Lambda1 = l1
		kc := min(k, cfg.CorrK)
		r.Arrays.Corr = Correlation(ss, l1, e.Vectors.View(0, 0, d, kc))
		r.Correlation = summarizeCorr(r.Arrays.Corr)
	}
	prog.Finish()
	r.Timings.Statistics = time.Since(t0).Seconds()

	if ss != nil && len(cfg.Interventions) > 0 {
		t0 = time.Now()
		r.SuppressionCfg = cfg.Suppression
		if sp := cfg.Suppression; sp.PerClass > 0 && len(ss.Label) == ss.N {
			// A per_class above a class's samples takes them all: said
			// here, as the recorded per_class is not what that class gave.
			if note := perClassNote(ss.Label, sp.PerClass); note != "" {
				r.addNote(note)
			}
		}
		r.Arrays.Suppressed = map[string][3][]float64{}
		steps := len(cfg.Interventions)
		if cfg.Suppression.Protocol != ProtocolRebuild {
			steps = len(suppressionNames(cfg)) // the paper protocol's baseline too
		}
		prog.Start("suppression", steps)
		var ivs []Intervention
		err := cancellable(ctx, func() error {
			var err error
			ivs, err = suppress(ss, e, cfg, func() { prog.Add(1) })
			return err
		})
		prog.Finish()
		if err != nil {
			return err
		}
		for _, iv := range ivs {
			r.Suppression = append(r.Suppression, iv)
			r.Arrays.Suppressed[iv.Name] = [3][]float64{iv.Lambda, iv.S, iv.Corr}
		}
		r.Timings.Suppression = time.Since(t0).Seconds()
	}
	return nil
}

func (r *Result) addFitError(name string, err error) {
	if r.FitErrors == nil {
		r.FitErrors = map[string]string{}
	}
	r.FitErrors[name] = err.Error()
}

func (r *Result) addAlignError(name string, err error) {
	if r.AlignErrors == nil {
		r.AlignErrors = map[string]string{}
	}
	r.AlignErrors[name] = err.Error()
}

func summarizeCorr(c []float64) *CorrSummary {
	s := &CorrSummary{First: Float(math.NaN())}
	if len(c) == 0 {
		return s
	}
	s.First = Float(c[0])
	mean := func(x []float64) Float {
		var v float64
		var n int
		for _, y := range x {
			if !math.IsNaN(y) {
				v += y
				n++
			}
		}
		if n == 0 {
			return Float(math.NaN())
		}
		return Float(v / float64(n))
	}
	s.MeanTop = mean(c[:min(10, len(c))])
	s.MeanAll = mean(c)
	for _, v := range c {
		if v > 0 {
			s.Positive++
		}
	}
	return s
}

func trace(a linalg.Dense) float64 {
	var t float64
	for i := 0; i < a.Rows; i++ {
		t += a.At(i, i)
	}
	return t
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
