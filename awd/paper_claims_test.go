package awd

import (
	"context"
	"math"
	"slices"
	"testing"
)

// medianAbsLogRatio is the median over i of |log(x_i / y_i)| for the i
// with both positive.
func medianAbsLogRatio(x, y []float64) float64 {
	var v []float64
	for i := range x {
		if x[i] > 0 && y[i] > 0 {
			v = append(v, math.Abs(math.Log(x[i]/y[i])))
		}
	}
	slices.Sort(v)
	if len(v) == 0 {
		return math.NaN()
	}
	return v[len(v)/2]
}

// TestPaperSuppressionClaims checks the claims of the paper's sections 5.2
// and 5.3 (Fig. 3, App. B.3) on a trained CE and a trained MSE network,
// with the paper code's protocol (tau 0.001, diagonals in the original H
// basis) on every analysis sample (900; the code's 20 per class are
// logged too: on 60 samples the changes move by a factor of 2 from one
// draw to another), and this project's protocol where the claim is about
// the protocol:
//
//  1. the per-sample spectra are dominated by their first eigenvalue, for
//     both losses (median lambda_1 / sum_k |lambda_k| above 0.9);
//  2. suppressing the tails (rank1) hardly changes the diagonals of H and
//     C, nor gamma: the median change of log h' and of log s' is below a
//     tenth of the range of log h and log s over the top k (the extent of
//     the log-log plot), gamma moves by less than 0.05;
//  3. replacing lambda_1 by the stiff samples' mean distorts C more for CE
//     than for MSE (median |change of log s'| 1.5 times as large) and
//     takes gamma to 1, for both losses: with equal lambda_1, s' = lambda
//     h' exactly (Prop. 5.5), so that part holds by construction;
//  4. the superlinearity of CE comes from pairing lambda_1 with its
//     direction: permuting lambda_1 across samples (shuffle, which keeps
//     their distribution) removes more than half of gamma - 1;
//  5. (the protocol) re-diagonalising the rebuilt H' with tau 0.1 and all
//     samples (this project's former default) raises gamma instead, the
//     opposite of Fig. 3: the new eigenbasis follows the few stiff
//     samples.
//
// The paper's "strong positive correlation" of lambda_1 with (v_1 . u_i)^2
// (section 5.3) is logged, not asserted: the Pearson correlations are
// small and mostly negative on these networks (docs/parity.md).
func TestPaperSuppressionClaims(t *testing.T) {
	if testing.Short() {
		t.Skip("trains two networks for tens of seconds; run without -short")
	}
	distortion := map[string]float64{}
	for _, loss := range []string{"ce", "mse"} {
		model, sub := paperNetwork(t, loss)
		cfg := smallConfig(loss, 150, 30)
		cfg.Interventions = Interventions
		cfg.Suppression.PerClass = 0
		acc, err := Accumulate(context.Background(), model, sub, cfg, AccumulateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		ss := acc.Spectra
		var dom []float64
		for s := 0; s < ss.N; s++ {
			var tot float64
			for _, v := range ss.Mu[s*ss.R : (s+1)*ss.R] {
				tot += math.Abs(v)
			}
			if tot > 0 {
				dom = append(dom, ss.Mu[s*ss.R]/tot)
			}
		}
		slices.Sort(dom)
		r, err := Finalize(context.Background(), acc, nil)
		if err != nil {
			t.Fatal(err)
		}
		iv := map[string]Intervention{}
		for _, v := range r.Suppression {
			iv[v.Name] = v
			t.Logf("%s paper protocol %-14s gamma %.3f  median |dlog h'| %.3f  |dlog s'| %.3f  stiff %d of %d", loss, v.Name, v.Fit.Gamma,
				medianAbsLogRatio(v.Lambda, r.Suppression[0].Lambda), medianAbsLogRatio(v.S, r.Suppression[0].S), v.Stiff, v.Samples)
		}
		none := iv[InterventionNone]
		t.Logf("%s: dominance median %.3f; correlation %+v", loss, dom[len(dom)/2], *r.Correlation)
		logRange := func(x []float64) float64 {
			lo, hi := math.Inf(1), math.Inf(-1)
			for _, v := range x {
				if v > 0 {
					lo, hi = math.Min(lo, math.Log(v)), math.Max(hi, math.Log(v))
				}
			}
			return hi - lo
		}
		// 1.
		if med := dom[len(dom)/2]; !(med > 0.9) {
			t.Errorf("%s claim 1: median lambda_1/sum|lambda| %.3f", loss, med)
		}
		// 2.
		r1 := iv[InterventionRank1]
		rh, rs := logRange(none.Lambda), logRange(none.S)
		t.Logf("%s: range of log h' %.2f, of log s' %.2f", loss, rh, rs)
		if dg, dh, ds := math.Abs(r1.Fit.Gamma-none.Fit.Gamma), medianAbsLogRatio(r1.Lambda, none.Lambda), medianAbsLogRatio(r1.S, none.S); dg > 0.05 || dh > rh/10 || ds > rs/10 {
			t.Errorf("%s claim 2: rank1 changes gamma by %.3f, log h' by %.3f (range %.2f), log s' by %.3f (range %.2f)", loss, dg, dh, rh, ds, rs)
		}
		// 3.
		st := iv[InterventionStiff]
		distortion[loss] = medianAbsLogRatio(st.S, none.S)
		if math.Abs(st.Fit.Gamma-1) > 0.02 {
			t.Errorf("%s claim 3: gamma after the mean collapse %.3f", loss, st.Fit.Gamma)
		}
		// 4.
		if sh := iv[InterventionShuffle]; loss == "ce" && math.Abs(sh.Fit.Gamma-1) > (none.Fit.Gamma-1)/2 {
			t.Errorf("ce claim 4: gamma %.3f, after shuffling lambda_1 %.3f", none.Fit.Gamma, sh.Fit.Gamma)
		}
		code := cfg
		code.Suppression.PerClass = PaperSuppressionPerClass
		if rc, err := Analyze(context.Background(), model, sub, code, nil); err == nil {
			for _, v := range rc.Suppression {
				t.Logf("%s paper protocol, 20 per class: %-14s gamma %.3f  median |dlog h'| %.3f  |dlog s'| %.3f", loss, v.Name, v.Fit.Gamma,
					medianAbsLogRatio(v.Lambda, rc.Suppression[0].Lambda), medianAbsLogRatio(v.S, rc.Suppression[0].S))
			}
		}
		// 5.
		if loss == "ce" {
			cfg.Suppression.Protocol, cfg.Suppression.Tau, cfg.Suppression.PerClass = ProtocolRebuild, 0.1, 0
			cfg.Interventions = []string{InterventionRank1, InterventionStiff}
			rb, err := Analyze(context.Background(), model, sub, cfg, nil)
			if err != nil {
				t.Fatal(err)
			}
			g1, gs := rb.Suppression[0].Fit.Gamma, rb.Suppression[1].Fit.Gamma
			t.Logf("ce rebuild protocol, tau 0.1: rank1 gamma %.3f, stiff gamma %.3f (%d stiff)", g1, gs, rb.Suppression[1].Stiff)
			if !(gs > g1+0.1) || !(st.Fit.Gamma < none.Fit.Gamma) {
				t.Errorf("ce claim 5: rebuild stiff %.3f vs rank1 %.3f; paper protocol stiff %.3f vs none %.3f", gs, g1, st.Fit.Gamma, none.Fit.Gamma)
			}
		}
	}
	if !(distortion["ce"] > 1.5*distortion["mse"]) {
		t.Errorf("claim 3: the mean collapse changes log s' by %.3f (CE) and %.3f (MSE)", distortion["ce"], distortion["mse"])
	}
}
