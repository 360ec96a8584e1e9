package awd

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"

	"github.com/awd-toolkit/awd/linalg"
)

// Pair rules: how each analysis sample gets the partner whose activity
// difference defines its AWD perturbation dtheta_n.
const (
	// PairsBalanced is this project's rule (MatchPairs): balanced batches of
	// B, batch 2j against 2j+1, an optimal one-to-one matching inside each
	// class by the distance of the inputs.
	PairsBalanced = "balanced"
	// PairsAnchor is the rule of the paper's code (MatchAnchors): random
	// same-class anchors per batch, nearest neighbour in the layer-input
	// activity, not one-to-one.
	PairsAnchor = "anchor"
)

// AnchorDefaults are the paper code's settings of MatchAnchors
// (cal_C_cuda_multi.py line 47: batch_size=64, sample_number=20).
const (
	AnchorBatch    = 64
	AnchorPerClass = 20
	// anchorSelf is the distance below which the nearest anchor is taken
	// for the sample itself and skipped (AWD_cuda.py line 159).
	anchorSelf = 1e-6
)

// AnchorPairs is the matching of the paper's code (AWD_cuda.cal_C_cuda,
// lines 110-164).
type AnchorPairs struct {
	// Partner[n] is the anchor matched with sample n, or -1 when n's class
	// had no anchor other than n itself. The relation is not symmetric and
	// an anchor may serve many samples.
	Partner []int
	// Batches are the loader's batches: one shuffled pass (ShuffledBatches).
	Batches [][]int
	// Anchors[b] are the anchors drawn for batch b, class by class in
	// increasing label order.
	Anchors [][]int
	// PerClass is the number of anchors drawn per class and batch.
	PerClass int
	// Unmatched counts the samples left without partner.
	Unmatched int
	// Cost is sum_n ||a_n - a_Partner[n]|| over the matched samples.
	Cost float64
}

// MatchAnchors pairs every sample with an anchor as the paper's code does:
// the N samples (rows of act, N x n: the layer-input activities a_n) are
// visited in one shuffled pass in batches of batch (64 in the code); for each
// batch, perClass anchors (20 in the code; all of a class when it has fewer)
// are drawn at random, without replacement, from all samples of every class;
// each sample of the batch is matched with the anchor of its own class
// nearest in Euclidean distance of a, except that a nearest anchor closer
// than 1e-6 is taken to be the sample itself and the second nearest is used.
// Seeded by seed (PCG). Cost O(N perClass n) flops.
//
// Errors: shapes that disagree, batch or perClass < 1, negative labels.
func MatchAnchors(act linalg.Dense, labels []int, batch, perClass int, seed uint64) (*AnchorPairs, error) {
	n := act.Rows
	if len(labels) != n {
		return nil, fmt.Errorf("awd: match anchors: %d labels for %d samples", len(labels), n)
	}
	if batch < 1 || perClass < 1 {
		return nil, fmt.Errorf("awd: match anchors: batch %d, %d anchors per class", batch, perClass)
	}
	byClass := map[int][]int{}
	for i, y := range labels {
		if y < 0 {
			return nil, fmt.Errorf("awd: match anchors: sample %d has label %d", i, y)
		}
		byClass[y] = append(byClass[y], i)
	}
	classes := make([]int, 0, len(byClass))
	for c := range byClass {
		classes = append(classes, c)
	}
	sort.Ints(classes)
	res := &AnchorPairs{Partner: make([]int, n), Batches: ShuffledBatches(n, batch, seed), PerClass: perClass}
	rng := rand.New(rand.NewPCG(seed, 0x617764616e63686f)) // "awdancho"
	anchors := map[int][]int{}
	res.Anchors = make([][]int, len(res.Batches))
	type cand struct {
		d float64
		a int
	}
	var cs []cand
	for bi, b := range res.Batches {
		for _, c := range classes {
			pool := byClass[c]
			k := min(perClass, len(pool))
			perm := rng.Perm(len(pool))[:k]
			sel := anchors[c][:0]
			for _, p := range perm {
				sel = append(sel, pool[p])
			}
			anchors[c] = sel
			res.Anchors[bi] = append(res.Anchors[bi], sel...)
		}
		for _, s := range b {
			cs = cs[:0]
			for _, a := range anchors[labels[s]] {
				cs = append(cs, cand{dist(act.Row(s), act.Row(a)), a})
			}
			slices.SortStableFunc(cs, func(x, y cand) int {
				switch {
				case x.d < y.d:
					return -1
				case x.d > y.d:
					return 1
				}
				return 0
			})
			if len(cs) > 0 && cs[0].d < anchorSelf {
				cs = cs[1:]
			}
			if len(cs) == 0 {
				res.Partner[s] = -1
				res.Unmatched++
				continue
			}
			res.Partner[s] = cs[0].a
			res.Cost += cs[0].d
		}
	}
	return res, nil
}

// PartnerDiffFrom returns da (len(samples) x n) with row i =
// a_{partner[s]} - a_s for s = samples[i], reading the activities from all
// (N x n, every sample of the analysis), so that partners outside a chunk
// are found; rows of samples without partner are NaN (State.AddPairs skips
// them).
func PartnerDiffFrom(all linalg.Dense, samples, partner []int) linalg.Dense {
	da := linalg.NewDense(len(samples), all.Cols)
	for i, s := range samples {
		row := da.Row(i)
		q := partner[s]
		if q < 0 {
			for j := range row {
				row[j] = math.NaN()
			}
			continue
		}
		as, aq := all.Row(s), all.Row(q)
		for j := range row {
			row[j] = aq[j] - as[j]
		}
	}
	return da
}
