package sweep

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/awd-toolkit/awd/awd"
	"github.com/awd-toolkit/awd/nn"
)

// The test binary doubles as awd for the job processes: with
// SWEEP_TEST_JOB=1 it runs fakeExec for `DIR ID` (the local pool's
// command), `sweep run-job DIR --tasks FILE` (a Slurm array task) or
// `sweep collect DIR` (the collect job) instead of the tests.
func TestMain(m *testing.M) {
	if os.Getenv("SWEEP_TEST_JOB") == "1" {
		os.Exit(fakeAwd(os.Args[1:]))
	}
	os.Exit(m.Run())
}

func fakeAwd(args []string) int {
	var err error
	defer func() {
		if err != nil {
			fmt.Fprintln(os.Stderr, "awd:", err)
		}
	}()
	var s *Sweep
	switch {
	case len(args) == 2:
		if s, err = Open(args[0]); err == nil {
			err = RunJob(context.Background(), s, args[1], fakeExec)
		}
	case len(args) == 5 && args[1] == "run-job" && args[3] == "--tasks":
		var line string
		if line, err = TaskFromEnv(args[4]); err == nil {
			if s, err = Open(args[2]); err == nil {
				err = RunTask(context.Background(), s, line, fakeExec, os.Stderr)
			}
		}
	case len(args) == 3 && args[1] == "collect":
		if s, err = Open(args[2]); err == nil {
			_, _, err = Collect(s)
		}
	default:
		err = fmt.Errorf("fake awd: unknown command %q", args)
	}
	if err != nil {
		return 1
	}
	return 0
}

// fakeExec stands for a training run: it counts its starts in the job
// folder's starts file, sleeps SWEEP_TEST_SLEEP, fails for the job ids in
// SWEEP_TEST_FAIL and writes results.json.
func fakeExec(ctx context.Context, j *Job, dir string, fresh bool, log io.Writer) error {
	f, err := os.OpenFile(filepath.Join(dir, "starts"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	fmt.Fprintln(f, os.Getpid())
	f.Close()
	fmt.Fprintf(log, "training %s\n", j.ID)
	if d, _ := time.ParseDuration(os.Getenv("SWEEP_TEST_SLEEP")); d > 0 {
		time.Sleep(d)
	}
	if strings.Contains(os.Getenv("SWEEP_TEST_FAIL"), j.ID) {
		return errors.New("loss is NaN at epoch 3")
	}
	rep := report(j.Spec, j.K(), []int{j.Spec.Train.Epochs}, 1+float64(j.Seed)/10)
	return awd.WriteReport(filepath.Join(dir, ResultsFile), rep)
}

func prepare(t *testing.T, src string) *Sweep {
	t.Helper()
	s, err := prepareAt(filepath.Join(t.TempDir(), "s.yaml"), src)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// prepareAt writes the config src to path, loads it and prepares its sweep.
func prepareAt(path, src string) (*Sweep, error) {
	if err := os.WriteFile(path, []byte(strings.TrimLeft(src, "\n")), 0o644); err != nil {
		return nil, err
	}
	cfg, err := Load(path)
	if err != nil {
		return nil, err
	}
	return Prepare(cfg)
}

// command returns the pool's Command: this test binary as the job process.
func command(s *Sweep, env ...string) func(j *Job) *exec.Cmd {
	return func(j *Job) *exec.Cmd {
		cmd := exec.Command(os.Args[0], s.Dir, j.ID)
		cmd.Env = append(os.Environ(), append([]string{"SWEEP_TEST_JOB=1"}, env...)...)
		return cmd
	}
}

func starts(t *testing.T, s *Sweep) map[string]int {
	t.Helper()
	m := map[string]int{}
	for _, j := range s.Jobs {
		b, err := os.ReadFile(filepath.Join(s.RunDir(j.ID), "starts"))
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
		m[j.ID] = strings.Count(string(b), "\n")
	}
	return m
}

// syncBuffer is an io.Writer safe for the pool's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (w *syncBuffer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *syncBuffer) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

// TestRunSkipsDoneAndRetriesFailed runs a sweep twice: the second run
// starts only the job that failed the first time.
func TestRunSkipsDoneAndRetriesFailed(t *testing.T) {
	s := prepare(t, minimal)
	bad := s.Jobs[3].ID
	var out syncBuffer
	sum, err := Run(context.Background(), s, LocalOptions{Workers: 2, Command: command(s, "SWEEP_TEST_FAIL="+bad), Out: &out})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Done != 7 || len(sum.Failed) != 1 || sum.Failed[0].Job.ID != bad || sum.Skipped != 0 {
		t.Fatalf("first run: %d done, %d skipped, failed %v\n%s", sum.Done, sum.Skipped, sum.Failed, out.String())
	}
	if !strings.Contains(out.String(), "FAILED "+bad+": loss is NaN at epoch 3 (log ") || !strings.Contains(out.String(), "[7/8 done, 1 failed") {
		t.Errorf("progress lines:\n%s", out.String())
	}
	st := s.Status(s.Jobs[3])
	if st.State != StateFailed || st.Detail != "loss is NaN at epoch 3" {
		t.Errorf("failed job status %s %q", st.State, st.Detail)
	}
	if b, _ := os.ReadFile(st.Log); !strings.Contains(string(b), "training "+bad) || !strings.Contains(string(b), "failed after") {
		t.Errorf("log of the failed job:\n%s", b)
	}

	sum, err = Run(context.Background(), s, LocalOptions{Workers: 2, Command: command(s), Out: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Done != 1 || sum.Skipped != 7 || len(sum.Failed) != 0 {
		t.Fatalf("second run: %d done, %d skipped, %d failed", sum.Done, sum.Skipped, len(sum.Failed))
	}
	for id, n := range starts(t, s) {
		if want := map[bool]int{true: 2, false: 1}[id == bad]; n != want {
			t.Errorf("job %s started %d times, want %d", id, n, want)
		}
	}
	if rec, _ := s.readState(bad); rec.Attempt != 2 || rec.State != StateDone {
		t.Errorf("retried job: attempt %d state %s", rec.Attempt, rec.State)
	}

	files, _, err := Collect(s)
	if err != nil || len(files) != 5 {
		t.Fatalf("Collect: %v %v", files, err)
	}
	md, _ := os.ReadFile(filepath.Join(s.Dir, TablesDir, "table3.md"))
	for _, want := range []string{"| mnist | mlp | 2 |", "gamma(C_pair2) CE", "- jobs: 8 of 8 done", "| mnist mlp CE K=2 (P=100, B=50, epochs=3, k=20) | 2/2 |", "load average was", "Missing: none"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("table3.md lacks %q:\n%s", want, md)
		}
	}

	// A done job whose results changed is run again.
	j := s.Jobs[0]
	os.WriteFile(s.ResultsPath(j), []byte("{}"), 0o644)
	if st := s.Status(j); st.State != StateInterrupted || !strings.Contains(st.Detail, "changed") {
		t.Errorf("tampered results: %s %q", st.State, st.Detail)
	}
}

// TestRunResumesAfterStop stops a sweep in the middle (as Ctrl-C or a
// killed session would) and runs it again: finished jobs are not run
// again, the interrupted ones are.
func TestRunResumesAfterStop(t *testing.T) {
	s := prepare(t, minimal)
	ctx, cancel := context.WithCancel(context.Background())
	var out syncBuffer
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			if Count(s.Statuses())[StateDone] >= 3 {
				cancel()
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	sum, err := Run(ctx, s, LocalOptions{Workers: 2, Command: command(s, "SWEEP_TEST_SLEEP=300ms"), Out: &out})
	cancel()
	<-done
	if err == nil || !strings.Contains(err.Error(), "start it again to resume") {
		t.Fatalf("stopped sweep: err %v\n%s", err, out.String())
	}
	first := sum.Done
	if first < 3 || first >= 8 {
		t.Fatalf("%d jobs done before the stop, want 3..7\n%s", first, out.String())
	}
	sum, err = Run(context.Background(), s, LocalOptions{Workers: 2, Command: command(s), Out: &out})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Skipped != first || sum.Done != 8-first {
		t.Errorf("resumed: %d skipped, %d done; want %d and %d", sum.Skipped, sum.Done, first, 8-first)
	}
	for id, n := range starts(t, s) {
		if n < 1 || n > 2 {
			t.Errorf("job %s started %d times", id, n)
		}
	}
	if c := Count(s.Statuses()); c[StateDone] != 8 {
		t.Errorf("states after resume: %v", c)
	}
}

// TestRunJobLock checks that a job held by another process is neither run
// twice nor counted as failed.
func TestRunJobLock(t *testing.T) {
	s := prepare(t, minimal)
	j := s.Jobs[0]
	lk, err := lock(filepath.Join(s.JobDir(j.ID), lockFile))
	if err != nil {
		t.Fatal(err)
	}
	if st := s.Status(j); st.State != StateRunning {
		t.Errorf("locked job: %s", st.State)
	}
	err = RunJob(context.Background(), s, j.ID, fakeExec)
	if !errors.Is(err, ErrJobRunning) {
		t.Errorf("second process: %v", err)
	}
	sum, err := Run(context.Background(), s, LocalOptions{Workers: 1, Command: command(s), Out: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	if len(sum.Elsewhere) != 1 || sum.Done != 7 || len(sum.Failed) != 0 {
		t.Errorf("with one job locked: %d done, %d elsewhere, %d failed", sum.Done, len(sum.Elsewhere), len(sum.Failed))
	}
	lk.Close()
	if st := s.Status(j); st.State != StatePending {
		t.Errorf("released: %s", st.State)
	}
}

// TestPrepareKeepsJobs checks that a grown config keeps the finished jobs
// and that a folder of another sweep is refused.
func TestPrepareKeepsJobs(t *testing.T) {
	s := prepare(t, minimal)
	if _, err := Run(context.Background(), s, LocalOptions{Workers: 2, Command: command(s), Out: io.Discard}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(filepath.Dir(s.Dir), "s.yaml")
	grown := strings.Replace(strings.TrimLeft(minimal, "\n"), "seeds: [1, 2]", "seeds: [1, 2, 3]", 1)
	os.WriteFile(path, []byte(grown), 0o644)
	cfg, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	s2, err := Prepare(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if c := Count(s2.Statuses()); c[StateDone] != 8 || c[StatePending] != 4 {
		t.Errorf("grown sweep: %v", c)
	}
	again, err := Open(s.Dir)
	if err != nil || len(again.Jobs) != 12 {
		t.Fatalf("Open: %v, %d jobs", err, len(again.Jobs))
	}
	os.WriteFile(path, []byte(strings.Replace(grown, "name: t", "name: other", 1)), 0o644)
	cfg, _ = Load(path)
	if _, err := Prepare(cfg); err == nil || !strings.Contains(err.Error(), `holds sweep "t"`) {
		t.Errorf("another sweep's folder: %v", err)
	}
}

// report makes the results file of a run: its config, and one analysed
// epoch per gamma given (gamma of C; C_awd = C + 0.1).
func report(cfg awd.RunConfig, k int, epochs []int, gammas ...float64) *awd.Report {
	b, _ := json.Marshal(cfg)
	rep := &awd.Report{SchemaVersion: awd.SchemaVersion, Config: b, Finished: true}
	for i, g := range gammas {
		r := &awd.Result{Dataset: cfg.Data.Name, Model: cfg.Model.Kind, Layer: "fc2", Loss: cfg.Analysis.Loss, Head: 10,
			Classes: nn.FirstClasses(k), N: cfg.Data.PerClass * k, K: cfg.Analysis.K, Batch: cfg.Analysis.Batch, Config: *cfg.Analysis,
			Fits: map[string]awd.Fit{awd.NameC: {Gamma: g}, awd.NameCAWD: {Gamma: g + 0.1}}}
		rep.Checkpoints = append(rep.Checkpoints, awd.Checkpoint{Epoch: epochs[i], Analysis: r})
	}
	return rep
}

// TestStatusQueued checks that the status shows the jobs Slurm still
// holds, from squeue's answer (a stand-in script here).
func TestStatusQueued(t *testing.T) {
	s := prepare(t, minimal)
	sub, err := WriteSlurm(s, s.Jobs[2:5], SlurmOptions{Awd: "/usr/bin/awd"})
	if err != nil {
		t.Fatal(err)
	}
	sub.Arrays[0].ID = "77"
	out := statusSubmitted(t, s, sub, "echo '77 1 PENDING'\necho '77 2 RUNNING'\necho '99 0 PENDING'")
	// A task Slurm runs is running, though its job has recorded nothing yet.
	for _, want := range []string{"queued   " + s.Jobs[3].ID, "Slurm task 77_1 PENDING", "running  " + s.Jobs[4].ID, "Slurm task 77_2 RUNNING", "pending  " + s.Jobs[2].ID, "8 jobs: 1 running, 1 queued, 6 pending"} {
		if !strings.Contains(out, want) {
			t.Errorf("status lacks %q:\n%s", want, out)
		}
	}
}

// TestTemporariesCleaned: the temporary files that killed writers left in
// the sweep folder, a job's folder and its shards/ are removed when the
// sweep or the job starts again; those of a step that still runs (its
// shard's lock held) and the user's files are kept.
func TestTemporariesCleaned(t *testing.T) {
	s := prepare(t, minimal)
	j := s.Jobs[0]
	if err := RunJob(context.Background(), s, j.ID, fakeExec); err != nil {
		t.Fatal(err)
	}
	jd := s.JobDir(j.ID)
	touch := func(names ...string) {
		for _, n := range names {
			os.MkdirAll(filepath.Dir(n), 0o755)
			if err := os.WriteFile(n, []byte("partial"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	p := func(dir string, names ...string) []string {
		out := make([]string, len(names))
		for i, n := range names {
			out[i] = filepath.Join(dir, n)
		}
		return out
	}
	sweepTmp := p(s.Dir, ".sweep.json.tmp123", ".sweep.yaml.tmp456")
	jobJSONTmp := p(jd, ".job.json.tmp7")
	jobTmp := append(p(jd, ".state.json.tmp8", ".arrays_epoch0003.npz.tmp9", ".results.json.tmp10"),
		p(filepath.Join(jd, shardsDir), ".e0001_1_of_2.acc.tmp11")...)
	running := p(filepath.Join(jd, shardsDir), ".e0001_2_of_2.acc.tmp12")
	user := append(p(s.Dir, "notes.tmp", ".notes"), p(jd, "mine.txt.tmp1")...)
	touch(append(append(append(append(sweepTmp, jobJSONTmp...), jobTmp...), running...), user...)...)

	exists := func(what string, paths []string, want bool) {
		t.Helper()
		for _, path := range paths {
			if _, err := os.Stat(path); (err == nil) != want {
				t.Errorf("%s %s: exists %v, want %v", what, path, err == nil, want)
			}
		}
	}
	// The sweep started again: Prepare cleans what only it writes.
	cfg, err := Load(filepath.Join(filepath.Dir(s.Dir), "s.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if s, err = Prepare(cfg); err != nil {
		t.Fatal(err)
	}
	exists("after Prepare", append(sweepTmp, jobJSONTmp...), false)
	exists("after Prepare", append(append(jobTmp, running...), user...), true)

	// The job started again (done: it returns at once, its folder cleaned)
	// while shard 2's step runs elsewhere.
	lk, err := lock(filepath.Join(jd, shardLock(2)))
	if err != nil {
		t.Fatal(err)
	}
	defer lk.Close()
	if err := RunJob(context.Background(), s, j.ID, fakeExec); err != nil {
		t.Fatal(err)
	}
	exists("after the job's start", jobTmp, false)
	exists("after the job's start", append(running, user...), true)

	// Shard 2's own step removes its own.
	lk.Close()
	s.cleanJob(j.ID, 2)
	exists("after shard 2's start", running, false)
	exists("after shard 2's start", user, true)
}

// TestRunJobTakenMeanwhile checks the skip of a job that another process
// locks after this run listed it (two sweeps started together): the job's
// own process can only exit with an error, and the progress line says why
// instead of "exit status 1".
func TestRunJobTakenMeanwhile(t *testing.T) {
	s := prepare(t, minimal)
	target := s.Jobs[0].ID
	var held io.Closer
	defer func() {
		if held != nil {
			held.Close()
		}
	}()
	next := command(s)
	var out strings.Builder
	sum, err := Run(context.Background(), s, LocalOptions{Workers: 1, Out: &out, Command: func(j *Job) *exec.Cmd {
		if j.ID != target {
			return next(j)
		}
		lk, err := lock(filepath.Join(s.JobDir(j.ID), lockFile))
		if err != nil {
			t.Fatal(err)
		}
		held = lk
		return exec.Command("false") // what a job's process does when its lock is taken
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(sum.Elsewhere) != 1 || len(sum.Failed) != 0 {
		t.Errorf("%d elsewhere, %d failed; want 1, 0", len(sum.Elsewhere), len(sum.Failed))
	}
	if want := "skip  " + target + ": running in another process"; !strings.Contains(out.String(), want) {
		t.Errorf("progress lines do not say %q:\n%s", want, out.String())
	}
}

// TestTablesAndSlurmTemporariesCleaned: the temporary files that a killed
// collect left in tables/ and tables/figures/, and a killed submission in
// slurm/NNN/, are removed under the locks that keep a running collect or
// submission out (LockTables, WriteSlurm); the user's files and Slurm's
// output stay.
func TestTablesAndSlurmTemporariesCleaned(t *testing.T) {
	s := prepare(t, minimal)
	tables := filepath.Join(s.Dir, TablesDir)
	sub1 := filepath.Join(s.Dir, "slurm", "001")
	tmp := []string{filepath.Join(tables, ".table1.md.tmp12"), filepath.Join(tables, "figures", ".gamma_epochs_x.png.tmp3"),
		filepath.Join(sub1, ".array1.sbatch.tmp45")}
	keep := []string{filepath.Join(tables, "notes.tmp"), filepath.Join(sub1, "slurm-7_0.out")}
	for _, p := range append(append([]string{}, tmp...), keep...) {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("partial"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	release, err := s.LockTables()
	if err != nil {
		t.Fatal(err)
	}
	if !locked(filepath.Join(tables, tablesLock)) {
		t.Error("LockTables: tables/.lock is not held")
	}
	files, _, err := Collect(s)
	release()
	if err != nil || len(files) == 0 {
		t.Fatalf("Collect under the lock: %v, %d files", err, len(files))
	}
	if locked(filepath.Join(tables, tablesLock)) {
		t.Error("tables/.lock still held after release")
	}
	sub, err := WriteSlurm(s, s.Jobs[:2], SlurmOptions{Awd: "/usr/bin/awd"})
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(s.Dir, "slurm", "002"); sub.Dir != want {
		t.Errorf("submission folder %s, want %s", sub.Dir, want)
	}
	for _, p := range tmp {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("%s: left behind", p)
		}
	}
	for _, p := range keep {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("%s: %v (a user's or Slurm's file)", p, err)
		}
	}
}

// TestDataDirOfTheConfig: data_dir, like out, is read from the config
// file's folder (not the working directory), a missing one is refused with
// its line before any job starts, and a sweep whose data moved (data_dir
// changed) goes on with the same jobs, their job.json naming the new one.
func TestDataDirOfTheConfig(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "s.yaml")
	src := func(dataDir string) string {
		return strings.Replace(minimal, "data: mnist", "data: mnist\n  data_dir: "+dataDir, 1)
	}
	t.Chdir(t.TempDir())
	for _, d := range []string{"data", "moved"} {
		mnistFiles(t, filepath.Join(dir, d))
	}
	s, err := prepareAt(path, src("data"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := s.Jobs[0].Spec.Data.Dir, filepath.Join(dir, "data"); got != want {
		t.Errorf("data_dir: data read as %q, want %q (the config file's folder)", got, want)
	}
	s2, err := prepareAt(path, src("moved"))
	if err != nil {
		t.Fatalf("the data moved: %v", err)
	}
	if s2.Jobs[0].ID != s.Jobs[0].ID {
		t.Errorf("the data moved: job %s became %s", s.Jobs[0].ID, s2.Jobs[0].ID)
	}
	b, _ := os.ReadFile(filepath.Join(s2.JobDir(s2.Jobs[0].ID), jobFile))
	if !strings.Contains(string(b), filepath.Join(dir, "moved")) {
		t.Errorf("job.json does not name the new folder:\n%s", b)
	}
	// A config named by a relative path: the job still names the folder
	// absolutely (its process may start anywhere).
	t.Chdir(filepath.Dir(dir))
	s3, err := prepareAt(filepath.Join(filepath.Base(dir), "s.yaml"), src("data"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := s3.Jobs[0].Spec.Data.Dir, filepath.Join(dir, "data"); got != want {
		t.Errorf("config given as a relative path: data_dir read as %q, want %q", got, want)
	}
	if _, err := prepareAt(path, src("nowhere")); err == nil || !strings.Contains(err.Error(), "s.yaml:") || !strings.Contains(err.Error(), "no such folder") {
		t.Errorf("missing data_dir: %v", err)
	}
}

// mnistFiles makes dir a data folder that Prepare accepts for MNIST: the
// four IDX files' names, empty (the jobs of these tests do not read them).
func mnistFiles(t *testing.T, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte"} {
		if err := os.WriteFile(filepath.Join(dir, f), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestDataDirMissingFiles: a data_dir that lacks a file the jobs read (the
// test split of MNIST, a batch of CIFAR-10) is refused when the sweep is
// prepared, before any job starts, naming the file and the config's line.
func TestDataDirMissingFiles(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "s.yaml")
	mnist := filepath.Join(dir, "mnist")
	mnistFiles(t, mnist)
	os.Remove(filepath.Join(mnist, "t10k-labels-idx1-ubyte"))
	src := strings.Replace(minimal, "data: mnist", "data: mnist\n  data_dir: mnist", 1)
	_, err := prepareAt(path, src)
	for _, want := range []string{"s.yaml:6: data_dir \"mnist\": no t10k-labels-idx1-ubyte(.gz) in " + mnist} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("MNIST without its test labels: %v, want %q", err, want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "out")); err == nil {
		t.Error("the sweep folder was made although the data are incomplete")
	}
	os.WriteFile(filepath.Join(mnist, "t10k-labels-idx1-ubyte.gz"), nil, 0o644)
	if _, err := prepareAt(path, src); err != nil {
		t.Errorf("MNIST complete (a gzipped file among them): %v", err)
	}

	cifar := filepath.Join(dir, "cifar")
	os.Mkdir(cifar, 0o755)
	for _, f := range []string{"data_batch_1.bin", "data_batch_2.bin", "data_batch_4.bin", "data_batch_5.bin", "test_batch.bin"} {
		os.WriteFile(filepath.Join(cifar, f), nil, 0o644)
	}
	src = strings.Replace(src, "data: mnist\n  data_dir: mnist", "data: cifar10\n  data_dir: cifar", 1)
	if _, err := prepareAt(path, src); err == nil || !strings.Contains(err.Error(), "s.yaml:6: data_dir \"cifar\": cifar10: no data_batch_3.bin in "+cifar) {
		t.Errorf("CIFAR-10 without its third batch: %v", err)
	}
}

// TestResourcesChangeKeepsDone: a done job stays done when the config
// changes only its resources, its shard count among them (the results
// file it recorded is checked, not the one the new count would write),
// and is neither trained again nor left out of the tables.
func TestResourcesChangeKeepsDone(t *testing.T) {
	s := prepare(t, minimal)
	j := s.Jobs[0]
	if err := RunJob(context.Background(), s, j.ID, fakeExec); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(filepath.Dir(s.Dir), "s.yaml")
	s2, err := prepareAt(path, minimal+"    shards: 2\nresources: {threads: 2, memory: 1G}\n")
	if err != nil {
		t.Fatal(err)
	}
	j2, err := s2.Job(j.ID)
	if err != nil || j2.Shards != 2 || j2.Threads != 2 {
		t.Fatalf("job after the change: %v, %+v", err, j2)
	}
	if st := s2.Status(j2); st.State != StateDone {
		t.Fatalf("done job after its shard count changed: %s %q", st.State, st.Detail)
	}
	retrain := func(ctx context.Context, j *Job, dir string, fresh bool, log io.Writer) error {
		t.Errorf("job %s trained again (fresh %v)", j.ID, fresh)
		return nil
	}
	if err := RunJob(context.Background(), s2, j.ID, retrain); err != nil {
		t.Fatal(err)
	}
	if err := RunStep(context.Background(), s2, j.ID, StepTrain, retrain); err != nil {
		t.Fatal(err)
	}
	if n := starts(t, s2)[j.ID]; n != 1 {
		t.Errorf("job started %d times, want 1", n)
	}
	if f := s2.Finished(); len(f.Jobs) != 1 || f.Jobs[0].ID != j.ID {
		t.Errorf("the tables read %d jobs, want %s: %v", len(f.Jobs), j.ID, f.Notes)
	}
	// Its results changed after all: run again, from scratch.
	os.WriteFile(filepath.Join(s2.RunDir(j.ID), ResultsFile), []byte("{}"), 0o644)
	if st := s2.Status(j2); st.State != StateInterrupted || !strings.Contains(st.Detail, "changed") {
		t.Errorf("tampered results: %s %q", st.State, st.Detail)
	}
}

// TestStoppedOrKilledElsewhere: a job stopped by a signal (Slurm's SIGTERM
// at the time limit) is recorded interrupted, not running, whatever host
// reads it; a record of another host that says running is trusted only
// while Slurm still holds the task it names (squeue, a stand-in here), or
// when it names none or squeue cannot tell.
func TestStoppedOrKilledElsewhere(t *testing.T) {
	s := prepare(t, minimal)
	j := s.Jobs[0]
	ctx, cancel := context.WithCancel(context.Background())
	stopped := func(ctx context.Context, j *Job, dir string, fresh bool, log io.Writer) error {
		cancel()
		return ctx.Err()
	}
	if err := RunJob(ctx, s, j.ID, stopped); err == nil {
		t.Fatal("a stopped job returned no error")
	}
	rec, err := s.readState(j.ID)
	if err != nil || rec.State != StateInterrupted {
		t.Fatalf("stopped job recorded %v %v", rec, err)
	}
	rec.Host = "node7"
	s.writeState(j.ID, rec)
	if st := s.Status(j); st.State != StateInterrupted || !strings.Contains(st.Detail, "stopped by a signal on node7") {
		t.Errorf("stopped on another host: %s %q", st.State, st.Detail)
	}
	if b, _ := os.ReadFile(filepath.Join(s.JobDir(j.ID), logFile)); !strings.Contains(string(b), " stopped after ") {
		t.Errorf("log of the stopped job:\n%s", b)
	}

	// Killed on node7 (SIGKILL): its record says running.
	rec.State, rec.Slurm = StateRunning, "555_3"
	s.writeState(j.ID, rec)
	fake := fakeSqueue(t, "exit 0")
	for _, tc := range []struct {
		script, slurm, state, detail string
	}{
		{"echo '555 3 RUNNING'", "555_3", StateRunning, "(Slurm task 555_3 RUNNING)"},
		{"echo '555 4 PENDING'", "555_3", StateInterrupted, "Slurm no longer has its task 555_3"},
		{"echo 'slurm_load_jobs error: Invalid job id specified' >&2; exit 1", "555_3", StateInterrupted, "Slurm no longer has its task 555_3"},
		{"echo 'slurm_load_jobs error: Unable to contact slurm controller' >&2; exit 1", "555_3", StateRunning, "(per its record)"},
		{"echo '555 N/A RUNNING'", "555", StateRunning, "(Slurm task 555 RUNNING)"},
		{"exit 0", "", StateRunning, "(per its record)"},
	} {
		os.WriteFile(fake, []byte("#!/bin/sh\n"+tc.script+"\n"), 0o755)
		rec.Slurm = tc.slurm
		s.writeState(j.ID, rec)
		st := s.Status(j)
		if st.State != tc.state || !strings.Contains(st.Detail, tc.detail) {
			t.Errorf("squeue %q, task %q: %s %q, want %s with %q", tc.script, tc.slurm, st.State, st.Detail, tc.state, tc.detail)
		}
		if sts := s.Statuses(); sts[0].State != tc.state {
			t.Errorf("squeue %q: Statuses says %s", tc.script, sts[0].State)
		}
	}
	squeue = filepath.Join(t.TempDir(), "missing")
	rec.Slurm = "555_3"
	s.writeState(j.ID, rec)
	if st := s.Status(j); st.State != StateRunning || !strings.Contains(st.Detail, "(per its record)") {
		t.Errorf("without squeue: %s %q", st.State, st.Detail)
	}

	// The interrupted job resumes (not from scratch) on the next start.
	squeue = fake
	os.WriteFile(fake, []byte("#!/bin/sh\nexit 0\n"), 0o755)
	var freshes []bool
	if err := RunJob(context.Background(), s, j.ID, func(ctx context.Context, j *Job, dir string, fresh bool, log io.Writer) error {
		freshes = append(freshes, fresh)
		return fakeExec(ctx, j, dir, fresh, log)
	}); err != nil {
		t.Fatal(err)
	}
	if len(freshes) != 1 || freshes[0] {
		t.Errorf("resumed with fresh %v", freshes)
	}
}

// TestRunInterruptedJob: a job whose process was stopped by a signal the
// pool did not send (its record says interrupted) is reported as
// interrupted, as status says, not as failed.
func TestRunInterruptedJob(t *testing.T) {
	s := prepare(t, minimal)
	stopped := s.Jobs[0]
	rec := `{"schema_version": 1, "state": "interrupted", "host": "h", "pid": 1, "threads": 1, "attempt": 1, "started": "2026-01-01T00:00:00Z", "ended": "2026-01-01T00:00:01Z"}`
	others := command(s)
	var out syncBuffer
	sum, err := Run(context.Background(), s, LocalOptions{Workers: 2, Out: &out, Command: func(j *Job) *exec.Cmd {
		if j != stopped {
			return others(j)
		}
		return exec.Command("sh", "-c", "printf '%s' \"$1\" > \"$2\"; exit 130", "sh", rec, filepath.Join(s.JobDir(j.ID), stateFile))
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(sum.Interrupted) != 1 || sum.Interrupted[0].Job != stopped || len(sum.Failed) != 0 || sum.Done != 7 {
		t.Fatalf("%d done, interrupted %v, failed %v\n%s", sum.Done, sum.Interrupted, sum.Failed, out.String())
	}
	if o := out.String(); !strings.Contains(o, "interrupted "+stopped.ID+": stopped by a signal on h") || strings.Contains(o, "FAILED") {
		t.Errorf("progress:\n%s", o)
	}
}

// TestDamagedRecordsRewritten: a sweep.json or job.json that is not JSON
// (truncated) or has no schema_version ({}, null) makes Open say what
// writes it anew, and Prepare writes it anew from the config, keeping the
// job's state; a missing job.json makes Open name what writes it; one of
// another schema version is refused, not overwritten.
func TestDamagedRecordsRewritten(t *testing.T) {
	s := prepare(t, minimal)
	j := s.Jobs[0]
	if err := RunJob(context.Background(), s, j.ID, fakeExec); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(filepath.Dir(s.Dir), "s.yaml")
	manifest, record := filepath.Join(s.Dir, manifestFile), filepath.Join(s.JobDir(j.ID), jobFile)
	for _, f := range []string{manifest, record} {
		b, _ := os.ReadFile(f)
		os.WriteFile(f, b[:len(b)/2], 0o644)
		if _, err := Open(s.Dir); err == nil || !strings.Contains(err.Error(), "writes it anew") {
			t.Errorf("%s damaged: Open: %v", f, err)
		}
		s2, err := prepareAt(path, minimal)
		if err != nil {
			t.Fatalf("%s damaged: Prepare: %v", f, err)
		}
		if len(s2.Repaired) != 1 || s2.Repaired[0] != f {
			t.Errorf("Repaired %v, want [%s]", s2.Repaired, f)
		}
		if st := s2.Status(j); st.State != StateDone {
			t.Errorf("after the repair of %s the job is %s %q", f, st.State, st.Detail)
		}
	}
	// JSON without a schema_version was not written by awd: damaged too.
	for _, f := range []string{manifest, record} {
		for _, src := range []string{`{}`, `null`} {
			os.WriteFile(f, []byte(src), 0o644)
			if _, err := Open(s.Dir); err == nil || !strings.Contains(err.Error(), "no schema_version") || !strings.Contains(err.Error(), "writes it anew") {
				t.Errorf("%s %s: Open: %v", f, src, err)
			}
			s2, err := prepareAt(path, minimal)
			if err != nil {
				t.Fatalf("%s %s: Prepare: %v", f, src, err)
			}
			if len(s2.Repaired) != 1 || s2.Repaired[0] != f {
				t.Errorf("%s %s: Repaired %v", f, src, s2.Repaired)
			}
		}
	}
	// A missing job.json: Open names what writes it.
	os.Remove(record)
	if _, err := Open(s.Dir); err == nil || !strings.Contains(err.Error(), record+" is missing; `awd sweep CONFIG`") {
		t.Errorf("job.json missing: Open: %v", err)
	}
	if _, err := prepareAt(path, minimal); err != nil {
		t.Fatalf("job.json missing: Prepare: %v", err)
	}
	os.WriteFile(manifest, []byte(`{"schema_version": 99}`), 0o644)
	if _, err := prepareAt(path, minimal); err == nil || !strings.Contains(err.Error(), "schema_version 99") {
		t.Errorf("sweep.json of another version: %v", err)
	}
}

// TestStatusOfUnreadableJobRecord: a missing or damaged job.json makes its
// job a failed row of the status, with the file and what writes it anew,
// as a damaged state.json does, and the other jobs are still listed; Open,
// which runs and collects jobs, still refuses the folder.
func TestStatusOfUnreadableJobRecord(t *testing.T) {
	s := prepare(t, minimal)
	done, missing, damaged := s.Jobs[0], s.Jobs[1], s.Jobs[2]
	if err := RunJob(context.Background(), s, done.ID, fakeExec); err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(s.JobDir(missing.ID), jobFile))
	os.WriteFile(filepath.Join(s.JobDir(damaged.ID), jobFile), []byte("{"), 0o644)
	if _, err := Open(s.Dir); err == nil {
		t.Error("Open took a sweep with a missing job.json")
	}
	got, err := OpenForStatus(s.Dir)
	if err != nil {
		t.Fatalf("OpenForStatus: %v", err)
	}
	if len(got.Jobs) != len(s.Jobs)-2 || len(got.Unreadable) != 2 {
		t.Fatalf("%d jobs, %d unreadable", len(got.Jobs), len(got.Unreadable))
	}
	var out strings.Builder
	if err := WriteStatus(&out, got, false); err != nil {
		t.Fatalf("WriteStatus: %v", err)
	}
	o := out.String()
	for _, want := range []string{
		"done     " + done.ID,
		"failed   " + missing.ID,
		filepath.Join(s.JobDir(missing.ID), jobFile) + " is missing; `awd sweep CONFIG`",
		"failed   " + damaged.ID,
		filepath.Join(s.JobDir(damaged.ID), jobFile) + ": not valid JSON (damaged)",
		"pending  " + s.Jobs[3].ID,
		"t: 8 jobs: 1 done, 2 failed, 5 pending",
	} {
		if !strings.Contains(o, want) {
			t.Errorf("status lacks %q:\n%s", want, o)
		}
	}
	// The rows keep the grid's order.
	var order []int
	for _, j := range s.Jobs {
		order = append(order, strings.Index(o, j.ID))
	}
	if !slices.IsSorted(order) {
		t.Errorf("rows out of the grid's order:\n%s", o)
	}
	out.Reset()
	WriteStatus(&out, got, true)
	if o := out.String(); !strings.Contains(o, missing.ID) || strings.Contains(o, done.ID) {
		t.Errorf("status --failed:\n%s", o)
	}
}

// TestPrepareRefusesCommandFolder: a sweep whose out is the output folder
// of a command (here a run's) is refused: its jobs/, sweep.json and
// tables/ would mix with the run's files.
func TestPrepareRefusesCommandFolder(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.yaml")
	if err := os.WriteFile(path, []byte(strings.TrimLeft(minimal, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(cfg.Dir(), 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(cfg.Dir(), awd.OwnerFile), []byte(`{"schema": 1, "command": "run"}`), 0o644)
	if _, err := Prepare(cfg); err == nil || !strings.Contains(err.Error(), "holds the output of `awd run`") {
		t.Errorf("a run's folder as the sweep's out: %v", err)
	}
	if _, err := os.Stat(filepath.Join(cfg.Dir(), jobsDir)); err == nil {
		t.Error("jobs/ made in the run's folder")
	}
}

// TestPrepareRefusesForeignFolder: an out folder that holds other files
// and no sweep.json (a home folder) is refused, naming the folder and what
// to do, and nothing is written into it; an empty folder, a new one, the
// sweep's own folder and what a first Prepare killed before sweep.json
// left are taken.
func TestPrepareRefusesForeignFolder(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.yaml")
	out := filepath.Join(filepath.Dir(path), "out")
	os.MkdirAll(out, 0o755)
	os.WriteFile(filepath.Join(out, "notes.txt"), []byte("mine\n"), 0o644)
	_, err := prepareAt(path, minimal)
	if err == nil || !strings.Contains(err.Error(), out) || !strings.Contains(err.Error(), "notes.txt") || !strings.Contains(err.Error(), "choose another out, or empty the folder") {
		t.Errorf("a folder of other files as out: %v", err)
	}
	if entries, _ := os.ReadDir(out); len(entries) != 1 {
		t.Errorf("the sweep wrote into the foreign folder: %v", entries)
	}
	// A jobs/ folder of other jobs is not the sweep's either.
	os.Remove(filepath.Join(out, "notes.txt"))
	os.MkdirAll(filepath.Join(out, jobsDir, "someone-else"), 0o755)
	if _, err := prepareAt(path, minimal); err == nil || !strings.Contains(err.Error(), "no "+manifestFile) {
		t.Errorf("a jobs/ of other jobs: %v", err)
	}
	os.RemoveAll(filepath.Join(out, jobsDir))

	// Empty: taken. Again: its own folder, taken.
	s, err := prepareAt(path, minimal)
	if err != nil {
		t.Fatalf("an empty folder as out: %v", err)
	}
	if _, err := prepareAt(path, minimal); err != nil {
		t.Fatalf("the sweep's own folder: %v", err)
	}
	// What a first Prepare killed before it wrote sweep.json leaves.
	os.Remove(filepath.Join(s.Dir, manifestFile))
	os.WriteFile(filepath.Join(s.Dir, "."+configCopy+".tmp123"), nil, 0o644)
	if _, err := prepareAt(path, minimal); err != nil {
		t.Fatalf("a first Prepare's leftovers: %v", err)
	}
	// A new folder.
	if _, err := prepareAt(path, strings.Replace(minimal, "out: out", "out: new/deeper", 1)); err != nil {
		t.Fatalf("a new folder as out: %v", err)
	}
}

// TestDataDirChangedUnderDoneJob: when data_dir changes under a job that
// has run, Prepare compares the data it now gives with those its run
// folder recorded: a folder that only moved goes on, other data are
// refused (a done job never runs again to check them, and its results
// were tabulated beside runs of the other data). A job killed before its
// first file did no work on its data: other data are fine for it.
func TestDataDirChangedUnderDoneJob(t *testing.T) {
	src, err := nn.MNISTDir()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	files := []string{"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"}
	for _, d := range []string{"a", "moved", "other"} {
		os.MkdirAll(filepath.Join(dir, d), 0o755)
		for _, f := range files {
			b, err := os.ReadFile(filepath.Join(src, f))
			if err != nil {
				t.Fatal(err)
			}
			if d == "other" && f == "t10k-labels-idx1-ubyte.gz" {
				// Other data: the test labels with the first 0 made a 1
				// (both are classes of the jobs' K = 2 and 3).
				zr, err := gzip.NewReader(bytes.NewReader(b))
				if err != nil {
					t.Fatal(err)
				}
				raw, err := io.ReadAll(zr)
				if err != nil {
					t.Fatal(err)
				}
				raw[8+bytes.IndexByte(raw[8:], 0)] = 1
				os.WriteFile(filepath.Join(dir, d, "t10k-labels-idx1-ubyte"), raw, 0o644)
				continue
			}
			os.WriteFile(filepath.Join(dir, d, f), b, 0o644)
		}
	}
	path := filepath.Join(dir, "s.yaml")
	cfg := func(d string) string {
		return strings.Replace(minimal, "data: mnist", "data: mnist\n  data_dir: "+d, 1)
	}
	s, err := prepareAt(path, cfg("a"))
	if err != nil {
		t.Fatal(err)
	}
	// The job has run on a's data: its run folder says so.
	j := s.Jobs[0]
	spec, err := j.Spec.Normalized()
	if err != nil {
		t.Fatal(err)
	}
	train, test, err := spec.Data.Load()
	if err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(s.RunDir(j.ID), 0o755)
	owner, _ := json.Marshal(awd.Owner{Schema: awd.OwnerSchema, Command: "run", Data: nn.Fingerprint(train, test)})
	os.WriteFile(filepath.Join(s.RunDir(j.ID), awd.OwnerFile), owner, 0o644)
	// Killed before its first file, the job did no work on those data:
	// other data are fine.
	if _, err := prepareAt(path, cfg("other")); err != nil {
		t.Errorf("other data under a job that did no work: %v", err)
	}
	if _, err := prepareAt(path, cfg("a")); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(s.RunDir(j.ID), "metrics.jsonl"), []byte("{}\n"), 0o644)
	if _, err := prepareAt(path, cfg("moved")); err != nil {
		t.Errorf("the data moved: %v", err)
	}
	if _, err := prepareAt(path, cfg("other")); err == nil || !strings.Contains(err.Error(), "job "+j.ID+" ran on other data than data_dir") {
		t.Errorf("other data under a job that ran: %v", err)
	} else if reset := "`awd sweep reset " + s.Dir + " " + j.ID + "`"; !strings.Contains(err.Error(), reset) {
		// The command it names runs as given: the sweep, then the job.
		t.Errorf("other data under a job that ran: %v; want the remedy %s", err, reset)
	}
}

// TestCollectWithUnreadableJobRecord: a collect of a sweep whose job.json
// is missing or damaged for some jobs (OpenForStatus) tabulates the others,
// notes those as left out with the file and what writes it anew, as for a
// damaged state.json, and names them in ReduceReady's errors, which make
// the collect fail; and, their configurations being unknown, it removes no
// figure, here the one of the configuration whose every job.json is gone.
func TestCollectWithUnreadableJobRecord(t *testing.T) {
	s := prepare(t, minimal)
	ctx := context.Background()
	for _, i := range []int{0, 2} { // CE K=2 and CE K=3, seed 1
		if err := RunJob(ctx, s, s.Jobs[i].ID, fakeExec); err != nil {
			t.Fatal(err)
		}
	}
	// A figure an earlier collect drew of each configuration.
	figs := map[string]string{}
	for i := 0; i < len(s.Jobs); i += 2 {
		figs[fmt.Sprintf("fig%d.png", i)] = s.Jobs[i].Protocol
	}
	fdir := filepath.Join(s.Dir, TablesDir, FiguresDir)
	os.MkdirAll(fdir, 0o755)
	for name := range figs {
		os.WriteFile(filepath.Join(fdir, name), nil, 0o644)
	}
	if _, err := s.RecordFigures(figs, true); err != nil {
		t.Fatal(err)
	}
	// Both jobs of MSE K=2: one job.json missing, one damaged.
	missing, damaged := s.Jobs[4], s.Jobs[5]
	missingPath, damagedPath := filepath.Join(s.JobDir(missing.ID), jobFile), filepath.Join(s.JobDir(damaged.ID), jobFile)
	os.Remove(missingPath)
	os.WriteFile(damagedPath, []byte("{"), 0o644)
	got, err := OpenForStatus(s.Dir)
	if err != nil {
		t.Fatalf("OpenForStatus: %v", err)
	}

	if _, _, err := Collect(got); err != nil {
		t.Fatalf("Collect: %v", err)
	}
	if f := got.Finished(); len(f.Jobs) != 2 || f.Jobs[0].ID != s.Jobs[0].ID || f.Jobs[1].ID != s.Jobs[2].ID {
		t.Errorf("finished jobs %v, want %s and %s", f.IDs(), s.Jobs[0].ID, s.Jobs[2].ID)
	}
	md, _ := os.ReadFile(filepath.Join(s.Dir, TablesDir, "table1.md"))
	for _, want := range []string{
		"| mnist | mlp | 2 |", "| mnist | mlp | 3 |",
		"- " + missing.ID + ": failed: " + missingPath + " is missing; `awd sweep CONFIG` (the sweep's config file) writes it, left out",
		"- " + damaged.ID + ": failed: " + damagedPath + ": not valid JSON (damaged)",
		"- jobs: 2 of 8 done",
		"- job " + missing.ID + " (cell unknown): " + missingPath + " is missing",
		"- job " + damaged.ID + " (cell unknown): " + damagedPath + ": not valid JSON (damaged)",
	} {
		if !strings.Contains(string(md), want) {
			t.Errorf("table1.md lacks %q:\n%s", want, md)
		}
	}

	errs := ReduceReady(ctx, got)
	var msgs []string
	for _, e := range errs {
		msgs = append(msgs, e.Error())
	}
	all := strings.Join(msgs, "\n")
	for _, want := range []string{
		"job " + missing.ID + ": failed: " + missingPath + " is missing; `awd sweep CONFIG` (the sweep's config file) writes it",
		"job " + damaged.ID + ": failed: " + damagedPath + ": not valid JSON (damaged)",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("ReduceReady lacks %q:\n%s", want, all)
		}
	}
	if len(errs) != 6 { // the 4 jobs not run, the 2 unreadable
		t.Errorf("%d errors, want 6:\n%s", len(errs), all)
	}
	if !strings.Contains(all, "writes it anew") {
		t.Errorf("the damaged job.json's error lacks what writes it anew:\n%s", all)
	}

	// Asked to remove the stale figures, a collect with unreadable jobs
	// keeps them all: the figure of MSE K=2 is of the sweep still.
	drawn := map[string]string{"fig0.png": s.Jobs[0].Protocol, "fig2.png": s.Jobs[2].Protocol}
	if removed, err := got.RecordFigures(drawn, true); err != nil || len(removed) != 0 {
		t.Errorf("removed %v, %v", removed, err)
	}
	for name := range figs {
		if _, err := os.Stat(filepath.Join(fdir, name)); err != nil {
			t.Errorf("figure %s: %v", name, err)
		}
	}
}

// TestJobRecordOfOtherJobOrVersion: a job.json that names another job (a
// copy) or that another awd version wrote says what to do, and what it
// says works: removed, the next Prepare writes it anew.
func TestJobRecordOfOtherJobOrVersion(t *testing.T) {
	s := prepare(t, minimal)
	a, b := s.Jobs[0], s.Jobs[1]
	rec := filepath.Join(s.JobDir(b.ID), jobFile)
	data, err := os.ReadFile(filepath.Join(s.JobDir(a.ID), jobFile))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(rec, data, 0o644)
	_, err = Open(s.Dir)
	if err == nil || !strings.Contains(err.Error(), rec+` names job "`+a.ID+`"`) || !strings.Contains(err.Error(), "remove it, and `awd sweep CONFIG`") {
		t.Fatalf("Open with a copied job.json: %v", err)
	}
	os.Remove(rec)
	cfg, err := Load(filepath.Join(filepath.Dir(s.Dir), "s.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Prepare(cfg); err != nil {
		t.Fatalf("Prepare after the copy was removed: %v", err)
	}
	if _, err := Open(s.Dir); err != nil {
		t.Fatalf("Open after Prepare wrote job.json anew: %v", err)
	}

	os.WriteFile(rec, []byte(`{"schema_version": 99}`), 0o644)
	if _, err := Open(s.Dir); err == nil || !strings.Contains(err.Error(), "schema_version 99, this awd reads") || !strings.Contains(err.Error(), "use that version, or give the sweep another out") {
		t.Errorf("Open with a job.json of another version: %v", err)
	}
}
