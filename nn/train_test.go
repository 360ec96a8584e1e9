package nn

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// randDataset returns n random inputs of shape c x h x w with labels below k.
func randDataset(seed uint64, n, c, h, w, k int) *Dataset {
	r := rand.New(rand.NewPCG(seed, 1))
	x, y := randInputs(r, n, c*h*w, k)
	ds := &Dataset{Name: "rand", N: n, C: c, H: h, W: w, Classes: k, X: make([]float32, len(x)), Y: y}
	for i, v := range x {
		ds.X[i] = float32(v)
	}
	return ds
}

func npzBytes(t testing.TB, m *Model) []byte {
	var buf bytes.Buffer
	if err := WriteNPZ(&buf, m); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestEpochLR(t *testing.T) {
	c := DefaultTrainConfig(CE)
	// CosineAnnealingLR's recursive form, as PyTorch steps it
	lr := c.LR
	for e := 1; e <= c.TMax+1; e++ {
		if got := c.EpochLR(e); math.Abs(got-lr) > 64*eps*c.LR {
			t.Fatalf("epoch %d: lr %.17g, recursive form %.17g", e, got, lr)
		}
		k := float64(e) // scheduler.step() after epoch e
		min := c.LR / 100
		lr = min + (lr-min)*(1+math.Cos(math.Pi*k/float64(c.TMax)))/(1+math.Cos(math.Pi*(k-1)/float64(c.TMax)))
	}
	if got := c.EpochLR(c.TMax + 1); math.Abs(got-c.LR/100) > 64*eps*c.LR {
		t.Fatalf("lr after T_max %g", got)
	}
	c.Vanilla = true
	if c.EpochLR(300) != c.LR {
		t.Fatal("vanilla lr changes")
	}
}

// TestTrainMNIST3 is the integration test: the MNIST MLP on a 3-class
// subset reaches 100% train accuracy with CE within the epoch budget.
func TestTrainMNIST3(t *testing.T) {
	train, test, err := LoadMNIST("")
	if err != nil {
		t.Fatal(err)
	}
	classes := []int{0, 1, 2}
	sub, _, err := Subset(train, classes, 100, 1)
	if err != nil {
		t.Fatal(err)
	}
	tsub, _, _ := Subset(test, classes, 0, 1)
	m, err := NewMLP(784, []int{50, 50}, 10, 1)
	if err != nil {
		t.Fatal(err)
	}
	cfg := DefaultTrainConfig(CE)
	cfg.Epochs = 60
	reached := 0
	_, err = Train(m, sub, tsub, cfg, func(st EpochStats, m *Model) error {
		if st.TrainAcc == 1 && reached == 0 {
			reached = st.Epoch
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	_, acc, _ := Evaluate(m, sub, CE)
	_, testAcc, _ := Evaluate(m, tsub, CE)
	t.Logf("100%% running train accuracy at epoch %d; final train %.4f, test %.4f", reached, acc, testAcc)
	if acc != 1 {
		t.Fatalf("train accuracy %.4f after %d epochs", acc, cfg.Epochs)
	}
}

// TestDeterminism: two runs with the same seeds give the same bytes, and so
// does a run with one thread.
func TestDeterminism(t *testing.T) {
	for _, kind := range []string{"mlp", "cnn"} {
		t.Run(kind, func(t *testing.T) {
			ds := randDataset(1, 40, 1, 8, 8, 3)
			run := func() []byte {
				var m *Model
				if kind == "mlp" {
					m, _ = NewMLP(64, []int{16, 8}, 10, 5)
				} else {
					m, _ = NewCNN(1, 8, 8, 10, 5)
				}
				cfg := DefaultTrainConfig(MSE)
				cfg.Epochs, cfg.Batch, cfg.Seed = 3, 16, 9
				if _, err := Train(m, ds, nil, cfg, nil); err != nil {
					t.Fatal(err)
				}
				return npzBytes(t, m)
			}
			a, b := run(), run()
			old := runtime.GOMAXPROCS(1)
			c := run()
			runtime.GOMAXPROCS(old)
			if !bytes.Equal(a, b) || !bytes.Equal(a, c) {
				t.Fatal("same seed, different weights")
			}
		})
	}
}

// TestResume: a run stopped after epoch 3 and resumed from its checkpoint
// ends with the same bytes as the uninterrupted run.
func TestResume(t *testing.T) {
	ds := randDataset(2, 50, 1, 6, 6, 4)
	cfg := DefaultTrainConfig(CE)
	cfg.Epochs, cfg.Batch, cfg.Seed = 6, 8, 3
	full, _ := NewMLP(36, []int{12}, 4, 7)
	if _, err := Train(full, ds, nil, cfg, nil); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "last.npz")
	part, _ := NewMLP(36, []int{12}, 4, 7)
	killed := errors.New("killed")
	_, err := Train(part, ds, nil, cfg, func(st EpochStats, m *Model) error {
		if err := SaveCheckpoint(path, m, CheckpointMeta{Epoch: st.Epoch, Train: cfg}); err != nil {
			return err
		}
		if st.Epoch == 3 {
			return killed
		}
		return nil
	})
	if !errors.Is(err, killed) {
		t.Fatalf("first part: %v", err)
	}
	m, meta, err := LoadCheckpoint(path)
	if err != nil {
		t.Fatal(err)
	}
	rc := meta.Train
	rc.StartEpoch = meta.Epoch
	last, err := Train(m, ds, nil, rc, nil)
	if err != nil || last != 6 {
		t.Fatalf("resume: last epoch %d, %v", last, err)
	}
	if !bytes.Equal(npzBytes(t, full), npzBytes(t, m)) {
		t.Fatal("resumed run differs from the uninterrupted one")
	}
}

// TestNonFinite: a run that diverges in epoch 3 (the lr jumps after two
// good epochs) stops with an error naming epoch 3, and the model keeps the
// weights of epoch 2.
func TestNonFinite(t *testing.T) {
	ds := randDataset(3, 20, 1, 4, 4, 3)
	m, _ := NewMLP(16, []int{8}, 3, 1)
	cfg := DefaultTrainConfig(CE)
	cfg.Epochs, cfg.Batch = 2, 5
	if _, err := Train(m, ds, nil, cfg, nil); err != nil {
		t.Fatal(err)
	}
	good := npzBytes(t, m)
	cfg.StartEpoch, cfg.Epochs = 2, 50
	cfg.Vanilla, cfg.LR = true, 1e20
	last, err := Train(m, ds, nil, cfg, nil)
	if !errors.Is(err, ErrNonFinite) || !strings.Contains(err.Error(), "epoch 3") {
		t.Fatalf("error %v, want a non-finite loss in epoch 3", err)
	}
	if last != 2 || !bytes.Equal(good, npzBytes(t, m)) {
		t.Fatalf("model is not the one of epoch 2 (last good epoch reported %d)", last)
	}
}

func TestTrainErrors(t *testing.T) {
	ds := randDataset(3, 10, 1, 4, 4, 3)
	m, _ := NewMLP(16, []int{8}, 3, 1)
	wrong := randDataset(3, 10, 1, 5, 4, 3)
	labels := randDataset(3, 10, 1, 4, 4, 5)
	cfg := DefaultTrainConfig(CE)
	// Inputs that do not add up to N samples, whether or not the slice's
	// spare capacity hides it, labels short of N, and a NaN input.
	short := *ds
	short.X = ds.X[:len(ds.X)-5]
	fewY := *ds
	fewY.Y = ds.Y[:len(ds.Y)-1]
	nan := *ds
	nan.X = slices.Clone(ds.X)
	nan.X[2*16+9] = float32(math.NaN())
	for name, c := range map[string]struct {
		ds   *Dataset
		cfg  TrainConfig
		want string
	}{
		"shape":  {wrong, cfg, "inputs are"},
		"labels": {labels, cfg, "label"},
		"batch":  {ds, TrainConfig{LR: 0.1, Epochs: 1}, "batch"},
		"short":  {&short, cfg, "155 input values for 10 samples of 1x4x4"},
		"few-y":  {&fewY, cfg, "9 labels for 10 samples"},
		"nan":    {&nan, cfg, "sample 2: input value 9 is NaN: every input must be finite; fix the sample or leave it out"},
		"nil":    {nil, cfg, "empty data set"},
	} {
		if _, err := Train(m, c.ds, nil, c.cfg, nil); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one saying %q", name, err, c.want)
		}
	}
	// Every field TrainConfig.Validate checks is checked by Train too: a
	// negative start epoch ran extra epochs, a negative minimum learning
	// rate climbed the loss, a start past the end trained nothing, all
	// without an error.
	for name, c := range map[string]struct {
		edit func(*TrainConfig)
		want string
	}{
		"start<0":    {func(c *TrainConfig) { c.StartEpoch = -3 }, "start epoch -3"},
		"start>end":  {func(c *TrainConfig) { c.Epochs, c.StartEpoch = 1, 5 }, "start epoch 5 is past the last epoch 1"},
		"epochs=0":   {func(c *TrainConfig) { c.Epochs = 0 }, "epochs=0"},
		"clip=NaN":   {func(c *TrainConfig) { c.ClipNorm = math.NaN() }, "clip=NaN"},
		"clip<0":     {func(c *TrainConfig) { c.ClipNorm = -1 }, "clip=-1"},
		"min-lr<0":   {func(c *TrainConfig) { c.MinLR = -5 }, "min-lr=-5"},
		"min-lr=NaN": {func(c *TrainConfig) { c.MinLR = math.NaN() }, "min-lr=NaN"},
		"t-max<0":    {func(c *TrainConfig) { c.TMax = -4 }, "t-max=-4"},
		"lr=Inf":     {func(c *TrainConfig) { c.LR = math.Inf(1) }, "lr=+Inf"},
		"stop=NaN":   {func(c *TrainConfig) { c.StopLoss = math.NaN() }, "stop-loss=NaN"},
	} {
		bad := DefaultTrainConfig(CE)
		bad.Epochs, bad.Batch = 2, 5
		c.edit(&bad)
		before := npzBytes(t, m)
		if _, err := Train(m, ds, nil, bad, nil); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one saying %q", name, err, c.want)
		}
		if !bytes.Equal(before, npzBytes(t, m)) {
			t.Errorf("%s: the refused config changed the model", name)
		}
	}
	if _, _, err := Evaluate(m, &short, CE); err == nil || !strings.Contains(err.Error(), "input values") {
		t.Errorf("Evaluate of short inputs: %v", err)
	}
	if _, _, err := Evaluate(nil, ds, CE); err == nil || !strings.Contains(err.Error(), "no model") {
		t.Errorf("Evaluate without a model: %v", err)
	}
	// A Loss that is neither CE nor MSE is an error, not a panic in a
	// worker goroutine.
	bad := cfg
	bad.Loss = Loss(2)
	if _, err := Train(m, ds, nil, bad, nil); err == nil || !strings.Contains(err.Error(), "unknown loss Loss(2)") {
		t.Errorf("Train with Loss(2): %v", err)
	}
	if _, _, err := Evaluate(m, ds, Loss(2)); err == nil || !strings.Contains(err.Error(), "unknown loss") {
		t.Errorf("Evaluate with Loss(2): %v", err)
	}
	if _, err := m.PerSample("fc1", make([]float64, 16), []int{0}, Loss(2)); err == nil || !strings.Contains(err.Error(), "unknown loss") {
		t.Errorf("PerSample with Loss(2): %v", err)
	}
	if _, err := m.LayerSamples([]string{"fc1"}, make([]float64, 16), []int{0}, Loss(-1)); err == nil || !strings.Contains(err.Error(), "unknown loss") {
		t.Errorf("LayerSamples with Loss(-1): %v", err)
	}
}

// TestStopRules checks the paper code's early stop against its definition:
// a run without early stop, evaluated after every epoch by Evaluate (the
// whole training set, float32 as in training), gives the loss and accuracy
// curves; the first epoch whose loss is below StopLoss and whose mean
// accuracy over the last 9 epochs exceeds 0.9999 is where the run with
// StopFull must stop, with the same FullLoss and FullAcc logged. The
// running rule stops where the mean batch loss first falls below StopLoss,
// and a run resumed from any epoch with PrevFullAcc stops at the same epoch.
func TestStopRules(t *testing.T) {
	ds := randDataset(3, 60, 1, 1, 5, 2)
	for i, y := range ds.Y { // separable with a margin: x_0 is 0.1 or 0.9
		ds.X[i*5] = 0.1 + 0.8*float32(y)
	}
	const stop = 0.02
	newModel := func() *Model {
		m, err := NewMLP(5, []int{8, 8}, 2, 4)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	cfg := DefaultTrainConfig(CE)
	cfg.Epochs, cfg.Batch, cfg.Seed, cfg.LR, cfg.StopLoss = 400, 10, 1, 0.5, 0
	var loss, acc, running []float64
	if _, err := Train(newModel(), ds, nil, cfg, func(st EpochStats, m *Model) error {
		l, a, err := Evaluate(m, ds, CE)
		loss, acc, running = append(loss, l), append(acc, a), append(running, st.TrainLoss)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	want, wantRunning := -1, -1
	for e := range loss {
		lo := max(0, e+1-9)
		var s float64
		for _, a := range acc[lo : e+1] {
			s += a
		}
		if want < 0 && loss[e] < stop && s/float64(e+1-lo) > 0.9999 {
			want = e + 1
		}
		if wantRunning < 0 && running[e] < stop {
			wantRunning = e + 1
		}
	}
	if want < 0 || wantRunning < 0 {
		t.Fatalf("the rules never trigger in %d epochs (last loss %v, acc %v)", cfg.Epochs, loss[len(loss)-1], acc[len(acc)-1])
	}
	t.Logf("full rule at epoch %d, running rule at %d", want, wantRunning)
	cfg.StopLoss = stop
	var logged []EpochStats
	last, err := Train(newModel(), ds, nil, cfg, func(st EpochStats, _ *Model) error {
		logged = append(logged, st)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if last != want {
		t.Errorf("StopFull stopped after epoch %d, the definition says %d", last, want)
	}
	for e, st := range logged {
		// the same float32 logits, summed in batches of another size
		if math.Abs(st.FullLoss-loss[e]) > 64*eps*loss[e] || st.FullAcc != acc[e] {
			t.Fatalf("epoch %d: full loss/acc %v %v, Evaluate %v %v", e+1, st.FullLoss, st.FullAcc, loss[e], acc[e])
		}
	}
	// Resume after epoch r with the accuracies logged so far.
	for _, r := range []int{want - 3, want - 1} {
		if r < 1 {
			continue
		}
		m := newModel()
		c := cfg
		c.Epochs = r
		if _, err := Train(m, ds, nil, c, nil); err != nil {
			t.Fatal(err)
		}
		c.Epochs, c.StartEpoch, c.PrevFullAcc = cfg.Epochs, r, acc[:r]
		if got, err := Train(m, ds, nil, c, nil); err != nil || got != want {
			t.Errorf("resumed after epoch %d: stopped after %d (%v), want %d", r, got, err, want)
		}
	}
	cfg.StopRule = StopRunning
	if last, err := Train(newModel(), ds, nil, cfg, nil); err != nil || last != wantRunning {
		t.Errorf("StopRunning stopped after epoch %d (%v), want %d", last, err, wantRunning)
	}
	cfg.StopRule = "never"
	if _, err := Train(newModel(), ds, nil, cfg, nil); err == nil {
		t.Error("unknown stop rule accepted")
	}
}

// TestTrainRefusesBatchAboveN: a mini-batch larger than the training set
// is refused before any step, naming the batch, the samples and what to
// give (it used to train full-batch while the larger B was recorded); a
// batch of exactly N trains.
func TestTrainRefusesBatchAboveN(t *testing.T) {
	ds := randDataset(3, 20, 1, 4, 4, 3)
	m, _ := NewMLP(16, []int{8}, 3, 1)
	cfg := DefaultTrainConfig(CE)
	cfg.Epochs, cfg.Batch = 1, ds.N+1
	before := npzBytes(t, m)
	var oe *OptionError
	_, err := Train(m, ds, nil, cfg, func(EpochStats, *Model) error {
		t.Error("an epoch ran with a batch larger than the training set")
		return nil
	})
	if !errors.As(err, &oe) || oe.Option != "batch" || oe.Value != fmt.Sprint(ds.N+1) {
		t.Fatalf("batch %d of %d samples: error %v, want an OptionError of batch", ds.N+1, ds.N, err)
	}
	if want := fmt.Sprintf("more than the %d training samples: give --batch %d or less", ds.N, ds.N); !strings.Contains(err.Error(), want) {
		t.Errorf("error %q, want it to say %q", err, want)
	}
	if !bytes.Equal(before, npzBytes(t, m)) {
		t.Error("the refused batch changed the model")
	}
	cfg.Batch = ds.N
	if _, err := Train(m, ds, nil, cfg, nil); err != nil {
		t.Errorf("batch N = %d: %v", ds.N, err)
	}
}
