package awd

import (
	"context"
	"fmt"
	"time"

	"github.com/awd-toolkit/awd/linalg"
	"github.com/awd-toolkit/awd/nn"
)

// Finalize turns a complete Accumulation into the Result: the sums become
// the d x d matrices (C, H, M2, C_pair, C_pair2, C_mb), H is diagonalised
// and everything of Statistics is measured. It consumes acc once H is
// diagonalised: its State hands its largest sums over to the matrices
// instead of copying them, so acc cannot be finalised or merged again
// (both refuse it). A Finalize refused before that, or cancelled
// during the eigensolve, leaves acc whole, and finalising it again gives
// the same Result. ctx cancels it within about a second at any stage (an
// eigensolve in flight then finishes in the background and its result is
// dropped); prog may be nil. Like Accumulate it is refused
// (HeldMemoryError) when the analysis does not fit beside the others
// running in the process.
func Finalize(ctx context.Context, acc *Accumulation, prog Progress) (r *Result, err error) {
	ctx, prog, stop := guardProgress(ctx, prog)
	defer func() {
		if err = stop(err); err != nil {
			r = nil
		}
	}()
	if acc == nil || acc.Info.Shards == 0 {
		return nil, fmt.Errorf("analyze: finalize: no accumulation (make one with Accumulate or LoadAccumulation)")
	}
	if !acc.Complete() {
		return nil, fmt.Errorf("analyze: finalize: %d of %d shards accumulated (have %s; merge the others first)", len(acc.Info.Have), acc.Info.Shards, shardList(acc.Info.Have, acc.Info.Shards))
	}
	if acc.State == nil {
		return nil, fmt.Errorf("analyze: finalize: the accumulation was already finalised")
	}
	// The budget of this process: shards accumulated on larger machines
	// may be finished on a smaller one (Config.Memory is the finisher's).
	if budget := MemoryBudget(acc.Info.Config.Memory); acc.Info.Estimate > budget {
		return nil, fmt.Errorf("analyze: finalize: the analysis needs about %s, more than the memory budget of %s (%s)",
			FormatBytes(acc.Info.Estimate), FormatBytes(budget), budgetHint)
	}
	t00 := time.Now()
	in := acc.Info
	cfg := in.Config.atMostK()
	ctx, release, err := reserveMemory(ctx, in.Estimate, MemoryBudget(in.Config.Memory), true)
	if err != nil {
		return nil, fmt.Errorf("analyze: finalize: %w", err)
	}
	defer release()
	r = &Result{Dataset: in.Dataset, Model: in.Model, Layer: cfg.Layer, Loss: cfg.Loss, Head: in.Head,
		Classes: in.Classes, M: in.M, In: in.In, Config: cfg, KernelLevel: in.KernelLevel, Timings: acc.Timings}
	n := len(acc.Samples)
	r.SampleLoss = Float(acc.LossSum / float64(n))
	r.SampleAcc = Float(float64(acc.Correct) / float64(n))
	r.Arrays.SampleIndices = acc.Samples

	t0 := time.Now()
	// H is diagonalised as soon as it is unpacked: the solver's buffers then
	// hold the other matrices (finishConsume).
	var eig linalg.Eigen
	var solveErr error
	solve := func(h linalg.Dense) error {
		t := time.Now()
		eig, solveErr = SolveH(ctx, h, cfg, prog)
		r.Timings.Eigensolve = time.Since(t).Seconds()
		return solveErr
	}
	mats, err := acc.State.finishConsume(cfg.Batch, cfg.Centered, solve)
	switch {
	case solveErr != nil:
		return nil, fmt.Errorf("analyze %s: %w", cfg.Layer, solveErr)
	case err != nil:
		return nil, fmt.Errorf("analyze: %w", err)
	}
	acc.State = nil
	r.Timings.Accumulate += time.Since(t0).Seconds() - r.Timings.Eigensolve
	cv := Covariances{H: mats.H, X: map[string]linalg.Dense{NameC: mats.C, NameM2: mats.M2},
		Sigma2: mats.Sigma2, B: cfg.Batch, N: mats.N, eig: &eig, owned: true, released: map[*float64]bool{}}
	for name, x := range map[string]linalg.Dense{NameCPair: mats.CPair, NameCPair2: mats.CPair2, NameCMb: mats.CMB} {
		if x.Data != nil {
			cv.X[name] = x
		}
	}
	if err := finalizeParity(acc, mats, &cv, r); err != nil {
		return nil, fmt.Errorf("analyze: %w", err)
	}
	r.Spectrum.LocMax, r.Spectrum.NegativeHn = mats.LocMax, -1
	if ss := acc.Spectra; ss != nil {
		r.Spectrum.LocMax = ss.LocMax()
		r.Spectrum.NegativeHn = ss.NegativeSamples()
	}
	r.Spectrum.Pairs = in.Pairs
	r.Spectrum.LeftOut = max(in.DataN-mats.N, 0)
	// For CE every Lambda_n = diag(p) - p p^T is PSD: the upper bound of
	// Thm 5.1 applies whatever rounding makes of the tiniest eigenvalues.
	r.AllPSD = cfg.Loss == nn.CE.String() || r.Spectrum.NegativeHn == 0
	// Statistics checks ctx between its steps; run in the background, it
	// also leaves at once when ctx is cancelled inside a long step.
	if err := cancellable(ctx, func() error { return Statistics(ctx, r, cv, acc.Spectra, cfg, prog) }); err != nil {
		return nil, fmt.Errorf("analyze %s: %w", cfg.Layer, err)
	}
	r.Timings.Total = acc.Timings.Pairs + acc.Timings.PerSample + acc.Timings.Accumulate + time.Since(t00).Seconds()
	return r, nil
}

// cancellable runs f and returns its error, or ctx's error as soon as ctx
// is done; f then runs on in the background and must write only to its own
// variables.
func cancellable(ctx context.Context, f func() error) error {
	if ctx.Done() == nil {
		return f()
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() { done <- f() }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}
