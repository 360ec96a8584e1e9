package awd

import (
	"errors"
	"fmt"
	"slices"

	"github.com/awd-toolkit/awd/nn"
)

// BatchPairs returns the number of pairs of AWD batches of size batch that
// MatchPairs forms from samples with these labels: every class gives
// floor(n_c/2) same-class couples, and B couples fill one pair of batches.
// It needs no distance, so callers can check a shard or batch size before
// any work.
func BatchPairs(labels []int, batch int) int {
	if batch < 1 {
		return 0
	}
	count := map[int]int{}
	for _, y := range labels {
		count[y]++
	}
	couples := 0
	for _, n := range count {
		couples += n / 2
	}
	return couples / batch
}

// Preflight checks, before any work, what the analysis of data would
// refuse: Analyze of cfg's layer (layers nil, shards 0), AnalyzeLayers of
// layers, or Accumulate of shard of shards (0-based, shards >= 1; errors
// number it from 1, as "--shard i/n"). It
// checks the layers and k against each layer's d, the labels, the memory
// budget, that the samples form at least one pair of AWD batches and that
// the shard holds at least one of them. Errors name the option at fault.
// As Analyze takes the matrix-free path for a dense analysis that does not
// fit, Preflight of Analyze checks the budget against that path then;
// Accumulate (shards >= 1) has no such path and is held to the dense
// estimate.
func Preflight(model *nn.Model, data *nn.Dataset, cfg Config, layers []string, shard, shards int) error {
	if err := noInputs(model, data); err != nil {
		return fmt.Errorf("analyze: %w", err)
	}
	switch {
	case layers != nil:
		if _, err := cfg.ForLayers(model, layers); err != nil {
			return err
		}
		if err := checkSamples(model, data); err != nil {
			return err
		}
		c := cfg
		c.Layer, c.MatrixFree = layers[0], true
		if c, err := c.ForModel(model); err != nil {
			return err
		} else if err := matFreeFits(model, layers, data.N, c); err != nil {
			return err
		}
	case shards > 0:
		if _, err := newAccumulation(model, data, cfg, AccumulateOptions{Shard: shard, Shards: shards}); err != nil {
			return err
		}
	default:
		c, err := cfg.ForModel(model)
		if err != nil {
			return err
		}
		if err := checkSamples(model, data); err != nil {
			return err
		}
		if err := analysisFits(model, c, data.N, data.Dim()); err != nil {
			return err
		}
	}
	nbp := BatchPairs(data.Y, cfg.Batch)
	if nbp == 0 {
		return nn.BadOption("batch", cfg.Batch, "the %d analysis samples form %d same-class couples, fewer than the %d of one pair of balanced batches (give a smaller --batch, or more samples per class: --per-class)", data.N, BatchPairs(data.Y, 1), cfg.Batch)
	}
	// Every shard of the set, not only this one, must hold a batch pair:
	// with more shards than pairs one of them holds none, and the set
	// could never be reduced.
	if shards > nbp {
		return nn.BadOption("shard", fmt.Sprintf("%d/%d", shard+1, shards), "there are %d batch pairs, so at most %d shards (of %d, some would hold no batch pair)", nbp, nbp, shards)
	}
	return nil
}

// ForLayers is ForModel for an analysis of several layers (AnalyzeLayers):
// each of layers must be a weight layer of the model, listed once, and k
// at most its d. Where k exceeds the d of several layers the error names
// the smallest, so that the k it gives fits every layer (naming the first
// listed, the k its error gave could be refused by the next). It returns
// c checked, with the first of layers as its Layer.
func (c Config) ForLayers(model *nn.Model, layers []string) (Config, error) {
	if model == nil {
		return c, errors.New("analyze: no model (nil)")
	}
	if len(layers) == 0 {
		return c, errors.New("analyze: no layers")
	}
	smallest, dmin := "", 0
	for i, name := range layers {
		info, err := model.LayerInfo(name)
		if err != nil {
			return c, nn.BadOption("layer", name, "%v", err)
		}
		if slices.Contains(layers[:i], name) {
			return c, nn.BadOption("layers", name, "listed twice: list each layer once")
		}
		if smallest == "" || info.D() < dmin {
			smallest, dmin = name, info.D()
		}
	}
	c.Layer = smallest
	if _, err := c.ForModel(model); err != nil {
		return c, err
	}
	c.Layer = layers[0]
	return c.ForModel(model)
}

// noInputs refuses a nil model or data set, before anything reads them.
func noInputs(model *nn.Model, data *nn.Dataset) error {
	switch {
	case model == nil:
		return errors.New("no model (nil)")
	case data == nil:
		return errors.New("no data set (nil)")
	}
	return nil
}

// checkSamples refuses NaN weights, data the model cannot take
// (nn.CheckSamples: sizes that do not add up, a NaN or Inf, inputs of
// another size or image shape, labels outside the model's head) and fewer
// than 2 classes.
func checkSamples(model *nn.Model, data *nn.Dataset) error {
	if err := noInputs(model, data); err != nil {
		return err
	}
	if err := checkWeights(model); err != nil {
		return err
	}
	if err := nn.CheckSamples(model, data); err != nil {
		return err
	}
	present := map[int]bool{}
	for _, y := range data.Y {
		present[y] = true
	}
	if len(present) < 2 {
		return fmt.Errorf("the analysis samples hold %d class(es), need at least 2", len(present))
	}
	return nil
}
