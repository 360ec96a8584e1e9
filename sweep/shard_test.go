package sweep

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/awd-toolkit/awd/awd"
	"github.com/awd-toolkit/awd/nn"
)

// libraryExec runs a job with awd.Run, as the CLI does.
func libraryExec(ctx context.Context, j *Job, dir string, fresh bool, log io.Writer) error {
	_, err := awd.Run(ctx, j.Spec, dir, awd.RunOptions{Command: "sweep", Fresh: fresh, Log: func(f string, a ...any) { fmt.Fprintf(log, f+"\n", a...) }})
	return err
}

// tinyReal is one real job: a 784-8-8-10 MLP on 3 x 60 MNIST samples,
// 2 epochs, analysed after both.
const tinyReal = `
name: real
out: out
seeds: [5]
base: {data: mnist, widths: [8, 8], classes: 3, per_class: 60, batch: 10, epochs: 2, k: 20, analyze_at: [1, 2]}
cells:
  - loss: ce
`

// TestShardedJob runs one job unsharded and sharded in three (whole, and
// step by step as Slurm would: train, the shards, the reduction) and
// checks that the analyses agree to 1e-12 relative.
func TestShardedJob(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0)) // RunStep sets it to the job's threads
	ctx := context.Background()
	plain := prepare(t, tinyReal)
	if err := RunJob(ctx, plain, plain.Jobs[0].ID, libraryExec); err != nil {
		t.Fatal(err)
	}
	steps := prepare(t, tinyReal+"    shards: 3\n")
	sweeps := []*Sweep{steps}
	j := steps.Jobs[0]
	if j.ID != plain.Jobs[0].ID || j.Shards != 3 {
		t.Fatalf("sharded job %s (%d shards), plain %s", j.ID, j.Shards, plain.Jobs[0].ID)
	}
	if !testing.Short() {
		whole := prepare(t, tinyReal+"    shards: 3\n")
		if err := RunJob(ctx, whole, j.ID, libraryExec); err != nil {
			t.Fatal(err)
		}
		sweeps = append(sweeps, whole)
	}
	if err := RunStep(ctx, steps, j.ID, "shard 1/3", libraryExec); err == nil || !strings.Contains(err.Error(), "the training's report") {
		t.Errorf("a shard before the training: %v", err)
	}
	if err := RunStep(ctx, steps, j.ID, StepTrain, libraryExec); err != nil {
		t.Fatal(err)
	}
	if st := steps.Status(j); st.State != StateAnalysing {
		t.Errorf("after training: %s", st.State)
	}
	for _, step := range []string{"shard 3/3", "shard 1/3", "shard 2/3"} {
		if err := RunStep(ctx, steps, j.ID, step, libraryExec); err != nil {
			t.Fatal(err)
		}
	}
	if errs := ReduceReady(ctx, steps); len(errs) > 0 {
		t.Fatal(errs)
	}
	for _, s := range sweeps {
		if st := s.Status(j); st.State != StateDone {
			t.Fatalf("%s: %s %s", s.Dir, st.State, st.Detail)
		}
	}
	read := func(s *Sweep) *awd.Report {
		rep, err := awd.ReadReport(s.ResultsPath(s.Jobs[0]))
		if err != nil {
			t.Fatal(err)
		}
		return rep
	}
	want := read(plain)
	for _, s := range sweeps {
		got := read(s)
		if len(got.Checkpoints) != 2 || len(got.Training) != 2 {
			t.Fatalf("%d analyses, %d epochs logged", len(got.Checkpoints), len(got.Training))
		}
		for i, ck := range want.Checkpoints {
			g := got.Checkpoints[i]
			if g.Epoch != ck.Epoch || g.TrainLoss != ck.TrainLoss {
				t.Errorf("epoch %d vs %d, train loss %v vs %v", g.Epoch, ck.Epoch, g.TrainLoss, ck.TrainLoss)
			}
			for name, f := range ck.Analysis.Fits {
				h := g.Analysis.Fits[name].Gamma
				if math.Abs(h-f.Gamma) > 1e-12*math.Abs(f.Gamma) {
					t.Errorf("epoch %d gamma(%s): sharded %.17g, one pass %.17g", ck.Epoch, name, h, f.Gamma)
				}
			}
		}
	}
	if err := RunStep(ctx, steps, j.ID, "shard 4/3", libraryExec); err == nil {
		t.Error("shard 4/3 accepted")
	}
	if err := RunStep(ctx, plain, j.ID, StepTrain, libraryExec); err == nil {
		t.Error("a train step of an unsharded job accepted")
	}
}

// TestDamagedResultsRunAgain: a job recorded done whose results.json was
// damaged since is run again from scratch by the next start (awd.Run
// refuses to resume a folder with a damaged report), and a start that
// fails on the way leaves the next one starting from scratch too. The
// sharded job's results (its reduction's) are redone the same way.
func TestDamagedResultsRunAgain(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	ctx := context.Background()
	cases := []string{tinyReal}
	if !testing.Short() {
		cases = append(cases, tinyReal+"    shards: 2\n")
	}
	for _, src := range cases {
		s := prepare(t, src)
		j := s.Jobs[0]
		if err := RunJob(ctx, s, j.ID, libraryExec); err != nil {
			t.Fatal(err)
		}
		want, err := awd.ReadReport(s.ResultsPath(j))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := os.ReadFile(s.ResultsPath(j))
		os.WriteFile(s.ResultsPath(j), b[:len(b)/2], 0o644)
		if st := s.Status(j); st.State != StateInterrupted || !strings.Contains(st.Detail, "from scratch") {
			t.Fatalf("damaged results: %s %q", st.State, st.Detail)
		}
		// A start that fails before it gets anywhere.
		var freshes []bool
		failing := func(ctx context.Context, j *Job, dir string, fresh bool, log io.Writer) error {
			freshes = append(freshes, fresh)
			return errors.New("out of memory")
		}
		if err := RunJob(ctx, s, j.ID, failing); err == nil {
			t.Fatal("the failing start succeeded")
		}
		recording := func(ctx context.Context, j *Job, dir string, fresh bool, log io.Writer) error {
			freshes = append(freshes, fresh)
			return libraryExec(ctx, j, dir, fresh, log)
		}
		if err := RunJob(ctx, s, j.ID, recording); err != nil {
			t.Fatalf("shards %d: the retry: %v", j.Shards, err)
		}
		if len(freshes) != 2 || !freshes[0] || !freshes[1] {
			t.Errorf("shards %d: fresh starts %v, want [true true]", j.Shards, freshes)
		}
		if st := s.Status(j); st.State != StateDone {
			t.Fatalf("shards %d: after the retry: %s %q", j.Shards, st.State, st.Detail)
		}
		got, err := awd.ReadReport(s.ResultsPath(j))
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Checkpoints) != len(want.Checkpoints) || len(got.Training) != len(want.Training) {
			t.Fatalf("shards %d: the retry's report has %d analyses and %d epochs, the first %d and %d", j.Shards,
				len(got.Checkpoints), len(got.Training), len(want.Checkpoints), len(want.Training))
		}
		for i, c := range got.Checkpoints {
			if g, w := c.Analysis.Fits[awd.NameC].Gamma, want.Checkpoints[i].Analysis.Fits[awd.NameC].Gamma; g != w {
				t.Errorf("shards %d: epoch %d: gamma %v after the retry, %v before", j.Shards, c.Epoch, g, w)
			}
		}
		if rec, _ := s.readState(j.ID); rec.Restart || rec.Attempt != 3 {
			t.Errorf("shards %d: state after the retry: restart %v, attempt %d", j.Shards, rec.Restart, rec.Attempt)
		}
		// A done job is left alone again.
		if err := RunJob(ctx, s, j.ID, failing); err != nil {
			t.Errorf("a done job was started again: %v", err)
		}
	}
}

// TestStaleShardRecomputed: a saved shard that is not what its step would
// accumulate (here the shard of another checkpoint, as after the job's run
// was trained again, and a damaged one) is accumulated again, the log
// saying why; a shard that matches is kept as it is, and the reduction then
// succeeds.
func TestStaleShardRecomputed(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	ctx := context.Background()
	s := prepare(t, tinyReal+"    shards: 2\n")
	j := s.Jobs[0]
	steps := []string{StepTrain, "shard 1/2", "shard 2/2"}
	for _, step := range steps {
		if err := RunStep(ctx, s, j.ID, step, libraryExec); err != nil {
			t.Fatal(err)
		}
	}
	stale, damaged, kept := s.shardPath(j.ID, 1, 1, 2), s.shardPath(j.ID, 2, 2, 2), s.shardPath(j.ID, 1, 2, 2)
	other, _ := os.ReadFile(s.shardPath(j.ID, 2, 1, 2))
	os.WriteFile(stale, other, 0o644)
	b, _ := os.ReadFile(damaged)
	os.WriteFile(damaged, b[:len(b)-1], 0o644)
	before, _ := os.Stat(kept)
	for _, step := range steps[1:] {
		if err := RunStep(ctx, s, j.ID, step, libraryExec); err != nil {
			t.Fatal(err)
		}
	}
	log, _ := os.ReadFile(filepath.Join(s.JobDir(j.ID), logFile))
	for _, want := range []string{"epoch 1: shard 1 of 2 in " + stale + " not kept, accumulated again: not this analysis (",
		"epoch 2: shard 2 of 2 in " + damaged + " not kept, accumulated again: "} {
		if !strings.Contains(string(log), want) {
			t.Errorf("the log does not say %q:\n%s", want, log)
		}
	}
	if n := strings.Count(string(log), "not kept"); n != 2 {
		t.Errorf("%d shards not kept, want 2:\n%s", n, log)
	}
	if after, _ := os.Stat(kept); !after.ModTime().Equal(before.ModTime()) {
		t.Errorf("the matching shard %s was accumulated again", kept)
	}
	if acc, err := awd.LoadAccumulation(stale); err != nil || acc.Info.Epoch != 1 {
		t.Fatalf("the recomputed shard of epoch 1: %v (or of another epoch)", err)
	}
	if errs := ReduceReady(ctx, s); len(errs) > 0 {
		t.Fatal(errs)
	}
	if st := s.Status(j); st.State != StateDone {
		t.Fatalf("after the reduction: %s %s", st.State, st.Detail)
	}
}

// trainedSharded prepares a sweep of one real job in two shards and runs
// its training step (the shard steps are the tests').
func trainedSharded(t *testing.T) (*Sweep, *Job) {
	t.Helper()
	s := prepare(t, tinyReal+"    shards: 2\n")
	j := s.Jobs[0]
	if err := RunStep(context.Background(), s, j.ID, StepTrain, libraryExec); err != nil {
		t.Fatal(err)
	}
	return s, j
}

// runShards runs both shard steps of the 2-shard job j, as the Slurm
// array tasks do, failing the test on an error.
func runShards(t *testing.T, ctx context.Context, s *Sweep, j *Job) {
	t.Helper()
	for _, step := range []string{"shard 1/2", "shard 2/2"} {
		if err := RunStep(ctx, s, j.ID, step, libraryExec); err != nil {
			t.Fatal(err)
		}
	}
}

// TestFailedShardRecorded: a failed shard step (as a Slurm task runs it)
// is recorded: the job shows failed with the shard's error, is listed by
// status --failed, is not reduced (ReduceReady says why), and a retry of
// the shard that succeeds clears it. A shard step stopped by a signal is
// recorded too, as interrupted.
func TestFailedShardRecorded(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	ctx := context.Background()
	s, j := trainedSharded(t)
	ck := filepath.Join(s.RunDir(j.ID), "checkpoints", "epoch_0002.npz")
	good, err := os.ReadFile(ck)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(ck, good[:len(good)/2], 0o644)
	err = RunStep(ctx, s, j.ID, "shard 2/2", libraryExec)
	if err == nil {
		t.Fatal("the shard of a damaged checkpoint succeeded")
	}
	st := s.Status(j)
	if st.State != StateFailed || !strings.Contains(st.Detail, "shard 2/2 failed on ") {
		t.Errorf("after a failed shard: %s %q", st.State, st.Detail)
	}
	var b strings.Builder
	if err := WriteStatus(&b, s, true); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "failed  "+j.ID) || !strings.Contains(b.String(), "shard 2/2 failed") {
		t.Errorf("status --failed:\n%s", b.String())
	}
	errs := ReduceReady(ctx, s)
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "job "+j.ID+": not reduced: shard 2/2 failed") {
		t.Errorf("ReduceReady: %v", errs)
	}
	// The submission runs its shards again, not its training.
	sub, err := WriteSlurm(s, []*Job{j}, SlurmOptions{Awd: "/usr/bin/awd"})
	if err != nil {
		t.Fatal(err)
	}
	if len(sub.Arrays) != 1 || strings.Join(sub.Arrays[0].Jobs, ",") != j.ID+" shard 1/2,"+j.ID+" shard 2/2" {
		t.Errorf("resubmission: %+v", sub.Arrays)
	}
	os.WriteFile(ck, good, 0o644)
	if err := RunStep(ctx, s, j.ID, "shard 2/2", libraryExec); err != nil {
		t.Fatal(err)
	}
	// A shard step stopped by a signal: the job shows interrupted, and
	// is not reduced without a word.
	stopped, cancel := context.WithCancel(ctx)
	cancel()
	if err := RunStep(stopped, s, j.ID, "shard 1/2", libraryExec); err == nil {
		t.Fatal("a stopped shard step returned no error")
	}
	if st := s.Status(j); st.State != StateInterrupted || !strings.Contains(st.Detail, "shard 1/2 stopped by a signal on ") {
		t.Errorf("after a stopped shard: %s %q", st.State, st.Detail)
	}
	if errs := ReduceReady(ctx, s); len(errs) != 1 || !strings.Contains(errs[0].Error(), "job "+j.ID+": not reduced: shard 1/2 stopped by a signal") {
		t.Errorf("ReduceReady after a stopped shard: %v", errs)
	}
	if err := RunStep(ctx, s, j.ID, "shard 1/2", libraryExec); err != nil {
		t.Fatal(err)
	}
	if st := s.Status(j); st.State != StateAnalysing {
		t.Errorf("after the retried shard: %s %q", st.State, st.Detail)
	}
	if errs := ReduceReady(ctx, s); len(errs) > 0 {
		t.Fatal(errs)
	}
	if st := s.Status(j); st.State != StateDone {
		t.Errorf("after the reduction: %s %q", st.State, st.Detail)
	}
}

// otherRunData makes job j's run folder the run of other data: its
// owner's data fingerprint is replaced. It returns what restores it.
func otherRunData(t *testing.T, s *Sweep, j *Job) (restore func()) {
	t.Helper()
	path := filepath.Join(s.RunDir(j.ID), awd.OwnerFile)
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var owner awd.Owner
	if err := json.Unmarshal(good, &owner); err != nil || owner.Data == "" {
		t.Fatalf("owner %s: %v, data %q", path, err, owner.Data)
	}
	os.WriteFile(path, []byte(strings.Replace(string(good), owner.Data, strings.Repeat("0", len(owner.Data)), 1)), 0o644)
	return func() { os.WriteFile(path, good, 0o644) }
}

// TestShardOfOtherData: a shard step refuses data that are not those the
// job's run was trained on (the run folder's owner records another
// fingerprint), naming the data folder and `awd sweep reset`, so that the
// job cannot be reduced into results of data it never saw.
func TestShardOfOtherData(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	ctx := context.Background()
	s, j := trainedSharded(t)
	restore := otherRunData(t, s, j)
	err := RunStep(ctx, s, j.ID, "shard 1/2", libraryExec)
	for _, want := range []string{"trained on other data than the ", "awd sweep reset " + s.Dir + " " + j.ID} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("shard of other data: %v, want %q", err, want)
		}
	}
	if _, err := os.Stat(s.shardPath(j.ID, 1, 1, 2)); err == nil {
		t.Error("the shard of other data was saved")
	}
	if st := s.Status(j); st.State != StateFailed || !strings.Contains(st.Detail, "trained on other data") {
		t.Errorf("status: %s %q", st.State, st.Detail)
	}
	restore()
	runShards(t, ctx, s, j)
}

// TestRunOfOtherData: a job whose run folder holds a run of other data
// than its data folder (awd.Run refuses to resume it) fails with the
// sweep's remedies, the config's data_dir or `awd sweep reset`, not the
// library's (RunOptions.Fresh, another output folder) nor awd run's flags.
func TestRunOfOtherData(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	ctx := context.Background()
	s := prepare(t, tinyReal)
	j := s.Jobs[0]
	if err := RunJob(ctx, s, j.ID, libraryExec); err != nil {
		t.Fatal(err)
	}
	otherRunData(t, s, j)
	// Interrupted before its end: the next start resumes the folder.
	rec, _ := s.readState(j.ID)
	rec.State = StateInterrupted
	s.writeState(j.ID, rec)
	err := RunJob(ctx, s, j.ID, libraryExec)
	for _, want := range []string{"of other data than these", "set the config's data_dir to the folder of the run's data, or run `awd sweep reset " + s.Dir + " " + j.ID + "`"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("resume of other data: %v, want %q", err, want)
		}
	}
	if err != nil && (strings.Contains(err.Error(), "--out") || strings.Contains(err.Error(), "--fresh") || strings.Contains(err.Error(), "Fresh") || strings.Contains(err.Error(), "output folder")) {
		t.Errorf("the error names awd run's flags or the library's remedies: %v", err)
	}
	if st := s.Status(j); st.State != StateFailed || !strings.Contains(st.Detail, "data_dir") {
		t.Errorf("status: %s %q", st.State, st.Detail)
	}
}

// TestRunOfAnotherCommand: a job whose run folder holds the output of
// another command (awd train into it by hand, with work of its own) fails
// with the sweep's remedy, `awd sweep reset`, not the library's (another
// output folder, RunOptions.Fresh) nor awd run's flags.
func TestRunOfAnotherCommand(t *testing.T) {
	s := prepare(t, tinyReal)
	j := s.Jobs[0]
	f, err := awd.OpenFolder(s.RunDir(j.ID), "train", j.Spec, false)
	if err != nil {
		t.Fatal(err)
	}
	// Work of that train's (a folder with none binds nobody).
	if err := os.WriteFile(f.Path("metrics.jsonl"), []byte("{\"epoch\":1}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	f.Close()
	err = RunJob(context.Background(), s, j.ID, libraryExec)
	want := "holds the output of `awd train`; run `awd sweep reset " + s.Dir + " " + j.ID + "` to start the job over"
	if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "--") || strings.Contains(err.Error(), "Fresh") {
		t.Errorf("run into another command's folder: %v, want %q", err, want)
	}
}

// otherWeights replaces the weights of job j's analysed checkpoints with
// others (every weight of fc1 scaled), as a training that is not the one
// the job's next start makes again.
func otherWeights(t *testing.T, s *Sweep, j *Job) {
	t.Helper()
	_, files, err := s.analysedEpochs(j)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		m, meta, err := nn.LoadCheckpoint(f)
		if err != nil {
			t.Fatal(err)
		}
		p, _ := m.Param("fc1.weight")
		for i := range p.Data {
			p.Data[i] *= 1.5
		}
		if err := nn.SaveCheckpoint(f, m, *meta); err != nil {
			t.Fatal(err)
		}
	}
}

// TestShardAfterReset: a shard step of a job that was reset refuses to run
// until the job's training ran again, naming the reset, so that the
// checkpoints the reset condemned are never analysed; and a shard of those
// checkpoints saved after the training ran again (by a shard step that was
// past its check when the reset came) is never reduced into the job's
// results: the reduction fails naming it, and the shard step run again
// replaces it.
func TestShardAfterReset(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	ctx := context.Background()
	s, j := trainedSharded(t)
	otherWeights(t, s, j)
	runShards(t, ctx, s, j)
	old := map[string][]byte{}
	for _, e := range []int{1, 2} {
		for i := 1; i <= 2; i++ {
			path := s.shardPath(j.ID, e, i, 2)
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			old[path] = b
		}
	}
	if err := s.Reset(j.ID); err != nil {
		t.Fatal(err)
	}
	for _, run := range []func(step string) error{
		func(step string) error { return RunStep(ctx, s, j.ID, step, libraryExec) },
		func(step string) error { return RunTask(ctx, s, j.ID+" "+step, libraryExec, io.Discard) }, // the Slurm shard task
	} {
		err := run("shard 1/2")
		for _, want := range []string{"job " + j.ID + " was reset", "its training must run first"} {
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("a shard step after the reset: %v, want %q", err, want)
			}
		}
	}
	for path := range old {
		if _, err := os.Stat(path); err == nil {
			t.Errorf("%s of the checkpoints before the reset is still there", path)
		}
	}
	if err := RunStep(ctx, s, j.ID, StepTrain, libraryExec); err != nil {
		t.Fatal(err)
	}
	// The shards of the old checkpoints, saved now by a step that had
	// started before.
	for path, b := range old {
		os.WriteFile(path, b, 0o644)
	}
	errs := ReduceReady(ctx, s)
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "job "+j.ID+": ") || !strings.Contains(errs[0].Error(), "not an analysis of the checkpoint") {
		t.Errorf("reduction of the shards of the checkpoints before the reset: %v", errs)
	}
	if _, err := os.Stat(s.ResultsPath(j)); err == nil {
		t.Fatalf("%s written from the shards of the checkpoints before the reset", s.ResultsPath(j))
	}
	runShards(t, ctx, s, j)
	if errs := ReduceReady(ctx, s); len(errs) > 0 {
		t.Fatal(errs)
	}
	if st := s.Status(j); st.State != StateDone {
		t.Errorf("after the shards ran again: %s %q", st.State, st.Detail)
	}
}

// TestResetClearsEveryLayout: a job once sharded whose config is now
// unsharded keeps no result of its sharded layout (shards, failures, the
// reduction's results.json and arrays) once reset, nor after a start over
// because its results changed; nor a sharded job one of another shard
// count.
func TestResetClearsEveryLayout(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	ctx := context.Background()
	s := prepare(t, tinyReal+"    shards: 2\n")
	j := s.Jobs[0]
	if err := RunJob(ctx, s, j.ID, libraryExec); err != nil {
		t.Fatal(err)
	}
	jd := s.JobDir(j.ID)
	os.WriteFile(s.shardFailurePath(j.ID, 1, 3), []byte("{}"), 0o644) // of an earlier count
	sharded := func() []string {
		var left []string
		for _, pat := range []string{ResultsFile, "arrays_epoch*.npz", filepath.Join(shardsDir, "*")} {
			m, _ := filepath.Glob(filepath.Join(jd, pat))
			left = append(left, m...)
		}
		return left
	}
	if len(sharded()) < 6 {
		t.Fatalf("the sharded job left %v", sharded())
	}
	config := filepath.Join(filepath.Dir(s.Dir), "s.yaml")
	for _, change := range []struct{ name, src string }{{"unsharded", tinyReal}, {"3 shards", tinyReal + "    shards: 3\n"}} {
		s2, err := prepareAt(config, change.src)
		if err != nil {
			t.Fatal(err)
		}
		if err := s2.Reset(j.ID); err != nil {
			t.Fatal(err)
		}
		for _, f := range append(sharded(), filepath.Join(s2.RunDir(j.ID), ResultsFile)) {
			if _, err := os.Stat(f); err == nil {
				t.Errorf("%s: %s left by the reset", change.name, f)
			}
		}
		if err := RunJob(ctx, s2, j.ID, libraryExec); err != nil {
			t.Fatal(err)
		}
		if f := s2.Finished(); len(f.Jobs) != 1 {
			t.Fatalf("%s: %v", change.name, f.Notes)
		}
	}
	// Done with 3 shards; unsharded, and its results changed: the start
	// over clears the sharded layout too.
	s3, err := prepareAt(config, tinyReal)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(jd, ResultsFile), []byte("{}"), 0o644)
	if err := RunJob(ctx, s3, j.ID, libraryExec); err != nil {
		t.Fatal(err)
	}
	if left := sharded(); len(left) > 0 {
		t.Errorf("the start over left %v", left)
	}
	if st := s3.Status(j); st.State != StateDone || st.Record.Results != runDir+"/"+ResultsFile {
		t.Errorf("after the start over: %s %q, results %s", st.State, st.Detail, st.Record.Results)
	}
}

// TestFailedReduceStaysFailed: a reduction that failed (here of a damaged
// shard) is named by every later ReduceReady, not only the first, until
// the job is mended (the shard run again); the status shows the job
// failed with the reduction's error.
func TestFailedReduceStaysFailed(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	ctx := context.Background()
	s, j := trainedSharded(t)
	runShards(t, ctx, s, j)
	path := s.shardPath(j.ID, 2, 2, 2)
	b, _ := os.ReadFile(path)
	os.WriteFile(path, b[:len(b)/2], 0o644)
	for n := 1; n <= 2; n++ {
		errs := ReduceReady(ctx, s)
		if len(errs) != 1 || !strings.Contains(errs[0].Error(), "job "+j.ID+": ") || !strings.Contains(errs[0].Error(), path) {
			t.Errorf("collect %d after the failed reduction: %v", n, errs)
		}
		if st := s.Status(j); st.State != StateFailed || !strings.Contains(st.Detail, "reduction failed") {
			t.Errorf("collect %d: status %s %q", n, st.State, st.Detail)
		}
	}
	// Submitting again runs the shards, not the training.
	sub, err := WriteSlurm(s, []*Job{j}, SlurmOptions{Awd: "/usr/bin/awd"})
	if err != nil {
		t.Fatal(err)
	}
	if len(sub.Arrays) != 1 || strings.Join(sub.Arrays[0].Jobs, ",") != j.ID+" shard 1/2,"+j.ID+" shard 2/2" {
		t.Errorf("resubmission: %+v", sub.Arrays)
	}
	if err := RunStep(ctx, s, j.ID, "shard 2/2", libraryExec); err != nil {
		t.Fatal(err)
	}
	if errs := ReduceReady(ctx, s); len(errs) > 0 {
		t.Fatal(errs)
	}
	if st := s.Status(j); st.State != StateDone {
		t.Errorf("after the shard ran again: %s %q", st.State, st.Detail)
	}
}

// TestFailedReduceAfterStartOver: a job that starts over from scratch (it
// was reset) and whose reduction fails after its training and shards
// succeeded keeps them: it stays analysing, its shard steps are not
// refused as those of a condemned training, and the next collect reduces
// it without training it again.
func TestFailedReduceAfterStartOver(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	ctx := context.Background()
	s, j := trainedSharded(t)
	if err := s.Reset(j.ID); err != nil {
		t.Fatal(err)
	}
	// The reduction cannot write the job's results.json: a folder is
	// there (made after the start over cleared the job's results).
	blocker := filepath.Join(s.ResultsPath(j), "x")
	trains := 0
	blocking := func(ctx context.Context, j *Job, dir string, fresh bool, log io.Writer) error {
		trains++
		if err := os.MkdirAll(blocker, 0o755); err != nil {
			return err
		}
		return libraryExec(ctx, j, dir, fresh, log)
	}
	if err := RunJob(ctx, s, j.ID, blocking); err == nil {
		t.Fatal("the reduction wrote over a folder")
	}
	rec, _ := s.readState(j.ID)
	if rec.State != StateAnalysing || rec.Restart || rec.Error == "" {
		t.Errorf("after the failed reduction: state %s, restart %v, error %q", rec.State, rec.Restart, rec.Error)
	}
	if err := RunStep(ctx, s, j.ID, "shard 1/2", libraryExec); err != nil {
		t.Errorf("a shard step after the failed reduction: %v", err)
	}
	os.RemoveAll(s.ResultsPath(j))
	if errs := ReduceReady(ctx, s); len(errs) > 0 {
		t.Fatal(errs)
	}
	if st := s.Status(j); st.State != StateDone || trains != 1 {
		t.Errorf("after the collect: %s %q, trained %d times", st.State, st.Detail, trains)
	}
}

// TestReduceRefusedAfterReset: a reduction of a job reset meanwhile (a
// collect reduces the jobs of its snapshot one by one) is refused and
// leaves the reset as it was: the job's next start trains it from scratch
// and its shard steps wait for that (the reduction recorded it analysing
// and dropped the reset).
func TestReduceRefusedAfterReset(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	ctx := context.Background()
	s, j := trainedSharded(t)
	runShards(t, ctx, s, j)
	if err := s.Reset(j.ID); err != nil {
		t.Fatal(err)
	}
	if err := RunStep(ctx, s, j.ID, StepReduce, nil); err == nil || !strings.Contains(err.Error(), "nothing to reduce") {
		t.Fatalf("reduction of a reset job: %v", err)
	}
	rec, err := s.readState(j.ID)
	if err != nil || !rec.Restart || rec.ResetAt.IsZero() || rec.State != StateInterrupted {
		t.Fatalf("after the refused reduction: %+v, %v", rec, err)
	}
	if err := RunStep(ctx, s, j.ID, "shard 1/2", libraryExec); !errors.Is(err, errRetraining) {
		t.Errorf("a shard step of the reset job: %v", err)
	}
}

// TestStartOverOnceTrained: a start over whose training ran (the run
// folder is its own) is over even when a shard fails after it: the next
// start resumes that training instead of clearing it again.
func TestStartOverOnceTrained(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	ctx := context.Background()
	s, j := trainedSharded(t)
	if err := s.Reset(j.ID); err != nil {
		t.Fatal(err)
	}
	var fresh []bool
	block := true
	exec := func(ctx context.Context, j *Job, dir string, f bool, log io.Writer) error {
		fresh = append(fresh, f)
		if err := libraryExec(ctx, j, dir, f, log); err != nil {
			return err
		}
		if block { // shard 1's file of epoch 1 cannot be written: a folder is there
			return os.MkdirAll(filepath.Join(s.shardPath(j.ID, 1, 1, 2), "x"), 0o755)
		}
		return nil
	}
	if err := RunJob(ctx, s, j.ID, exec); err == nil {
		t.Fatal("shard 1 was saved over a folder")
	}
	if rec, _ := s.readState(j.ID); rec == nil || rec.Restart {
		t.Fatalf("after the trained start over whose shard failed: %+v", rec)
	}
	block = false
	os.RemoveAll(s.shardPath(j.ID, 1, 1, 2))
	if err := RunJob(ctx, s, j.ID, exec); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(fresh, []bool{true, false}) {
		t.Errorf("fresh starts %v, want [true false]: the second start threw the new training away", fresh)
	}
	if st := s.Status(j); st.State != StateDone {
		t.Errorf("after the second start: %s %q", st.State, st.Detail)
	}
}

// TestShardsDroppedWhileAnalysing: a job trained for a sharded analysis
// whose config then drops its shards is named with its remedies (set the
// shards back, or reset it), by collect and by a start of the whole job;
// collect spoke of a shard 1/1 step that does not exist, and the start
// of awd run's flags.
func TestShardsDroppedWhileAnalysing(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	ctx := context.Background()
	s, j := trainedSharded(t)
	s, err := prepareAt(s.Manifest.Config, tinyReal)
	if err != nil {
		t.Fatal(err)
	}
	errs := ReduceReady(ctx, s)
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "trained for a sharded analysis") || !strings.Contains(errs[0].Error(), "awd sweep reset") {
		t.Errorf("collect: %v", errs)
	}
	err = RunJob(ctx, s, j.ID, libraryExec)
	if err == nil || !strings.Contains(err.Error(), "awd sweep reset") || strings.Contains(err.Error(), "--fresh") || strings.Contains(err.Error(), "--out") {
		t.Errorf("the whole job's start: %v", err)
	}
}

// TestCollectNamesEveryJobWithoutResults: ReduceReady, whose errors make a
// collect exit 1, names the jobs that never ran and the jobs reset since
// they were done, not only those whose reduction failed: tables without
// them are never taken for complete.
func TestCollectNamesEveryJobWithoutResults(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	ctx := context.Background()
	s, j := trainedSharded(t)
	fresh := prepare(t, tinyReal)
	if errs := ReduceReady(ctx, fresh); len(errs) != 1 || !strings.Contains(errs[0].Error(), "not run yet") {
		t.Errorf("a sweep never run: %v", errs)
	}
	// A state file that does not read: failed, as status says, not "not
	// run yet".
	fj := fresh.Jobs[0]
	os.WriteFile(filepath.Join(fresh.JobDir(fj.ID), stateFile), []byte("{"), 0o644)
	if st := fresh.Status(fj); st.State != StateFailed {
		t.Fatalf("status of a damaged state file: %s", st.State)
	}
	if errs := ReduceReady(ctx, fresh); len(errs) != 1 || !strings.Contains(errs[0].Error(), "job "+fj.ID+": "+StateFailed+": ") {
		t.Errorf("a damaged state file: %v", errs)
	}
	runShards(t, ctx, s, j)
	if errs := ReduceReady(ctx, s); len(errs) != 0 {
		t.Fatalf("a complete sweep: %v", errs)
	}
	if err := s.Reset(j.ID); err != nil {
		t.Fatal(err)
	}
	if errs := ReduceReady(ctx, s); len(errs) != 1 || !strings.Contains(errs[0].Error(), "job "+j.ID+": "+StateInterrupted) {
		t.Errorf("a reset job: %v", errs)
	}
}

// TestShardSecondsCounted: the shard steps that run in processes of their
// own (Slurm tasks) record their seconds, and the reduction adds them to
// the job's, so that the tables' wall time per job includes its analyses
// (it held the training and the reduction alone).
func TestShardSecondsCounted(t *testing.T) {
	ctx := context.Background()
	s, j := trainedSharded(t)
	trained, err := s.readState(j.ID)
	if err != nil {
		t.Fatal(err)
	}
	runShards(t, ctx, s, j)
	var st shardTime
	if err := readJSON(s.shardTimePath(j.ID, 1, 2), &st); err != nil || !(st.Seconds > 0) {
		t.Fatalf("shard 1/2's seconds: %+v, %v", st, err)
	}
	// Shard 2 as a long step would have been.
	if err := writeJSON(s.shardTimePath(j.ID, 2, 2), shardTime{SchemaVersion: SchemaVersion, Seconds: 1000, CPUSeconds: 900}); err != nil {
		t.Fatal(err)
	}
	if err := RunStep(ctx, s, j.ID, StepReduce, libraryExec); err != nil {
		t.Fatal(err)
	}
	done, err := s.readState(j.ID)
	if err != nil || done.State != StateDone {
		t.Fatalf("after the reduction: %+v, %v", done, err)
	}
	if min := trained.Seconds + st.Seconds + 1000; done.Seconds < min || done.CPUSeconds < trained.CPUSeconds+900 {
		t.Errorf("the job's seconds %.3f (CPU %.3f), want at least the training's %.3f and the shards' %.3f + 1000 (CPU 900 more)",
			done.Seconds, done.CPUSeconds, trained.Seconds, st.Seconds)
	}
}
