package awd

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/awd-toolkit/awd/nn"
)

// relClose reports whether every value of got is within tol of want,
// relative to want's largest magnitude.
func relClose(got, want []float64, tol float64) bool {
	if len(got) != len(want) {
		return false
	}
	var scale float64
	for _, v := range want {
		scale = math.Max(scale, math.Abs(v))
	}
	for i := range got {
		if math.Abs(got[i]-want[i]) > tol*scale {
			return false
		}
	}
	return true
}

// TestShardsEqualOnePass accumulates an analysis in 1 and in 3 shards,
// saves and reloads the shards (in a shuffled order), merges them and checks
// that the finished analysis equals the one-pass analysis to 1e-12 relative.
func TestShardsEqualOnePass(t *testing.T) {
	model, sub := trained(t, "ce", 3, 60, 8, 1, 5)
	cfg := smallConfig("ce", 20, 10)
	cfg.Interventions = []string{InterventionRank1}
	ctx := context.Background()
	one, err := Analyze(ctx, model, sub, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	const n = 3
	for i := 0; i < n; i++ {
		acc, err := Accumulate(ctx, model, sub, cfg, AccumulateOptions{Shard: i, Shards: n})
		if err != nil {
			t.Fatal(err)
		}
		if err := acc.Save(filepath.Join(dir, string(rune('a'+i))+".awdacc")); err != nil {
			t.Fatal(err)
		}
	}
	var merged *Accumulation
	for _, name := range []string{"c", "a", "b"} {
		acc, err := LoadAccumulation(filepath.Join(dir, name+".awdacc"))
		if err != nil {
			t.Fatal(err)
		}
		if merged == nil {
			merged = acc
			if _, err := Finalize(ctx, acc, nil); err == nil || !strings.Contains(err.Error(), "1 of 3 shards") {
				t.Fatalf("finalize of one shard: %v", err)
			}
			continue
		}
		if err := merged.Merge(acc); err != nil {
			t.Fatal(err)
		}
	}
	got, err := Finalize(ctx, merged, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.Arrays.SampleIndices, one.Arrays.SampleIndices) || got.Spectrum.Pairs != one.Spectrum.Pairs {
		t.Fatalf("samples or pairs differ: %d pairs vs %d", got.Spectrum.Pairs, one.Spectrum.Pairs)
	}
	if !relClose(got.Arrays.Lambda, one.Arrays.Lambda, 1e-12) {
		t.Errorf("eigenvalues differ beyond 1e-12")
	}
	for name, c := range one.Arrays.C {
		if !relClose(got.Arrays.C[name], c, 1e-12) {
			t.Errorf("c_i of %s differ beyond 1e-12", name)
		}
		if g, o := got.Fits[name].Gamma, one.Fits[name].Gamma; math.Abs(g-o) > 1e-12*math.Abs(o) {
			t.Errorf("gamma of %s: %v sharded, %v in one pass", name, g, o)
		}
	}
	if math.Abs(float64(got.SampleLoss-one.SampleLoss)) > 1e-12 || got.Suppression[0].Fit.Gamma-one.Suppression[0].Fit.Gamma > 1e-10 {
		t.Errorf("loss %v vs %v, suppression %v vs %v", got.SampleLoss, one.SampleLoss, got.Suppression[0].Fit, one.Suppression[0].Fit)
	}
}

// TestMergeRefuses: shards of another model, other options, or the same
// shard twice are refused with a message naming the difference.
func TestMergeRefuses(t *testing.T) {
	model, sub := trained(t, "ce", 3, 40, 6, 1, 6)
	other, _ := trained(t, "ce", 3, 40, 6, 2, 6)
	cfg := smallConfig("ce", 10, 10)
	ctx := context.Background()
	acc := func(m any, c Config, shard int) *Accumulation {
		t.Helper()
		a, err := Accumulate(ctx, model, sub, c, AccumulateOptions{Shard: shard, Shards: 2})
		if m != nil {
			a, err = Accumulate(ctx, other, sub, c, AccumulateOptions{Shard: shard, Shards: 2})
		}
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	k11 := cfg
	k11.K = 11
	for name, c := range map[string]struct {
		b    *Accumulation
		want string
	}{
		"weights":   {acc(true, cfg, 1), "weights_sha256"},
		"options":   {acc(nil, k11, 1), "config"},
		"duplicate": {acc(nil, cfg, 0), "given twice"},
		"nil":       {nil, "no accumulation"},
		"zero":      {&Accumulation{}, "no accumulation"},
	} {
		a := acc(nil, cfg, 0)
		if err := a.Merge(c.b); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error naming %q", name, err, c.want)
		}
	}
	if _, err := Accumulate(ctx, model, sub, cfg, AccumulateOptions{Shard: 2, Shards: 2}); err == nil || !strings.Contains(err.Error(), "Shard counts from 0") {
		t.Errorf("Shard 2 of 2: %v, want an error saying Shard counts from 0", err)
	}
	// Messages count shards from 1, as the command line does: the one
	// shard of two accumulated here (Shard 1) is "shard 2 of 2".
	if _, err := Finalize(ctx, acc(nil, cfg, 1), nil); err == nil || !strings.Contains(err.Error(), "1 of 2 shards accumulated (have shard 2 of 2;") {
		t.Errorf("Finalize of one shard of two: %v", err)
	}
	// Finalize holds the memory budget of its own process.
	small, err := Accumulate(ctx, model, sub, cfg, AccumulateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	small.Info.Config.Memory = 1 << 20
	if _, err := Finalize(ctx, small, nil); err == nil || !strings.Contains(err.Error(), "more than the memory budget of 1.0 MiB") {
		t.Errorf("Finalize over the budget: %v", err)
	}
	// A finalised accumulation has handed its sums over: merging into it
	// or from it says so, not that the shards differ.
	whole, err := Accumulate(ctx, model, sub, cfg, AccumulateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Finalize(ctx, whole, nil); err != nil {
		t.Fatal(err)
	}
	for _, pair := range [][2]*Accumulation{{whole, acc(nil, cfg, 1)}, {acc(nil, cfg, 0), whole}} {
		if err := pair[0].Merge(pair[1]); err == nil || !strings.Contains(err.Error(), "already finalised") {
			t.Errorf("merge with a finalised accumulation: %v", err)
		}
	}
	if _, err := Accumulate(ctx, model, sub, cfg, AccumulateOptions{Shards: -3}); err == nil || !strings.Contains(err.Error(), "-3 shards") {
		t.Errorf("-3 shards: %v", err)
	}
	// Neither nil nor a zero Accumulation is mistaken for a finished one.
	for _, a := range []*Accumulation{nil, {}} {
		if _, err := Finalize(ctx, a, nil); err == nil || !strings.Contains(err.Error(), "no accumulation") {
			t.Errorf("Finalize(%v): %v", a, err)
		}
	}
}

// TestNilAccumulation: Save and Complete of a nil or zero Accumulation
// say there is none, as Merge and Finalize do; they used to panic (nil)
// or call an empty one finalised (Save) and complete (Complete).
func TestNilAccumulation(t *testing.T) {
	for _, a := range []*Accumulation{nil, {}} {
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Fatalf("%v: panicked: %v", a, r)
				}
			}()
			path := filepath.Join(t.TempDir(), "x.acc")
			if err := a.Save(path); err == nil || !strings.Contains(err.Error(), "no accumulation") {
				t.Errorf("Save of %v: %v, want an error saying there is no accumulation", a, err)
			}
			if _, err := os.Stat(path); !os.IsNotExist(err) {
				t.Errorf("Save of %v wrote %s", a, path)
			}
			if a.Complete() {
				t.Errorf("%v is complete", a)
			}
		}()
	}
}

// TestLoadAccumulationRejects: truncated, flipped or foreign files are
// refused with ErrStateFormat; a damaged one (all but the foreign) with
// its name and how to make it again.
func TestLoadAccumulationRejects(t *testing.T) {
	model, sub := trained(t, "ce", 3, 40, 6, 1, 7)
	a, err := Accumulate(context.Background(), model, sub, smallConfig("ce", 10, 10), AccumulateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	good := filepath.Join(dir, "a.awdacc")
	if err := a.Save(good); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(good)
	for name, b := range map[string][]byte{
		"truncated": data[:len(data)/2],
		"flipped":   append(append([]byte(nil), data[:100]...), append([]byte{data[100] ^ 1}, data[101:]...)...),
		"foreign":   []byte("AWDSTATE" + strings.Repeat("x", 100)),
		"empty":     nil,
	} {
		p := filepath.Join(dir, name)
		os.WriteFile(p, b, 0o644)
		_, err := LoadAccumulation(p)
		if !errors.Is(err, ErrStateFormat) {
			t.Errorf("%s: %v", name, err)
		}
		if name != "foreign" && (!strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), "run the awd analyze --shard i/n that wrote it once more")) {
			t.Errorf("%s: %v; want the file's name and how to make it again", name, err)
		}
	}
}

func FuzzAccumulation(f *testing.F) {
	model, sub := trained(f, "ce", 3, 30, 4, 1, 8)
	a, err := Accumulate(context.Background(), model, sub, smallConfig("ce", 5, 10), AccumulateOptions{})
	if err != nil {
		f.Fatal(err)
	}
	p := filepath.Join(f.TempDir(), "a")
	if err := a.Save(p); err != nil {
		f.Fatal(err)
	}
	seed, _ := os.ReadFile(p)
	f.Add(seed)
	f.Fuzz(func(t *testing.T, b []byte) {
		acc, err := decodeAccumulation(b)
		if err != nil {
			return
		}
		// What loads must finish or fail cleanly.
		Finalize(context.Background(), acc, nil)
	})
}

// TestMemoryRefusedBeforeWork: a problem larger than the budget is refused
// with the estimate and what fits, before any per-sample work.
func TestMemoryRefusedBeforeWork(t *testing.T) {
	model, sub := trained(t, "ce", 3, 40, 6, 1, 9)
	cfg := smallConfig("ce", 30, 10)
	cfg.Layer = "fc1" // 6 x 784: d = 4704
	cfg.Memory = 200 << 20
	_, err := Accumulate(context.Background(), model, sub, cfg, AccumulateOptions{})
	if err == nil || !strings.Contains(err.Error(), "needs about") || !strings.Contains(err.Error(), "largest layer that fits is fc3") {
		t.Fatalf("%v", err)
	}
}

// TestDataSHA256Layout: the data hash that run folders record (and compare
// on resume) is SHA-256 of the header, the inputs as little-endian float32
// and each label and original index as little-endian uint64, whatever the
// size of the writes that feed it: 70,000 inputs span several of its
// 64 KiB chunks and a partial one.
func TestDataSHA256Layout(t *testing.T) {
	d := &nn.Dataset{Name: "x", N: 7, C: 1, H: 100, W: 100, Y: []int{0, 1, 2, 0, 1, 2, 3}, Index: []int{9, 8, 7, 6, 5, 4, 3}}
	d.X = make([]float32, d.N*d.Dim())
	for i := range d.X {
		d.X[i] = float32(i%977) * 0.25
	}
	raw := []byte("x 7 1 100 100;")
	for _, v := range d.X {
		raw = binary.LittleEndian.AppendUint32(raw, math.Float32bits(v))
	}
	for i, y := range d.Y {
		raw = binary.LittleEndian.AppendUint64(raw, uint64(y))
		raw = binary.LittleEndian.AppendUint64(raw, uint64(d.Index[i]))
	}
	want := sha256.Sum256(raw)
	if got := nn.DataSHA256(d); got != hex.EncodeToString(want[:]) {
		t.Fatalf("dataSHA256 = %s, want %x", got, want)
	}
}

// TestInfoDiffNamesTheField checks that Merge's refusal names the first
// option in which two shards differ, with both values, for options at
// every depth of the config (not the config's JSON cut short).
func TestInfoDiffNamesTheField(t *testing.T) {
	base := AccumulationInfo{Dataset: "mnist", Model: "mlp", Config: DefaultConfig("ce")}
	base.Config.Layer, base.Config.Interventions = "fc2", []string{"mean", "rank1"}
	for _, tc := range []struct {
		change func(c *Config)
		want   string
	}{
		{func(c *Config) { c.Seed = 5 }, "config.seed: 1 vs 5"},
		{func(c *Config) { c.Pair2 = false }, "config.pair2: true vs false"},
		{func(c *Config) { c.Extras.MLReps = 7 }, "config.extras.ml_reps: 100 vs 7"},
		{func(c *Config) { c.Extras.Bootstrap = 20 }, "config.extras.bootstrap: 0 vs 20"},
		{func(c *Config) { c.Extras.PowerLawML = false }, "config.extras.powerlaw_ml: true vs false"},
		{func(c *Config) { c.RhoBlock = 0 }, "config.rho_block: 100 vs 0"},
		{func(c *Config) { c.Interventions = nil }, `config.interventions: ["mean","rank1"] vs null`},
		{func(c *Config) { c.Suppression.Tau = 0.25 }, "config.suppression.tau: "},
		{func(c *Config) { c.Centered = true }, "config.centered: false vs true"},
	} {
		b := base
		b.Config.Interventions = slices.Clone(base.Config.Interventions)
		tc.change(&b.Config)
		got := infoDiff(base, b)
		if !strings.HasPrefix(got, tc.want) || strings.Contains(got, "...") {
			t.Errorf("got %q, want %q", got, tc.want)
		}
	}
	if d := infoDiff(base, base); d != "" {
		t.Errorf("equal infos differ: %q", d)
	}
	other := base
	other.Epoch = 3
	if d := infoDiff(base, other); d != "epoch: (none) vs 3" {
		t.Errorf("epoch: got %q", d)
	}
}

// TestMergeFinishOnlySettings: shards that differ only in settings Finalize
// alone reads (the fits, ml_reps, gamma(k), the bootstrap's replicates and
// level, its groups when it does not run) merge, and the merged analysis
// keeps the first shard's; settings that change the sums are refused.
func TestMergeFinishOnlySettings(t *testing.T) {
	model, sub := trained(t, "ce", 3, 40, 6, 1, 6)
	ctx := context.Background()
	acc := func(c Config, shard int) *Accumulation {
		t.Helper()
		a, err := Accumulate(ctx, model, sub, c, AccumulateOptions{Shard: shard, Shards: 2})
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	cfg := smallConfig("ce", 10, 10)
	finish := cfg
	finish.Extras = Extras{GammaK: false, BootstrapShards: 5, BootstrapLevel: 0.5, PowerLawML: true, MLReps: 3}
	a := acc(cfg, 0)
	if err := a.Merge(acc(finish, 1)); err != nil {
		t.Fatalf("shards differing in finish-only settings: %v", err)
	}
	if a.Info.Config.Extras != cfg.Extras {
		t.Errorf("merged extras %+v, want the first shard's %+v", a.Info.Config.Extras, cfg.Extras)
	}
	if d := ConfigDiff(cfg, finish); !strings.HasPrefix(d, "extras.") {
		t.Errorf("ConfigDiff: %q", d)
	}
	if _, err := Finalize(ctx, a, nil); err != nil {
		t.Fatal(err)
	}

	boot := func(replicates, groups int) Config {
		c := cfg
		c.Extras.Bootstrap, c.Extras.BootstrapShards = replicates, groups
		return c
	}
	a = acc(boot(4, 3), 0)
	if err := a.Merge(acc(boot(9, 3), 1)); err != nil {
		t.Errorf("bootstrap 4 and 9 replicates of the same groups: %v", err)
	} else if a.Info.Config.Extras.Bootstrap != 4 || a.Boot == nil {
		t.Errorf("merged: %d replicates, groups %v", a.Info.Config.Extras.Bootstrap, a.Boot != nil)
	}
	for name, c := range map[string]struct {
		a, b Config
		want string
	}{
		"groups":    {boot(4, 3), boot(4, 5), "config.extras.bootstrap_shards: 3 vs 5"},
		"bootstrap": {cfg, boot(4, 3), "config.extras.bootstrap: 0 vs 4"},
		"k":         {cfg, func() Config { c := finish; c.K = 11; return c }(), "config.k: 10 vs 11"},
	} {
		if err := acc(c.a, 0).Merge(acc(c.b, 1)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error naming %q", name, err, c.want)
		}
	}
}

// TestMergeBuilds: shards of different builds of awd are refused with a
// message naming both; files written before the build was recorded
// (version 3) load and merge with each other, not with a recorded build.
func TestMergeBuilds(t *testing.T) {
	model, sub := trained(t, "ce", 3, 40, 6, 1, 6)
	cfg := smallConfig("ce", 10, 10)
	dir := t.TempDir()
	// load saves shard i, rewritten as a version 3 file without its build
	// when old.
	load := func(i int, old bool) *Accumulation {
		t.Helper()
		a, err := Accumulate(context.Background(), model, sub, cfg, AccumulateOptions{Shard: i, Shards: 2})
		if err != nil {
			t.Fatal(err)
		}
		if a.Info.Build != BuildID() || a.Info.Build == "" {
			t.Fatalf("build %q, want %q", a.Info.Build, BuildID())
		}
		p := filepath.Join(dir, "s")
		if err := a.Save(p); err != nil {
			t.Fatal(err)
		}
		if old {
			data, _ := os.ReadFile(p)
			os.WriteFile(p, rewriteHeader(t, data, 3, func(js string) string {
				return strings.Replace(js, `,"build":"`+BuildID()+`"`, "", 1)
			}), 0o644)
		}
		b, err := LoadAccumulation(p)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	a := load(0, true)
	if err := a.Merge(load(1, true)); err != nil || a.Info.Build != "" {
		t.Errorf("two shards without a build: %v (build %q)", err, a.Info.Build)
	}
	if err := load(0, false).Merge(load(1, false)); err != nil {
		t.Errorf("two shards of this build: %v", err)
	}
	other := load(1, false)
	other.Info.Build = "awd 0.9 0123abcd"
	err := load(0, false).Merge(other)
	if err == nil || !strings.Contains(err.Error(), "different builds of awd ("+BuildID()+" vs awd 0.9 0123abcd)") {
		t.Errorf("other build: %v", err)
	}
	if err := load(0, true).Merge(load(1, false)); err == nil || !strings.Contains(err.Error(), "not recorded") {
		t.Errorf("a shard without a build and one with: %v", err)
	}
}

// TestInfoMatches: a saved shard matches the accumulation it was made by,
// and not one of other weights, options (one only Finalize reads
// included), shard or build.
func TestInfoMatches(t *testing.T) {
	model, sub := trained(t, "ce", 3, 40, 6, 1, 6)
	other, _ := trained(t, "ce", 3, 40, 6, 2, 6)
	cfg := smallConfig("ce", 10, 10)
	opt := AccumulateOptions{Shard: 1, Shards: 2}
	a, err := Accumulate(context.Background(), model, sub, cfg, opt)
	if err != nil {
		t.Fatal(err)
	}
	a.Info.Epoch = 3
	p := filepath.Join(t.TempDir(), "s")
	if err := a.Save(p); err != nil {
		t.Fatal(err)
	}
	saved, err := LoadAccumulation(p)
	if err != nil {
		t.Fatal(err)
	}
	info := saved.Info
	if err := info.Matches(model, sub, cfg, opt); err != nil {
		t.Fatalf("the same accumulation: %v", err)
	}
	reps := cfg
	reps.Extras.MLReps = 3
	built := info
	built.Build = "awd 0.9"
	for name, c := range map[string]struct {
		info  AccumulationInfo
		model *nn.Model
		cfg   Config
		opt   AccumulateOptions
		want  string
	}{
		"weights": {info, other, cfg, opt, "weights_sha256"},
		"ml_reps": {info, model, reps, opt, "config.extras.ml_reps: 100 vs 3"},
		"shard":   {info, model, cfg, AccumulateOptions{Shard: 0, Shards: 2}, "have: [1] vs [0]"},
		"shards":  {info, model, cfg, AccumulateOptions{Shard: 1, Shards: 3}, "shards: 2 vs 3"},
		"build":   {built, model, cfg, opt, `build: "awd 0.9" vs`},
	} {
		if err := c.info.Matches(c.model, sub, c.cfg, c.opt); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error naming %q", name, err, c.want)
		}
	}
}

// TestBuildIDWithoutVCS: a binary that records no VCS revision (go test's
// do not) is named by the hash of its executable, the same in every call,
// so that binaries of other code are told apart; one that records it is
// named by the revision.
func TestBuildIDWithoutVCS(t *testing.T) {
	want := Tool + " " + VCSRevision()
	if VCSRevision() == "" {
		exe, err := os.Executable()
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(exe)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(b)
		want = Tool + " exe:" + hex.EncodeToString(sum[:])[:16]
	}
	if got := BuildID(); got != want || BuildID() != got {
		t.Errorf("BuildID %q, then %q; want %q", got, BuildID(), want)
	}
}

// TestFinalizeAfterCancel: a Finalize cancelled during the eigensolve has
// not consumed the accumulation, and finalising it again gives the Result
// of an uninterrupted Finalize; one cancelled during the statistics has,
// and a second Finalize is refused instead of reading consumed sums.
func TestFinalizeAfterCancel(t *testing.T) {
	model, sub := trained(t, "ce", 3, 40, 6, 1, 5)
	cfg := smallConfig("ce", 10, 10)
	accumulate := func() *Accumulation {
		acc, err := Accumulate(context.Background(), model, sub, cfg, AccumulateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return acc
	}
	want, err := Finalize(context.Background(), accumulate(), nil)
	if err != nil {
		t.Fatal(err)
	}
	acc := accumulate()
	ctx, cancel := context.WithCancel(context.Background())
	if _, err := Finalize(ctx, acc, &cancelAt{stage: "eigensolve", cancel: cancel}); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled in the eigensolve: %v, want context.Canceled", err)
	}
	got, err := Finalize(context.Background(), acc, nil)
	if err != nil {
		t.Fatalf("finalising again after a cancelled eigensolve: %v", err)
	}
	if !slices.Equal(got.Arrays.Lambda, want.Arrays.Lambda) || !slices.Equal(got.Arrays.C[NameC], want.Arrays.C[NameC]) ||
		!slices.Equal(got.Arrays.C[NameM2], want.Arrays.C[NameM2]) || got.Fits[NameC] != want.Fits[NameC] {
		t.Errorf("the second Finalize differs from an uninterrupted one: gamma %v vs %v", got.Fits[NameC].Gamma, want.Fits[NameC].Gamma)
	}

	acc = accumulate()
	ctx, cancel = context.WithCancel(context.Background())
	if _, err := Finalize(ctx, acc, &cancelAt{stage: "statistics", cancel: cancel}); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled in the statistics: %v, want context.Canceled", err)
	}
	if _, err := Finalize(context.Background(), acc, nil); err == nil || !strings.Contains(err.Error(), "already finalised") {
		t.Errorf("finalising a consumed accumulation: %v, want a refusal", err)
	}
}

// TestLoadAccumulationPathRefused: a missing accumulation file, or a
// folder, says so and which file to give; a shard's folder names its
// shard file.
func TestLoadAccumulationPathRefused(t *testing.T) {
	dir := t.TempDir()
	shard := filepath.Join(dir, "s1")
	if err := os.Mkdir(shard, 0o755); err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(shard, "shard_1_of_2.acc")
	if err := os.WriteFile(f, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{
		filepath.Join(dir, "none.acc"): filepath.Join(dir, "none.acc") + ": no such file: give a file Accumulation.Save wrote (awd analyze --shard i/n writes OUT/shard_i_of_n.acc)",
		dir:                            dir + " is a folder, not an accumulation file",
		shard:                          shard + " is a folder: give its shard file, " + f,
	} {
		if _, err := LoadAccumulation(path); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", path, err, want)
		}
	}
	// The message is new; the error behind it is still os's (the sweep's
	// shard steps tell a missing shard from a damaged one by it).
	if _, err := LoadAccumulation(filepath.Join(dir, "none.acc")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v does not wrap os.ErrNotExist", err)
	}
}
