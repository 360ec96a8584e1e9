package awd_test

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"

	"github.com/awd-toolkit/awd/awd"
	"github.com/awd-toolkit/awd/nn"
)

// A small MNIST run: K = 3 classes of 60 samples, an MLP 784-8-8-10.
var exampleRun = awd.RunConfig{
	Data:  nn.DataSpec{Name: "mnist", Classes: []int{0, 1, 2}, PerClass: 60, Seed: 1},
	Model: nn.ModelSpec{Kind: "mlp", Widths: []int{8, 8}},
	Seed:  1,
	Train: nn.TrainConfig{Loss: nn.CE, Epochs: 3, Batch: 10, LR: 0.1, TMax: 500, ClipNorm: 5},
}

// Analyse a checkpoint: its JSON says on which data the model was trained,
// with which loss and batch size.
func ExampleAnalyze() {
	dir, err := os.MkdirTemp("", "awd-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	if _, err := awd.Run(context.Background(), exampleRun, dir, awd.RunOptions{Command: "train"}); err != nil {
		panic(err)
	}

	model, meta, err := nn.LoadCheckpoint(filepath.Join(dir, "final.npz"))
	if err != nil {
		panic(err)
	}
	train, _, err := meta.Data.Load()
	if err != nil {
		panic(err)
	}
	cfg := awd.DefaultConfig(meta.Train.Loss.String())
	cfg.K, cfg.Batch = 20, meta.Train.Batch
	r, err := awd.Analyze(context.Background(), model, train, cfg, nil)
	if err != nil {
		panic(err)
	}
	fmt.Printf("layer %s: d = %d, N = %d, top k = %d eigenpairs of H\n", r.Layer, r.D, r.N, r.K)
	fmt.Printf("Thm 5.1: lambda_i^2 <= s_i for %d of %d, s_i <= lambda_loc_max lambda_i for %d of %d\n",
		r.Bounds.Lower.Holds, r.Bounds.Lower.Total, r.Bounds.Upper.Holds, r.Bounds.Upper.Total)
	// Output:
	// layer fc2: d = 64, N = 180, top k = 20 eigenpairs of H
	// Thm 5.1: lambda_i^2 <= s_i for 20 of 20, s_i <= lambda_loc_max lambda_i for 20 of 20
}

// Train and analyse in one call; a killed Run started again resumes.
func ExampleRun() {
	dir, err := os.MkdirTemp("", "awd-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	cfg := exampleRun
	cfg.AnalyzeAt = []int{1, 3}
	an := awd.DefaultConfig("ce")
	an.K = 20
	cfg.Analysis = &an
	rep, err := awd.Run(context.Background(), cfg, dir, awd.RunOptions{})
	if err != nil {
		panic(err)
	}
	for _, ck := range rep.Checkpoints {
		g := ck.Analysis.Fits[awd.NameCAWD].Gamma
		fmt.Printf("epoch %d: 1 <= gamma_awd <= 2: %v\n", ck.Epoch, g >= 1-1e-9 && g <= 2+1e-9)
	}
	fmt.Println("epochs logged:", len(rep.Training))
	// Output:
	// epoch 1: 1 <= gamma_awd <= 2: true
	// epoch 3: 1 <= gamma_awd <= 2: true
	// epochs logged: 3
}

// Split an analysis into shards (on different machines, say), save them,
// and merge: the result equals one pass over all samples.
func ExampleAccumulation_Merge() {
	ctx := context.Background()
	train, _, err := exampleRun.Data.Load()
	if err != nil {
		panic(err)
	}
	model, err := nn.NewMLP(784, []int{8, 8}, 10, 1)
	if err != nil {
		panic(err)
	}
	cfg := awd.DefaultConfig("ce")
	cfg.K, cfg.Batch = 20, 10
	dir, err := os.MkdirTemp("", "awd-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	var files []string
	for shard := range 2 {
		acc, err := awd.Accumulate(ctx, model, train, cfg, awd.AccumulateOptions{Shard: shard, Shards: 2})
		if err != nil {
			panic(err)
		}
		file := filepath.Join(dir, fmt.Sprintf("shard%d.awdacc", shard))
		if err := acc.Save(file); err != nil {
			panic(err)
		}
		files = append(files, file)
	}
	acc, err := awd.LoadAccumulation(files[0])
	if err != nil {
		panic(err)
	}
	other, err := awd.LoadAccumulation(files[1])
	if err != nil {
		panic(err)
	}
	if err := acc.Merge(other); err != nil {
		panic(err)
	}
	merged, err := awd.Finalize(ctx, acc, nil)
	if err != nil {
		panic(err)
	}
	whole, err := awd.Analyze(ctx, model, train, cfg, nil)
	if err != nil {
		panic(err)
	}
	g, w := merged.Fits[awd.NameC].Gamma, whole.Fits[awd.NameC].Gamma
	fmt.Println("shards:", acc.Info.Have, "of", acc.Info.Shards)
	fmt.Println("gamma equal to 1e-12:", math.Abs(g-w) <= 1e-12*math.Abs(w))
	// Output:
	// shards: [0 1] of 2
	// gamma equal to 1e-12: true
}
