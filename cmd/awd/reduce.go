package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/awd-toolkit/awd/awd"
)

func init() {
	var o options
	cmd := &cobra.Command{
		Use:   "reduce SHARD.acc...",
		Short: "merge the shards of a sharded analysis (awd analyze --shard) and finish it",
		Long: `reduce loads the partial analyses written by 'awd analyze --shard i/n' (each
checked: format version, sizes, checksum), merges their additive sums, and
finishes the analysis as 'awd analyze' would: the d x d matrices, H's
eigenpairs, the power-law fits, bounds, alignment and correlations. The
result equals the unsharded analysis to rounding: eigenvalues, projections
and gammas to 1e-12 relative, the full-basis alignment (which reads every
eigenvector of H) to about 1e-7.

It refuses shards of different analyses (another checkpoint, data subset,
training set the subset was drawn from (data_source_sha256: other files
under the data set's name) or analysis option: the message names the first differing setting as in
results.json's config, with both values, e.g. "config.seed: 1 vs 5" for
another --analysis-seed), shards accumulated by different builds of awd
(their version and commit, or the executable's SHA-256 for a binary
built without VCS information; shards written before awd recorded its
build merge only with each other), a shard given twice, and an incomplete set
(it names the missing shards). The settings only the finish reads may
differ between shards (the power-law fits, --ml-reps, gamma(k), the
bootstrap's replicates and level, and its groups when --bootstrap is 0):
the reduce uses the first shard's and says so on stderr.

Writes OUT/results.json and OUT/arrays_epochNNNN.npz as 'awd analyze'. An
OUT that holds the reduce of another analysis (the message names the first
differing setting, there vs here), or of this one from another number of
shards, is refused: use another --out, or --fresh to replace it.`,
		Args: argCount(1, -1),
		RunE: func(cmd *cobra.Command, args []string) error { return reduceCommand(cmd, &o, args) },
	}
	addFlags(cmd, &o, map[string]string{"out": "out/reduce"}, "mem", "out", "fresh", "quiet")
	rootCmd.AddCommand(cmd)
}

// reduceCommand is `awd reduce`.
func reduceCommand(cmd *cobra.Command, o *options, paths []string) error {
	// Signals first: a SIGTERM while the shards load ends the command with
	// a message, not silently.
	ctx, stop := signalContext()
	defer stop()
	acc, err := loadShards(ctx, cmd, paths)
	if err != nil {
		return err
	}
	if acc.Info.Config.Memory, err = o.memBudget(); err != nil {
		return err
	}
	if err := reduceFolder(o.out, acc.Info, o.fresh); err != nil {
		return err
	}
	folder, err := awd.OpenFolder(o.out, "reduce", acc.Info, o.fresh, paths...)
	if err != nil {
		return err
	}
	defer folder.Close()
	epoch := acc.Info.Epoch
	r, err := awd.Finalize(ctx, acc, newUI(cmd.ErrOrStderr(), o.quiet))
	if err != nil {
		return flagError(err)
	}
	return writeAnalysis(cmd, folder, folder.Owner.Config, awd.Checkpoint{Epoch: epoch, Analysis: r})
}

// reduceFolder refuses, unless fresh, an output folder that holds the
// reduce of another analysis, or of this one from other shards, saying
// which in the terms of the shards (OpenFolder would name the first field
// of the folder's config that differs, such as the samples per shard).
func reduceFolder(out string, here awd.AccumulationInfo, fresh bool) error {
	b, err := os.ReadFile(filepath.Join(out, awd.OwnerFile))
	if fresh || err != nil {
		return nil // a new folder (or an unreadable owner: OpenFolder says so)
	}
	var owner awd.Owner
	var there awd.AccumulationInfo
	if json.Unmarshal(b, &owner) != nil || owner.Command != "reduce" || json.Unmarshal(owner.Config, &there) != nil {
		return nil
	}
	var what string
	switch {
	case awd.AnalysisDiff(there, here) != "":
		what = fmt.Sprintf("the reduce of another analysis (%s, there vs here)", awd.AnalysisDiff(there, here))
	case there.Shards != here.Shards:
		what = fmt.Sprintf("the reduce of this analysis from %s, these are %s", shardCount(there.Shards), shardCount(here.Shards))
	case there.KernelLevel != here.KernelLevel:
		what = fmt.Sprintf("the reduce of this analysis from shards accumulated with %s kernels, these with %s", there.KernelLevel, here.KernelLevel)
	default:
		return nil
	}
	return &awd.FolderError{Err: fmt.Errorf("%s holds %s", out, what), Remedy: awd.OtherFolder}
}

// shardCount is n shards for a message: "1 shard", "3 shards".
func shardCount(n int) string {
	if n == 1 {
		return "1 shard"
	}
	return fmt.Sprintf("%d shards", n)
}

// loadShards loads and merges the shards, naming the files in every
// refusal: a shard given twice, shards of other analyses, missing shards.
// Settings only the finish reads are the first shard's; a shard that asked
// for others is named on stderr. ctx stops it between shards.
func loadShards(ctx context.Context, cmd *cobra.Command, paths []string) (*awd.Accumulation, error) {
	var acc *awd.Accumulation
	seen := map[int]string{}
	for _, p := range paths {
		a, err := awd.LoadAccumulation(p)
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if err != nil {
			return nil, err
		}
		// Shards of another count first: their numbers mean other shards.
		if acc != nil && a.Info.Shards != acc.Info.Shards {
			return nil, fmt.Errorf("%s is a shard of %d, %s of %d: not one analysis", p, a.Info.Shards, paths[0], acc.Info.Shards)
		}
		for _, s := range a.Info.Have {
			if prev, ok := seen[s]; ok {
				return nil, fmt.Errorf("shard %d of %d given twice: %s and %s", s+1, a.Info.Shards, prev, p)
			}
			seen[s] = p
		}
		if acc == nil {
			acc = a
			continue
		}
		if err := acc.Merge(a); err != nil {
			return nil, fmt.Errorf("%s and %s: %w", paths[0], p, err)
		}
		if d := awd.ConfigDiff(acc.Info.Config, a.Info.Config); d != "" {
			fmt.Fprintf(cmd.ErrOrStderr(), "note: %s and %s differ in settings only the finish reads (%s): the reduce uses %s's\n", paths[0], p, d, paths[0])
		}
	}
	if !acc.Complete() {
		var missing, have []string
		for s := 0; s < acc.Info.Shards; s++ {
			if slices.Contains(acc.Info.Have, s) {
				have = append(have, fmt.Sprint(s+1))
			} else {
				missing = append(missing, fmt.Sprint(s+1))
			}
		}
		return nil, fmt.Errorf("missing shard(s) %s of %d (given: %s)", strings.Join(missing, ", "), acc.Info.Shards, strings.Join(have, ", "))
	}
	return acc, nil
}
