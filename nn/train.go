package nn

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"time"
)

// TrainConfig is the SGD setup. Defaults (DefaultTrainConfig) follow the
// paper's code: lr 0.1, cosine annealing to lr/100 over 500 epochs stepped
// once per epoch, gradient-norm clipping at 5, and its early stop (StopFull):
// the loss of the whole training set after the epoch below 1e-5 and its
// accuracy above 0.9999 (mean of the last 9 epochs).
type TrainConfig struct {
	Loss     Loss    `json:"loss"`
	Epochs   int     `json:"epochs"`    // last epoch to run (1-based)
	Batch    int     `json:"batch"`     // mini-batch size B, at most the training samples; the last batch of an epoch may be smaller
	LR       float64 `json:"lr"`        // initial learning rate
	TMax     int     `json:"t_max"`     // cosine period in epochs
	MinLR    float64 `json:"min_lr"`    // eta_min; 0 means LR/100
	ClipNorm float64 `json:"clip_norm"` // max global gradient norm; 0 disables
	StopLoss float64 `json:"stop_loss"` // stop when the train loss < StopLoss (see StopRule); 0 disables
	// StopRule is which train loss StopLoss is compared with: StopFull
	// (also ""), the paper code's rule, or StopRunning.
	StopRule string `json:"stop_rule,omitempty"`
	Vanilla  bool   `json:"vanilla"` // constant lr, no clipping
	Seed     uint64 `json:"seed"`    // shuffling seed (the init seed is the model's)
	// StartEpoch is the number of epochs already done (resume from a
	// checkpoint written after epoch StartEpoch).
	StartEpoch int `json:"start_epoch"`
	// PrevFullAcc are the FullAcc of the epochs before StartEpoch, oldest
	// first (only the last StopWindow - 1 are used): StopFull looks back
	// that far, so a resumed run stops where the uninterrupted one would.
	PrevFullAcc []float64 `json:"-"`
	// OnBatch, when not nil, is called after every mini-batch with the
	// batches done and the batches of the epoch (for progress bars).
	OnBatch func(done, total int) `json:"-"`
	// Done, when not nil, stops training between mini-batches once it is
	// closed (a context's Done channel): Train then returns ErrStopped and
	// the model keeps the weights of the last finished epoch.
	Done <-chan struct{} `json:"-"`
	// Profile, when not nil, is where Train adds up the time of the parts
	// of its steps (for benchmarks; it costs two clock reads per layer).
	Profile *TrainProfile `json:"-"`
}

// TrainProfile adds up, over the mini-batches Train runs, the wall time of
// training (forward, loss, backward and update; not the test-set
// evaluation) and of two parts of it, with the convolutions' flops:
// 2*h*w*in*out*9 per sample and pass (forward, weight gradient, input
// gradient except at the first layer), the useful work whatever the
// algorithm does beyond it.
type TrainProfile struct {
	Samples   int           // samples trained on
	Total     time.Duration // training
	Conv      time.Duration // convolutions: forward with bias and ReLU, weight, bias and input gradients
	Pool      time.Duration // max-pools and their gradients
	ConvFlops float64
}

// Stop rules (TrainConfig.StopRule).
const (
	// StopFull is the paper code's early stop (train_model.py, lines
	// 124-143): after every epoch the model is evaluated on the whole
	// training set (EpochStats.FullLoss, FullAcc), and training stops when
	// FullLoss < StopLoss and the mean FullAcc of the last StopWindow
	// epochs (fewer at the start) exceeds StopAcc. It costs one forward
	// pass over the training set per epoch.
	StopFull = "full"
	// StopRunning stops when the mean of the epoch's mini-batch losses, as
	// they were seen during the epoch, is below StopLoss (no extra pass).
	StopRunning = "running"
)

// StopAcc and StopWindow are the accuracy bar of StopFull and the number of
// epochs it averages (the code's np.mean(acc[-1:-10:-1]) > 0.9999).
const (
	StopAcc    = 0.9999
	StopWindow = 9
)

// ErrStopped is wrapped by Train's error when TrainConfig.Done was closed.
var ErrStopped = errors.New("training stopped")

// DefaultTrainConfig returns the paper-code defaults for loss.
func DefaultTrainConfig(loss Loss) TrainConfig {
	return TrainConfig{Loss: loss, Epochs: 100, Batch: 50, LR: 0.1, TMax: 500, ClipNorm: 5, StopLoss: 1e-5, StopRule: StopFull}
}

// EpochLR is the learning rate used during epoch e (1-based):
// CosineAnnealingLR(T_max, eta_min) stepped per epoch, in closed form,
// eta_min + (lr - eta_min)(1 + cos(pi (e-1)/T_max))/2; LR when Vanilla.
func (c TrainConfig) EpochLR(e int) float64 {
	if c.Vanilla || c.TMax <= 0 {
		return c.LR
	}
	min := c.MinLR
	if min == 0 {
		min = c.LR / 100
	}
	return min + (c.LR-min)*(1+math.Cos(math.Pi*float64(e-1)/float64(c.TMax)))/2
}

// EpochStats is what one epoch reports. The train loss and accuracy are the
// means over the epoch's mini-batches as they were seen (weighted by batch
// size); FullLoss and FullAcc are those of the model at the end of the epoch
// on the whole training set, which is what the paper's code logs as its
// train loss (NaN unless StopFull evaluates them); test values are from the
// model at the end of the epoch (NaN without a test set).
type EpochStats struct {
	Epoch     int     `json:"epoch"`
	TrainLoss float64 `json:"train_loss"`
	TrainAcc  float64 `json:"train_acc"`
	FullLoss  float64 `json:"full_loss"`
	FullAcc   float64 `json:"full_acc"`
	TestLoss  float64 `json:"test_loss"`
	TestAcc   float64 `json:"test_acc"`
	LR        float64 `json:"lr"`
	Seconds   float64 `json:"seconds"`
}

// ErrNonFinite is wrapped by Train's error when the loss turns NaN or Inf.
var ErrNonFinite = errors.New("non-finite loss")

// Train runs SGD on m (float32, linalg.Gemm32) for epochs StartEpoch+1 ..
// Epochs, calling onEpoch (when not nil) after each with the stats and the
// updated model; an error from onEpoch stops training and is returned. It
// returns the last epoch run (earlier than Epochs after an early stop).
//
// Reproducibility: the shuffle of epoch e comes from PCG(Seed, e) alone, the
// loss and gradient reductions run in a fixed order, so a run is bit-for-bit
// the same for a seed and kernel level, and resuming from the checkpoint of
// epoch e (StartEpoch = e) continues exactly as the uninterrupted run.
// A NaN or Inf loss stops with an error naming the epoch; m then keeps the
// weights of the last good epoch. cfg is checked first (TrainConfig.Validate;
// StartEpoch may equal Epochs: nothing left to run), and a Batch larger
// than the training set is refused (CheckBatch).
func Train(m *Model, train, test *Dataset, cfg TrainConfig, onEpoch func(EpochStats, *Model) error) (int, error) {
	if err := CheckData(m, train, test); err != nil {
		return 0, err
	}
	if err := cfg.Validate(); err != nil {
		return 0, fmt.Errorf("train: %w", err)
	}
	if err := CheckBatch(cfg.Batch, train.N); err != nil {
		return 0, fmt.Errorf("train: %w", err)
	}
	if cfg.StartEpoch > cfg.Epochs {
		return 0, fmt.Errorf("train: start epoch %d is past the last epoch %d", cfg.StartEpoch, cfg.Epochs)
	}
	full := cfg.StopLoss > 0 && cfg.StopRule != StopRunning
	accs := append([]float64(nil), cfg.PrevFullAcc...)
	b := cfg.Batch
	n := newNet[float32](m, b)
	n.prof = cfg.Profile
	dim := train.Dim()
	L := m.Arch.Outputs
	stage := make([]float32, b*dim)
	labels := make([]int, b)
	dOut := make([]float32, b*L)
	last := cfg.StartEpoch
	for e := cfg.StartEpoch + 1; e <= cfg.Epochs; e++ {
		start := time.Now()
		lr := cfg.EpochLR(e)
		perm := rand.New(rand.NewPCG(cfg.Seed, 0xe90c0000+uint64(e))).Perm(train.N)
		var sumLoss float64
		var correct int
		t0 := n.now()
		for off := 0; off < train.N; off += b {
			bs := min(b, train.N-off)
			for i, s := range perm[off : off+bs] {
				copy(stage[i*dim:(i+1)*dim], train.Sample(s))
				labels[i] = train.Y[s]
			}
			setInput(n, stage, bs)
			n.forward(bs)
			l, c := batchLoss(cfg.Loss, n.output(bs), labels[:bs], L, dOut[:bs*L])
			if math.IsNaN(l) || math.IsInf(l, 0) {
				return last, fmt.Errorf("train: epoch %d, batch %d: %w (%g); keeping the weights of epoch %d", e, off/b+1, ErrNonFinite, l, last)
			}
			sumLoss += l
			correct += c
			n.backward(bs, dOut[:bs*L], nil)
			n.step(lr, cfg)
			if cfg.OnBatch != nil {
				cfg.OnBatch(off/b+1, (train.N+b-1)/b)
			}
			select {
			case <-cfg.Done:
				return last, fmt.Errorf("train: epoch %d, batch %d: %w; keeping the weights of epoch %d", e, off/b+1, ErrStopped, last)
			default:
			}
		}
		if n.prof != nil {
			n.prof.Total += time.Since(t0)
			n.prof.Samples += train.N
		}
		st := EpochStats{Epoch: e, TrainLoss: sumLoss / float64(train.N), TrainAcc: float64(correct) / float64(train.N),
			FullLoss: math.NaN(), FullAcc: math.NaN(), TestLoss: math.NaN(), TestAcc: math.NaN(), LR: lr}
		if math.IsNaN(st.TrainLoss) || math.IsInf(st.TrainLoss, 0) || !n.finite() {
			return last, fmt.Errorf("train: epoch %d: %w; keeping the weights of epoch %d", e, ErrNonFinite, last)
		}
		n.store(m)
		if full {
			st.FullLoss, st.FullAcc = evaluate(n, train, cfg.Loss, cfg.Done)
			accs = append(accs, st.FullAcc)
		}
		if test != nil {
			st.TestLoss, st.TestAcc = evaluate(n, test, cfg.Loss, cfg.Done)
		}
		select {
		case <-cfg.Done:
			return last, fmt.Errorf("train: evaluating epoch %d: %w; the model holds the weights of epoch %d, which were not reported", e, ErrStopped, e)
		default:
		}
		st.Seconds = time.Since(start).Seconds()
		last = e
		if onEpoch != nil {
			if err := onEpoch(st, m); err != nil {
				return last, err
			}
		}
		if cfg.Stops(st, accs) {
			break
		}
	}
	return last, nil
}

// Stops reports whether training ends after the epoch st by the early stop
// of c: fullAccs are the FullAcc of the epochs so far, st's last (StopFull;
// ignored by StopRunning). False when StopLoss is 0.
func (c TrainConfig) Stops(st EpochStats, fullAccs []float64) bool {
	switch {
	case c.StopLoss <= 0:
		return false
	case c.StopRule == StopRunning:
		return st.TrainLoss < c.StopLoss
	}
	return st.FullLoss < c.StopLoss && len(fullAccs) > 0 && meanLast(fullAccs, StopWindow) > StopAcc
}

// meanLast is the mean of the last (up to) n values of x.
func meanLast(x []float64, n int) float64 {
	x = x[max(0, len(x)-n):]
	var s float64
	for _, v := range x {
		s += v
	}
	return s / float64(len(x))
}

// CheckBatch refuses a mini-batch size batch larger than the n samples of
// the training set. SGD cannot draw such a batch: it would train
// full-batch while batch, the B that the analysis divides by
// (C_awd = (sigma^2/B) M2), is recorded as given.
func CheckBatch(batch, n int) error {
	if batch > n {
		return BadOption("batch", batch, "more than the %d training samples: give --batch %d or less (%d trains full-batch), or more training samples (--per-class)", n, n, n)
	}
	return nil
}

// CheckData checks what Train checks of its data before it starts: that
// train, and test when not nil, hold finite inputs of the size the model
// takes, in the shape of its images where it knows it (Arch.ImageShape: a
// CNN's, and an MLP's built by ModelSpec.Arch or read from a checkpoint
// that records it), and labels within its outputs. A caller that
// prepares a training (an output folder) checks them first, so that data
// the model cannot take leave nothing behind.
func CheckData(m *Model, train, test *Dataset) error {
	if err := CheckSamples(m, train); err != nil {
		return fmt.Errorf("train: %w", err)
	}
	if test != nil {
		if err := CheckSamples(m, test); err != nil {
			return fmt.Errorf("train: test set: %w", err)
		}
	}
	return nil
}

// CheckSamples checks that m can take the samples of ds: sizes that add
// up and finite inputs (Dataset.Check), inputs of the size m takes, in the
// shape of its images where it knows it (Arch.ImageShape), and labels
// within its outputs. Errors name the data set, the sample and what the
// model takes. Train, Evaluate and the analyses of package awd all check
// their data with it.
func CheckSamples(m *Model, ds *Dataset) error {
	if m == nil {
		return errors.New("no model (nil)")
	}
	if err := ds.Check(); err != nil {
		return err
	}
	name := ""
	if ds.Name != "" {
		name = ds.Name + " "
	}
	// Where the model knows the shape of its images, the same number of
	// pixels in another shape (14x56 for 28x28) is other data too.
	size := m.Arch.In[0] * m.Arch.In[1] * m.Arch.In[2]
	shape, known := m.Arch.ImageShape()
	if ds.Dim() != size || known && [3]int{ds.C, ds.H, ds.W} != shape {
		takes := fmt.Sprintf("%d inputs", size)
		switch {
		case m.Arch.Model == "cnn":
			takes = fmt.Sprintf("%dx%dx%d images", shape[0], shape[1], shape[2])
		case known:
			takes = fmt.Sprintf("%d inputs of %dx%dx%d images", size, shape[0], shape[1], shape[2])
		}
		return fmt.Errorf("%sinputs are %dx%dx%d, the model takes %s: give the data set's own files (or a model built for these)", name, ds.C, ds.H, ds.W, takes)
	}
	for i, y := range ds.Y {
		if y < 0 || y >= m.Arch.Outputs {
			return fmt.Errorf("%ssample %d: label %d but the model's head has %d outputs (labels 0 to %d)", name, i, y, m.Arch.Outputs, m.Arch.Outputs-1)
		}
	}
	return nil
}

// batchLoss returns the summed loss and the number of correct predictions of
// a batch of logits, and writes dOut = (1/b) dl/do (the gradient of the
// batch-mean loss).
func batchLoss[T num](loss Loss, logits []T, labels []int, L int, dOut []T) (float64, int) {
	b := len(labels)
	o := make([]float64, L)
	p := make([]float64, L)
	g := make([]float64, L)
	var sum float64
	correct := 0
	for s, y := range labels {
		row := logits[s*L : (s+1)*L]
		for k, v := range row {
			o[k] = float64(v)
		}
		softmax(o, p)
		sum += loss.eval(o, p, y, g)
		if argmax(o) == y {
			correct++
		}
		if dOut != nil {
			for k, v := range g {
				dOut[s*L+k] = T(v / float64(b))
			}
		}
	}
	return sum, correct
}

func argmax(o []float64) int {
	best := 0
	for k, v := range o {
		if v > o[best] {
			best = k
		}
	}
	return best
}

// step applies one SGD update with the learning rate lr, clipping the global
// gradient norm as PyTorch's clip_grad_norm_ does (scale by
// max_norm/(norm + 1e-6) when that is below 1).
func (n *net[T]) step(lr float64, cfg TrainConfig) {
	scale := lr
	if !cfg.Vanilla && cfg.ClipNorm > 0 {
		var ss float64
		for _, g := range n.g {
			for _, v := range g {
				ss += float64(v) * float64(v)
			}
		}
		if c := cfg.ClipNorm / (math.Sqrt(ss) + 1e-6); c < 1 {
			scale *= c
		}
	}
	s := T(scale)
	for i, w := range n.w {
		for k, g := range n.g[i] {
			w[k] -= s * g
		}
	}
	if n.dir != nil {
		n.dir.stale = true
	}
}

func (n *net[T]) finite() bool {
	for _, w := range n.w {
		for _, v := range w {
			if f := float64(v); math.IsNaN(f) || math.IsInf(f, 0) {
				return false
			}
		}
	}
	return true
}

// evaluate returns the mean loss and the accuracy of the net on ds; done
// (which may be nil) stops it early, with NaNs.
func evaluate[T num](n *net[T], ds *Dataset, loss Loss, done <-chan struct{}) (float64, float64) {
	var sum float64
	correct := 0
	L := n.m.Arch.Outputs
	dim := ds.Dim()
	for off := 0; off < ds.N; off += n.cap {
		select {
		case <-done:
			return math.NaN(), math.NaN()
		default:
		}
		bs := min(n.cap, ds.N-off)
		setInput(n, ds.X[off*dim:(off+bs)*dim], bs)
		n.forward(bs)
		l, c := batchLoss[T](loss, n.output(bs), ds.Y[off:off+bs], L, nil)
		sum += l
		correct += c
	}
	return sum / float64(ds.N), float64(correct) / float64(ds.N)
}

// Evaluate returns the mean loss and the accuracy of m on ds (float32, as
// in training).
func Evaluate(m *Model, ds *Dataset, loss Loss) (meanLoss, acc float64, err error) {
	if err := CheckSamples(m, ds); err != nil {
		return 0, 0, fmt.Errorf("evaluate: %w", err)
	}
	if err := loss.check("evaluate"); err != nil {
		return 0, 0, err
	}
	l, a := evaluate(newNet[float32](m, min(256, ds.N)), ds, loss, nil)
	return l, a, nil
}

// Validate checks the config: epochs and batch at least 1, a positive
// finite learning rate, and non-negative finite cosine period, minimum
// learning rate, clipping norm and stop loss.
func (c TrainConfig) Validate() error {
	finite := func(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
	switch {
	case c.Epochs < 1:
		return BadOption("epochs", c.Epochs, "must be at least 1")
	case c.Batch < 1:
		return BadOption("batch", c.Batch, "must be at least 1")
	case !(c.LR > 0) || !finite(c.LR):
		return BadOption("lr", c.LR, "must be positive and finite")
	case c.TMax < 0:
		return BadOption("t-max", c.TMax, "must be at least 0 (0: constant learning rate)")
	case !(c.MinLR >= 0) || !finite(c.MinLR):
		return BadOption("min-lr", c.MinLR, "must be non-negative and finite")
	case !(c.ClipNorm >= 0) || !finite(c.ClipNorm):
		return BadOption("clip", c.ClipNorm, "must be non-negative and finite (0: no clipping)")
	case !(c.StopLoss >= 0) || !finite(c.StopLoss):
		return BadOption("stop-loss", c.StopLoss, "must be non-negative and finite (0: never)")
	case c.StopRule != "" && c.StopRule != StopFull && c.StopRule != StopRunning:
		return BadOption("stop-rule", c.StopRule, "want %s (the paper code's: whole training set after the epoch) or %s (mean of the epoch's batch losses)", StopFull, StopRunning)
	case c.StartEpoch < 0:
		return fmt.Errorf("start epoch %d", c.StartEpoch)
	}
	return c.Loss.check("loss")
}
