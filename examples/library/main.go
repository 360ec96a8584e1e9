// Command library trains the paper's MNIST MLP on three classes and
// analyses it at three epochs through the awd library, as `awd run` does.
package main

import (
	"context"
	"fmt"
	"log"

	"github.com/awd-toolkit/awd/awd"
	"github.com/awd-toolkit/awd/nn"
)

func main() {
	ctx := context.Background()
	train := nn.DefaultTrainConfig(nn.CE) // SGD lr 0.1, cosine annealing, clipping
	train.Epochs = 20
	analysis := awd.DefaultConfig("ce") // C, H, M2, C_awd, fits, alignment, ...
	analysis.K = 300
	cfg := awd.RunConfig{
		Data:      nn.DataSpec{Name: "mnist", Classes: []int{0, 1, 2}, PerClass: 500, Seed: 1},
		Model:     nn.ModelSpec{Kind: "mlp"}, // 784-50-50-10
		Seed:      1,
		Train:     train,
		AnalyzeAt: []int{1, 10, 20},
		Analysis:  &analysis, // its loss and batch are the training's
	}
	// Train, checkpoint and analyse into out/run; run again to resume.
	rep, err := awd.Run(ctx, cfg, "out/run", awd.RunOptions{})
	if err != nil {
		log.Fatal(err)
	}
	for _, ck := range rep.Checkpoints {
		fmt.Printf("epoch %d: gamma C %.3f, gamma C_awd %.3f\n", ck.Epoch,
			ck.Analysis.Fits[awd.NameC].Gamma, ck.Analysis.Fits[awd.NameCAWD].Gamma)
	}
}
