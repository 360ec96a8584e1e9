package bench

import (
	"math/rand/v2"

	"github.com/awd-toolkit/awd/nn"
)

// CNN is the training workload of `awd bench cnn` and BenchmarkTrainCNN:
// the CNN of docs/math.md section 2 on N random MNIST-shaped inputs (1 x 28 x 28,
// uniform in [0, 1), 10 classes), SGD as DefaultTrainConfig (lr 0.1,
// clipping at 5) with batches of B, one epoch per call.
type CNN struct {
	Model *nn.Model
	Data  *nn.Dataset
	Batch int
	epoch int
}

// NewCNN returns the workload with n samples and batch size batch.
func NewCNN(n, batch int) *CNN {
	rng := rand.New(rand.NewPCG(1, 0xc22))
	ds := &nn.Dataset{Name: "random", N: n, C: 1, H: 28, W: 28, Classes: 10, X: make([]float32, n*784), Y: make([]int, n)}
	for i := range ds.X {
		ds.X[i] = rng.Float32()
	}
	for i := range ds.Y {
		ds.Y[i] = rng.IntN(10)
	}
	m, err := nn.NewCNN(1, 28, 28, 10, 1)
	if err != nil {
		panic(err)
	}
	return &CNN{Model: m, Data: ds, Batch: batch}
}

// Epoch trains one more epoch and returns its profile.
func (c *CNN) Epoch() nn.TrainProfile {
	var p nn.TrainProfile
	cfg := nn.DefaultTrainConfig(nn.CE)
	cfg.Batch, cfg.StopLoss, cfg.Profile = c.Batch, 0, &p
	cfg.StartEpoch, cfg.Epochs = c.epoch, c.epoch+1
	c.epoch++
	if _, err := nn.Train(c.Model, c.Data, nil, cfg, nil); err != nil {
		panic(err)
	}
	return p
}
