package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// tinySweep is a sweep of two jobs (CE and MSE, one seed) of a second or
// two each: a 784-8-8-10 MLP on 3 x 60 MNIST samples, 2 epochs.
const tinySweep = `name: tiny
out: out
seeds: [7]
base:
  data: mnist
  widths: [8, 8]
  classes: 3
  per_class: 60
  batch: 10
  epochs: 2
  k: 20
  analyze_at: [1, 2]
cells:
  - loss: [ce, mse]
resources: {threads: 1, memory: 500M, time: "10"}
local: {workers: 2}
`

func writeSweep(t *testing.T, src string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "tiny.yaml")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestCLISweep(t *testing.T) {
	cfg := writeSweep(t, tinySweep)
	dir := filepath.Join(filepath.Dir(cfg), "out")
	_, se, code := awdCmd(t, "sweep", cfg)
	if code != 0 || !strings.Contains(se, "[2/2 done, 0 failed") || !strings.Contains(se, "tables and figures: ") {
		t.Fatalf("sweep: exit %d\n%s", code, se)
	}
	md, err := os.ReadFile(filepath.Join(dir, "tables", "table1.md"))
	if err != nil || !strings.Contains(string(md), "| mnist | mlp | 3 |") || strings.Contains(string(md), "Left out") {
		t.Errorf("table1.md: %v\n%s", err, md)
	}
	for _, f := range []string{"gamma_epochs.csv", "figures/gamma_epochs_mnist-mlp-ce-k3.png", "figures/gamma_epochs_mnist-mlp-mse-k3.svg"} {
		if _, err := os.Stat(filepath.Join(dir, "tables", f)); err != nil {
			t.Error(err)
		}
	}
	// Started again: nothing to do.
	if _, se, code := awdCmd(t, "sweep", cfg); code != 0 || !strings.Contains(se, "2 jobs, 2 done, 0 running elsewhere, 0 to run") {
		t.Errorf("second sweep: exit %d\n%s", code, se)
	}
	so, se, code := awdCmd(t, "sweep", "status", dir)
	if code != 0 || strings.Count(so, "\ndone ") != 2 || !strings.Contains(so, "tiny: 2 jobs: 2 done") {
		t.Errorf("status: exit %d\n%s%s", code, so, se)
	}
	so, se, code = awdCmd(t, "table", dir, "--table", "3", "--csv")
	if code != 0 || !strings.HasPrefix(so, "data,model,K,") || !strings.Contains(so, "gamma_Cpair2_ce_mean") {
		t.Errorf("table --table 3 --csv: exit %d\n%s%s", code, so, se)
	}
	so, _, code = awdCmd(t, "sweep", "--slurm", "--dry-run", cfg)
	if code != 0 || !strings.Contains(so, "nothing to submit") {
		t.Errorf("dry run of a finished sweep: exit %d\n%s", code, so)
	}
	// A job reset runs again, from scratch.
	ids, _ := filepath.Glob(filepath.Join(dir, "jobs", "mnist-mlp-ce-*"))
	if len(ids) != 1 {
		t.Fatalf("jobs: %v", ids)
	}
	id := filepath.Base(ids[0])
	if so, se, code := awdCmd(t, "sweep", "reset", cfg, id); code != 0 || !strings.Contains(so, "job "+id+": reset") {
		t.Errorf("reset: exit %d\n%s%s", code, so, se)
	}
	if so, _, _ := awdCmd(t, "sweep", "status", dir); !strings.Contains(so, "interrupted  "+id) || !strings.Contains(so, "the next start runs it from scratch") {
		t.Errorf("status after the reset:\n%s", so)
	}
	if _, se, code := awdCmd(t, "sweep", cfg); code != 0 || !strings.Contains(se, "2 jobs, 1 done, 0 running elsewhere, 1 to run") {
		t.Errorf("sweep after the reset: exit %d\n%s", code, se)
	}
	if b, _ := os.ReadFile(filepath.Join(ids[0], "job.log")); !strings.Contains(string(b), "starts over from scratch") {
		t.Errorf("the reset job's log:\n%s", b)
	}
	_, se, code = awdCmd(t, "sweep", "reset", dir, id, "nope")
	if lines := strings.Split(strings.TrimSpace(se), "\n"); code != 1 || len(lines) != 1 || !strings.Contains(se, `awd: 1 of 2 jobs not reset: sweep `) || !strings.Contains(se, `no job "nope"`) {
		t.Errorf("reset of an unknown job: exit %d\n%s", code, se)
	}
}

// TestCLICollectFailedReduce: while a sharded job's reduction fails (a
// damaged shard), every `awd sweep collect` exits 1 naming the job, not
// only the first; once the shard is run again, collect reduces it and
// exits 0.
func TestCLICollectFailedReduce(t *testing.T) {
	cfg := writeSweep(t, strings.Replace(tinySweep, "  - loss: [ce, mse]\n", "  - loss: ce\n    shards: 2\n", 1))
	dir := filepath.Join(filepath.Dir(cfg), "out")
	if _, se, code := awdCmd(t, "sweep", "--slurm", "--dry-run", cfg); code != 0 {
		t.Fatalf("prepare: exit %d\n%s", code, se)
	}
	ids, _ := filepath.Glob(filepath.Join(dir, "jobs", "mnist-*"))
	if len(ids) != 1 {
		t.Fatalf("jobs: %v", ids)
	}
	id := filepath.Base(ids[0])
	for _, step := range []string{"train", "shard 1/2", "shard 2/2"} {
		if _, se, code := awdCmd(t, "sweep", "run-job", dir, id+" "+step); code != 0 {
			t.Fatalf("%s: exit %d\n%s", step, code, se)
		}
	}
	shard := filepath.Join(ids[0], "shards", "e0002_2_of_2.acc")
	b, err := os.ReadFile(shard)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(shard, b[:len(b)/2], 0o644)
	for n := 1; n <= 3; n++ {
		if _, se, code := awdCmd(t, "sweep", "collect", dir); code != 1 || !strings.Contains(se, "job "+id+": ") || !strings.Contains(se, "1 jobs have no results") {
			t.Errorf("collect %d after the failed reduction: exit %d\n%s", n, code, se)
		}
	}
	if so, _, _ := awdCmd(t, "sweep", "status", dir); !strings.Contains(so, "failed  "+id) || !strings.Contains(so, "reduction failed") {
		t.Errorf("status:\n%s", so)
	}
	if _, se, code := awdCmd(t, "sweep", "run-job", dir, id+" shard 2/2"); code != 0 {
		t.Fatalf("shard 2/2 again: exit %d\n%s", code, se)
	}
	if _, se, code := awdCmd(t, "sweep", "collect", dir); code != 0 {
		t.Errorf("collect after the shard ran again: exit %d\n%s", code, se)
	}
	if md, _ := os.ReadFile(filepath.Join(dir, "tables", "table1.md")); !strings.Contains(string(md), "| mnist | mlp | 3 |") {
		t.Errorf("table1.md:\n%s", md)
	}
}

// TestCLISweepSlurmDryRun checks the scripts of a Slurm submission.
func TestCLISweepSlurmDryRun(t *testing.T) {
	cfg := writeSweep(t, strings.Replace(tinySweep, "local:", "slurm: {max_parallel: 3, partition: short, sbatch: [--account=lab]}\nlocal:", 1))
	so, se, code := awdCmd(t, "sweep", "--slurm", "--dry-run", cfg)
	if code != 0 || !strings.Contains(so, "array of 2 jobs (1 threads, 500M, 10; 2 at a time)") || !strings.Contains(so, "sbatch --parsable --dependency=afterok:$ARRAY1 ") ||
		!strings.Contains(so, "slurm.max_parallel 3: at most 3 tasks of this submission run at a time (tasks of earlier submissions still in Slurm come on top)\n") {
		t.Fatalf("dry run: exit %d\n%s%s", code, so, se)
	}
	sub := filepath.Join(filepath.Dir(cfg), "out", "slurm", "001")
	b, err := os.ReadFile(filepath.Join(sub, "array1.sbatch"))
	if err != nil {
		t.Fatal(err)
	}
	// max_parallel 3, of which its 2 tasks use 2.
	for _, want := range []string{"#SBATCH --array=0-1%2\n", "#SBATCH --partition=short\n", "#SBATCH --account=lab\n", "#SBATCH --mem=500M\n", "sweep run-job '"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("array1.sbatch lacks %q:\n%s", want, b)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(sub, "collect.sbatch")); !strings.Contains(string(b), " sweep collect '") {
		t.Errorf("collect.sbatch:\n%s", b)
	}
	// A damaged submission.json: the jobs of that submission are not
	// known to be queued, and the submission says so, as status does.
	os.WriteFile(filepath.Join(sub, "submission.json"), []byte(`{"schema_version": 1, "arr`), 0o644)
	so, se, code = awdCmd(t, "sweep", "--slurm", "--dry-run", cfg)
	if code != 0 || !strings.Contains(se, "note: submission "+sub+" skipped: ") || !strings.Contains(se, "submitted again") || !strings.Contains(so, "array of 2 jobs") {
		t.Errorf("dry run with a damaged submission: exit %d\n%s%s", code, so, se)
	}
}

// TestCLISweepBadInput checks that bad sweep files and flags end with one
// awd: line naming the file and line, and exit status 1.
func TestCLISweepBadInput(t *testing.T) {
	for _, tc := range []struct {
		name string
		args func(cfg string) []string
		src  string
		want string
	}{
		{"k>d", func(c string) []string { return []string{"sweep", c} }, strings.Replace(tinySweep, "k: 20", "k: 100", 1), "tiny.yaml:11: k 100 for K=3 exceeds d = 64 of layer fc2 (8x8)"},
		{"unknown", func(c string) []string { return []string{"sweep", c} }, strings.Replace(tinySweep, "epochs: 2", "epoch: 2", 1), `tiny.yaml:10: unknown setting "epoch"`},
		{"shards>pairs", func(c string) []string { return []string{"sweep", c} }, strings.Replace(tinySweep, "  - loss: [ce, mse]\n", "  - loss: [ce, mse]\n    shards: 12\n", 1),
			"tiny.yaml:15: cell 1 (loss ce, K=3): shards 12: the 180 samples (P*K) form 9 batch pairs of B = 10, so at most 9 shards"},
		{"dry-run", func(c string) []string { return []string{"sweep", "--dry-run", c} }, tinySweep, "--dry-run: only with --slurm"},
		{"no-folder", func(c string) []string { return []string{"sweep", "status", filepath.Dir(c)} }, tinySweep, "is not a sweep folder"},
		{"covs", func(c string) []string { return []string{"table", "--covs", "C,bogus", c} }, tinySweep, `--covs C,bogus: unknown covariance "bogus"`},
		{"missing", func(c string) []string { return []string{"sweep", c + ".nope"} }, tinySweep, "no such file"},
		{"covs-twice", func(c string) []string { return []string{"table", "--covs", "C,C", c} }, tinySweep, "--covs C,C: C given twice"},
		{"reset-no-job", func(c string) []string { return []string{"sweep", "reset", c} }, tinySweep, "sweep reset: name the jobs to reset: `awd sweep reset "},
		{"data-files", func(c string) []string { return []string{"sweep", c} }, strings.Replace(tinySweep, "  data: mnist\n", "  data: mnist\n  data_dir: .\n", 1),
			`tiny.yaml:6: data_dir ".": no train-images-idx3-ubyte(.gz) in `},
		{"workers", func(c string) []string { return []string{"sweep", "--workers", "1000000", c} }, tinySweep, "--workers 1000000: want 1..1024"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := writeSweep(t, tc.src)
			_, se, code := awdCmd(t, tc.args(cfg)...)
			lines := strings.Split(strings.TrimSpace(se), "\n")
			if code != 1 || len(lines) != 1 || !strings.HasPrefix(lines[0], "awd: ") || !strings.Contains(se, tc.want) {
				t.Errorf("exit %d, stderr:\n%s\nwant one awd: line with %q", code, se, tc.want)
			}
		})
	}
}

// TestCLISweepKilled kills a running sweep with SIGKILL (no chance to clean
// up): its job processes die with it, and the sweep started again skips
// the finished jobs and finishes the others.
func TestCLISweepKilled(t *testing.T) {
	src := strings.Replace(tinySweep, "local: {workers: 2}", "local: {workers: 1}", 1)
	cfg := writeSweep(t, src)
	dir := filepath.Join(filepath.Dir(cfg), "out")
	cmd := exec.Command(os.Args[0], "sweep", cfg)
	cmd.Env = append(os.Environ(), "AWD_CLI_MAIN=1")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Kill it once the first job is done and the second has started.
	deadline := time.Now().Add(2 * time.Minute)
	for {
		states, _ := filepath.Glob(filepath.Join(dir, "jobs", "*", "state.json"))
		done := 0
		for _, p := range states {
			if b, _ := os.ReadFile(p); strings.Contains(string(b), `"state": "done"`) {
				done++
			}
		}
		if done >= 1 {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatal("no job finished within 2 minutes")
		}
		time.Sleep(20 * time.Millisecond)
	}
	cmd.Process.Kill()
	cmd.Wait()
	// The job processes die with the sweep (their locks are released).
	time.Sleep(500 * time.Millisecond)
	so, _, _ := awdCmd(t, "sweep", "status", dir)
	if strings.Contains(so, "\nrunning ") {
		t.Errorf("a job still runs after its sweep was killed:\n%s", so)
	}
	_, se, code := awdCmd(t, "sweep", cfg)
	if code != 0 || !strings.Contains(se, "[2/2 done, 0 failed") {
		t.Fatalf("resumed sweep: exit %d\n%s", code, se)
	}
	m := regexp.MustCompile(`2 jobs, (\d) done, 0 running elsewhere, (\d) to run`).FindStringSubmatch(se)
	if m == nil || m[1] != "1" || m[2] != "1" {
		t.Errorf("the resumed sweep did not skip the finished jobs:\n%s", se)
	}
}

// TestCLISweepFileEdited: status, table and collect of a sweep file
// edited since the sweep was prepared show the folder's jobs, and say so
// (they silently showed the old grid as if it were the file's).
func TestCLISweepFileEdited(t *testing.T) {
	cfg := writeSweep(t, tinySweep)
	if _, se, code := awdCmd(t, "sweep", "--slurm", "--dry-run", cfg); code != 0 {
		t.Fatalf("prepare: exit %d\n%s", code, se)
	}
	if _, se, _ := awdCmd(t, "sweep", "status", cfg); strings.Contains(se, "was edited") {
		t.Errorf("status of the unedited file:\n%s", se)
	}
	os.WriteFile(cfg, []byte(strings.Replace(tinySweep, "seeds: [7]", "seeds: [7, 8]", 1)), 0o644)
	_, se, code := awdCmd(t, "sweep", "status", cfg)
	if code != 0 || !strings.Contains(se, "was edited since the sweep last ran (4 jobs in the file, 2 in ") {
		t.Errorf("status of the edited file: exit %d\n%s", code, se)
	}
}

// TestCLISweepStatusUnreadableJob: status of a sweep with a job.json
// missing lists that job as failed with the file and the remedy, and the
// other job beside it, with the exit status of a sweep with a failed job
// (0: status reports, collect fails).
func TestCLISweepStatusUnreadableJob(t *testing.T) {
	cfg := writeSweep(t, tinySweep)
	dir := filepath.Join(filepath.Dir(cfg), "out")
	if _, se, code := awdCmd(t, "sweep", "--slurm", "--dry-run", cfg); code != 0 {
		t.Fatalf("prepare: exit %d\n%s", code, se)
	}
	jobs, _ := filepath.Glob(filepath.Join(dir, "jobs", "*-ce-*", "job.json"))
	if len(jobs) != 1 {
		t.Fatalf("job.json of the CE job: %v", jobs)
	}
	os.Remove(jobs[0])
	so, se, code := awdCmd(t, "sweep", "status", dir)
	if code != 0 || !strings.Contains(so, jobs[0]+" is missing; `awd sweep CONFIG`") || !strings.Contains(so, "\npending  mnist-mlp-mse-") || !strings.Contains(so, "tiny: 2 jobs: 1 failed, 1 pending") {
		t.Errorf("status: exit %d\n%s%s", code, so, se)
	}
}

// TestCLISweepStaleFigures: after the sweep file drops a configuration,
// the next collect removes the figures it drew of it (they read as
// current beside the others), and keeps a file the sweep did not write.
func TestCLISweepStaleFigures(t *testing.T) {
	cfg := writeSweep(t, tinySweep)
	figs := filepath.Join(filepath.Dir(cfg), "out", "tables", "figures")
	if _, se, code := awdCmd(t, "sweep", cfg); code != 0 {
		t.Fatalf("sweep: exit %d\n%s", code, se)
	}
	mine := filepath.Join(figs, "gamma_epochs_mnist-mlp-mae-k3.png")
	os.WriteFile(mine, []byte("not the sweep's"), 0o644)
	os.WriteFile(cfg, []byte(strings.Replace(tinySweep, "loss: [ce, mse]", "loss: ce", 1)), 0o644)
	if _, se, code := awdCmd(t, "sweep", cfg); code != 0 {
		t.Fatalf("sweep of the edited file: exit %d\n%s", code, se)
	}
	for _, f := range []string{"gamma_epochs_mnist-mlp-mse-k3.png", "gamma_epochs_mnist-mlp-mse-k3.svg"} {
		if _, err := os.Stat(filepath.Join(figs, f)); err == nil {
			t.Errorf("%s of the configuration gone is still there", f)
		}
	}
	for _, f := range []string{"gamma_epochs_mnist-mlp-ce-k3.png", "gamma_epochs_mnist-mlp-ce-k3.svg", filepath.Base(mine)} {
		if _, err := os.Stat(filepath.Join(figs, f)); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}

// TestCLISweepCollectUnreadableJob: collect of a sweep whose MSE job has
// its job.json missing, then damaged, writes the tables and figures of the
// CE job, keeps the MSE job's figures (its configuration is unknown, not
// gone) and exits 1 naming the file and what writes it anew; once `awd
// sweep CONFIG` has written it anew, collect exits 0.
func TestCLISweepCollectUnreadableJob(t *testing.T) {
	cfg := writeSweep(t, tinySweep)
	dir := filepath.Join(filepath.Dir(cfg), "out")
	if _, se, code := awdCmd(t, "sweep", cfg); code != 0 {
		t.Fatalf("sweep: exit %d\n%s", code, se)
	}
	jobs, _ := filepath.Glob(filepath.Join(dir, "jobs", "*-mse-*", "job.json"))
	if len(jobs) != 1 {
		t.Fatalf("job.json of the MSE job: %v", jobs)
	}
	record, id := jobs[0], filepath.Base(filepath.Dir(jobs[0]))
	figs := filepath.Join(dir, "tables", "figures")
	table := filepath.Join(dir, "tables", "table1.md")
	for _, tc := range []struct {
		name, want string
		spoil      func()
	}{
		{"missing", record + " is missing; `awd sweep CONFIG` (the sweep's config file) writes it", func() { os.Remove(record) }},
		{"damaged", record + ": not valid JSON (damaged): unexpected end of JSON input; `awd sweep CONFIG` (the sweep's config file) writes it anew", func() { os.WriteFile(record, []byte("{"), 0o644) }},
	} {
		tc.spoil()
		os.Remove(table)
		so, se, code := awdCmd(t, "sweep", "collect", dir)
		if code != 1 || !strings.Contains(se, "1 jobs have no results") || !strings.Contains(se, "job "+id+": failed: "+tc.want) || !strings.Contains(so, table) {
			t.Errorf("%s: collect: exit %d\n%s%s", tc.name, code, so, se)
		}
		md, err := os.ReadFile(table)
		if err != nil || !strings.Contains(string(md), "gamma(C) CE") || !strings.Contains(string(md), "- "+id+": failed: "+tc.want+", left out") {
			t.Errorf("%s: table1.md: %v\n%s", tc.name, err, md)
		}
		// awd table of the sweep tabulates the others, with the same note.
		if so, se, code := awdCmd(t, "table", dir); code != 0 || !strings.Contains(so, "gamma(C) CE") || !strings.Contains(se, "note: "+id+": failed: "+tc.want+", left out") {
			t.Errorf("%s: table: exit %d\n%s%s", tc.name, code, so, se)
		}
		for _, f := range []string{"gamma_epochs_mnist-mlp-ce-k3.png", "gamma_epochs_mnist-mlp-mse-k3.png", "gamma_epochs_mnist-mlp-mse-k3.svg"} {
			if _, err := os.Stat(filepath.Join(figs, f)); err != nil {
				t.Errorf("%s: %v", tc.name, err)
			}
		}
	}
	if _, se, code := awdCmd(t, "sweep", cfg); code != 0 {
		t.Fatalf("sweep writing job.json anew: exit %d\n%s", code, se)
	}
	if _, se, code := awdCmd(t, "sweep", "collect", dir); code != 0 {
		t.Errorf("collect after job.json was written anew: exit %d\n%s", code, se)
	}
}

// TestCLISweepNotRunYet: status, collect, reset and table of a sweep file
// whose sweep has not run say so and name the command that runs it
// (they said only that its folder was no sweep folder).
func TestCLISweepNotRunYet(t *testing.T) {
	cfg := writeSweep(t, tinySweep)
	for _, args := range [][]string{{"sweep", "status", cfg}, {"sweep", "collect", cfg}, {"sweep", "reset", cfg, "x"}, {"table", cfg}} {
		_, se, code := awdCmd(t, args...)
		if want := "has not run yet"; code == 0 || !strings.Contains(se, want) || !strings.Contains(se, "`awd sweep "+cfg+"` prepares and runs it") {
			t.Errorf("%v: exit %d, want 1 with %q and the command:\n%s", args, code, want, se)
		}
	}
}

// TestCLISweepWorkersNotWithSlurm: --workers, which only a local sweep
// reads, is refused with --slurm instead of being ignored.
func TestCLISweepWorkersNotWithSlurm(t *testing.T) {
	cfg := writeSweep(t, tinySweep)
	_, se, code := awdCmd(t, "sweep", "--slurm", "--dry-run", "--workers", "3", cfg)
	if code == 0 || !strings.Contains(se, "--workers: only without --slurm") {
		t.Errorf("exit %d, want 1 naming --workers:\n%s", code, se)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(cfg), "out", "slurm")); err == nil {
		t.Error("the refused submission wrote its scripts")
	}
}

// TestGoRunBinary: the binaries of go run, the temporary one (deleted when
// it exits) and the one in Go's build cache, are told from installed ones;
// `awd sweep --slurm` refuses the first as the tasks' binary and notes the
// second.
func TestGoRunBinary(t *testing.T) {
	for path, want := range map[string]int{
		"/tmp/go-build2779326594/b001/exe/awd": goRunTemp,
		"/root/.cache/go-build/02/02843149c1f773d10c03d00c2cef1c03f8665f5cfe78bfc6b2b6c2e58dd5cf81-d/awd": goRunCached,
		"/home/u/bin/awd":                goRunNot,
		"/tmp/go-build123/b001/awd.test": goRunNot, // go test's binary
		"/opt/exe/awd":                   goRunNot,
		"/cache/02/not-a-hash-d/awd":     goRunNot,
	} {
		if got := goRunBinary(path); got != want {
			t.Errorf("%s: %d, want %d", path, got, want)
		}
	}
}

// TestCLISweepSlurmRefusesGoRunBinary: run as go run's temporary build,
// `awd sweep --slurm --dry-run` is refused (the tasks would exec a deleted
// file) unless slurm.awd names the binary.
func TestCLISweepSlurmRefusesGoRunBinary(t *testing.T) {
	exe := filepath.Join(t.TempDir(), "go-build123", "b001", "exe", "awd")
	if err := os.MkdirAll(filepath.Dir(exe), 0o755); err != nil {
		t.Fatal(err)
	}
	self, err := os.ReadFile(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(exe, self, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		src  string
		want string
		code int
	}{
		{tinySweep, "is go run's temporary build, deleted when it exits", 1},
		{tinySweep + "slurm: {awd: /opt/awd/bin/awd}\n", "", 0},
	} {
		cmd := exec.Command(exe, "sweep", "--slurm", "--dry-run", writeSweep(t, tc.src))
		cmd.Env = append(os.Environ(), "AWD_CLI_MAIN=1")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		}
		if code != tc.code || !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("exit %d, stderr:\n%s\nwant exit %d with %q", code, stderr.String(), tc.code, tc.want)
		}
	}
}
