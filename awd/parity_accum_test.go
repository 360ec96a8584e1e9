package awd

import (
	"context"
	"math"
	"path/filepath"
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
		math.Abs(one.PairRules[1].Sigma2D-sharded.PairRules[1].Sigma2D) > 1e-12*one.PairRules[1].Sigma2D {
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
