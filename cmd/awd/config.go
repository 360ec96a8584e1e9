package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/awd-toolkit/awd/awd"
	"github.com/awd-toolkit/awd/nn"
)

// dataSpec is the data of the flags.
func (o *options) dataSpec() (nn.DataSpec, error) {
	classes, err := o.classList()
	if err != nil {
		return nn.DataSpec{}, err
	}
	d := nn.DataSpec{Name: o.data, Dir: o.dataDir, Classes: classes, PerClass: o.perClass, Head: o.head, Seed: o.dataSeed, CIFARStd: o.cifarStd}
	d, err = d.Normalized()
	return d, flagError(err)
}

// trainConfig is the training of the flags.
func (o *options) trainConfig() nn.TrainConfig {
	loss, _ := nn.ParseLoss(o.loss)
	tc := nn.DefaultTrainConfig(loss)
	tc.Epochs, tc.Batch, tc.LR, tc.TMax, tc.ClipNorm, tc.StopLoss, tc.Vanilla = o.epochs, o.batch, o.lr, o.tMax, o.clip, o.stopLoss, o.vanilla
	tc.Seed, tc.StopRule = o.seed, o.stopRule
	return tc
}

// analysisConfig is the analysis of the flags, for loss and batch size.
func (o *options) analysisConfig(loss string, batch int) (awd.Config, error) {
	// The correlations and the heat maps take the top k directions at
	// most: their defaults are cut to a smaller --k, a value given is not.
	for _, f := range []struct {
		name string
		v    int
	}{{"corr-k", o.corrK}, {"rho-block", o.rhoBlock}} {
		if o.changed != nil && o.changed(f.name) && f.v > o.k {
			return awd.Config{}, fmt.Errorf("--%s %d: more than the top k = %d directions analysed (give at most --k, or a larger --k)", f.name, f.v, o.k)
		}
	}
	c := awd.DefaultConfig(loss)
	c.Layer, c.K, c.Batch, c.Seed = o.layer, o.k, batch, o.analysisSeed
	c.Centered, c.Greedy, c.Pair2, c.MiniBatch, c.Correlation = o.centered, o.greedy, !o.noPair2, !o.noMinibatch, !o.noCorr
	c.RhoBlock, c.CorrK, c.MatrixFree = o.rhoBlock, o.corrK, o.matrixFree
	c.MatFree.JacobianFloat32 = o.jacobianF32
	c.Suppression = awd.SuppressionConfig{Tau: o.tau, TailEps: o.tailEps, NonStiffEps: o.nonstiffEps, Seed: o.analysisSeed, CorrK: o.corrK,
		Protocol: o.suppProtocol, PerClass: o.suppPerClass}
	c.MiniBatchRule, c.Pairs, c.Pair2Code, c.AlignBasis, c.Sigma2Per = o.mbRule, o.pairs, !o.noPair2Code, o.alignBasis, o.sigma2Per
	c.Extras = awd.Extras{GammaK: !o.noGammaK, Bootstrap: o.bootstrap, BootstrapShards: o.bootGroups, BootstrapLevel: o.bootLevel,
		PowerLawML: !o.noMLFit, MLReps: o.mlReps}
	c.Interventions = nil
	for _, s := range strings.Split(o.suppress, ",") {
		if s = strings.TrimSpace(s); s != "" {
			c.Interventions = append(c.Interventions, s)
		}
	}
	var err error
	if c.Memory, err = o.memBudget(); err != nil {
		return c, err
	}
	return c, flagError(c.Validate())
}

// runConfig is the run of the flags (analysing at --analyze-at when
// analyse is set).
func (o *options) runConfig(analyse bool) (awd.RunConfig, error) {
	data, err := o.dataSpec()
	if err != nil {
		return awd.RunConfig{}, err
	}
	widths, _ := parseList("widths", o.widths)
	rc := awd.RunConfig{Data: data, Model: nn.ModelSpec{Kind: o.model, Widths: widths}, Seed: o.seed, Train: o.trainConfig()}
	rc.Checkpoints, _ = parseList("checkpoints", o.checkpoints)
	if analyse {
		rc.AnalyzeAt, _ = parseList("analyze-at", o.analyzeAt)
		if len(rc.AnalyzeAt) == 0 {
			rc.AnalyzeAt = slices.Compact([]int{1, max(1, o.epochs/2), o.epochs})
		}
		an, err := o.analysisConfig(o.loss, o.batch)
		if err != nil {
			return rc, err
		}
		rc.Analysis = &an
	}
	rc, err = rc.Normalized()
	return rc, flagError(err)
}
