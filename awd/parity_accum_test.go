package awd

import (
	"context"
	"math"
	"path/filepath"
	"strings"
	"testing"
)

// TestParityShardsMergeAndFile runs an analysis with every estimator of the
// code and the bootstrap once in one pass and once as three shards, each
// saved to a file, loaded and merged: the results must agree up to the
// order of the additions.
func TestParityShardsMergeAndFile(t *testing.T) {
	model, sub := trained(t, "ce", 3, 60, 8, 2, 5)
	cfg := smallConfig("ce", 20, 10)
	cfg.Pairs, cfg.Pair2Code, cfg.MiniBatchRule = PairsBoth, true, MBShuffled
	cfg.Interventions = Interventions
	cfg.Extras.Bootstrap, cfg.Extras.BootstrapShards, cfg.Extras.MLReps = 12, 4, 10
	one, err := Analyze(context.Background(), model, sub, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var merged *Accumulation
	for s := 0; s < 3; s++ {
		acc, err := Accumulate(context.Background(), model, sub, cfg, AccumulateOptions{Shard: s, Shards: 3})
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, "s.acc")
		if err := acc.Save(p); err != nil {
			t.Fatal(err)
		}
		back, err := LoadAccumulation(p)
		if err != nil {
			t.Fatal(err)
		}
		if merged == nil {
			merged = back
		} else if err := merged.Merge(back); err != nil {
			t.Fatal(err)
		}
	}
	sharded, err := Finalize(context.Background(), merged, nil)
	if err != nil {
		t.Fatal(err)
	}
	names := []string{NameC, NameCAWD, NameCPair, NameCPair2, NameCPair2Code, NameCMb,
		NameCPair + AnchorSuffix, NameCPair2 + AnchorSuffix, NameCPair2Code + AnchorSuffix}
	for _, n := range names {
		a, ok1 := one.Fits[n]
		b, ok2 := sharded.Fits[n]
		if !ok1 || !ok2 || math.Abs(a.Gamma-b.Gamma) > 1e-8 || math.Abs(a.Intercept-b.Intercept) > 1e-8 {
			t.Errorf("%s: one pass %+v (%v), shards %+v (%v)", n, a, ok1, b, ok2)
		}
		if one.Estimators[n] == "" {
			t.Errorf("%s: no estimator recorded", n)
		}
	}
	for _, n := range []string{NameC, NameCAWD} {
		a, b := one.Bootstrap[n], sharded.Bootstrap[n]
		if a.Reps != 12 || math.Abs(float64(a.Low-b.Low)) > 1e-8 || math.Abs(float64(a.SE-b.SE)) > 1e-8 {
			t.Errorf("bootstrap %s: one pass %+v, shards %+v", n, a, b)
		}
	}
	if len(one.PairRules) != 2 || one.PairRules[1].Rule != PairsAnchor || one.PairRules[1].Pairs == 0 ||
		math.Abs(float64(one.PairRules[1].Sigma2D-sharded.PairRules[1].Sigma2D)) > 1e-12*float64(one.PairRules[1].Sigma2D) {
		t.Errorf("pair rules %+v / %+v", one.PairRules, sharded.PairRules)
	}
	if len(one.Suppression) != len(sharded.Suppression) || one.Suppression[0].Name != InterventionNone || one.Suppression[0].Protocol != ProtocolPaper {
		t.Errorf("suppression %+v", one.Suppression)
	}
	for i := range one.Suppression {
		if a, b := one.Suppression[i].Fit.Gamma, sharded.Suppression[i].Fit.Gamma; math.Abs(a-b) > 1e-8 {
			t.Errorf("suppression %s: %v vs %v", one.Suppression[i].Name, a, b)
		}
	}
	if one.Alignment[0].Basis != AlignFull || one.GammaK[NameC].K == nil || one.PowerLawML["H"].NTail == 0 || one.Scales == nil {
		t.Errorf("alignment %+v, gamma_k %+v, ml %+v, scales %+v", one.Alignment[0], one.GammaK[NameC], one.PowerLawML["H"], one.Scales)
	}
}

// TestParityAlternatives runs the other choice of every option once: the
// anchor rule alone (feeding C_pair, C_pair2 and sigma^2), the stratified
// C_mb, the rebuild suppression on a per-class subset, sigma^2 per m and the
// top-k alignment, and checks what the result records.
func TestParityAlternatives(t *testing.T) {
	model, sub := trained(t, "mse", 3, 60, 8, 2, 6)
	cfg := smallConfig("mse", 20, 10)
	cfg.Pairs, cfg.MiniBatchRule, cfg.Sigma2Per, cfg.AlignBasis = PairsAnchor, MBStratified, Sigma2PerM, AlignTopK
	cfg.Interventions = []string{InterventionRank1, InterventionStiffPreserve}
	cfg.Suppression.Protocol, cfg.Suppression.PerClass = ProtocolRebuild, 10
	r, err := Analyze(context.Background(), model, sub, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	pr := r.PairRules[0]
	if len(r.PairRules) != 1 || pr.Rule != PairsAnchor || r.Spectrum.Pairs != pr.Pairs || math.Abs(float64(r.Spectrum.Sigma2-pr.Sigma2M)) > 1e-15*float64(pr.Sigma2M) {
		t.Errorf("pair rules %+v, spectrum %+v", r.PairRules, r.Spectrum)
	}
	if !strings.Contains(r.Estimators[NameCPair], "anchor") || !strings.Contains(r.Estimators[NameCMb], "stratified") || !strings.Contains(r.Estimators[NameCAWD], "/ m") {
		t.Errorf("estimators %v", r.Estimators)
	}
	if r.Alignment[0].Basis != AlignTopK || len(r.Suppression) != 2 || r.Suppression[0].Protocol != ProtocolRebuild || r.Suppression[0].Samples != 30 {
		t.Errorf("alignment %+v, suppression %+v", r.Alignment[0], r.Suppression)
	}
	for _, n := range []string{NameCPair, NameCPair2, NameCPair2Code, NameCMb} {
		if _, ok := r.Fits[n]; !ok {
			t.Errorf("no fit of %s (%v)", n, r.FitErrors)
		}
	}
}
