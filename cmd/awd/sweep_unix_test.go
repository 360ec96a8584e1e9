//go:build unix

package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestCLISweepSlurmQueued submits with stand-ins for sbatch and squeue on
// PATH: a second submission leaves out the jobs Slurm still holds, and a
// Slurm task whose job another process runs exits 0 (its dependents
// still run) with a line saying so.
func TestCLISweepSlurmQueued(t *testing.T) {
	cfg := writeSweep(t, tinySweep)
	dir := filepath.Join(filepath.Dir(cfg), "out")
	bin := t.TempDir()
	queue := filepath.Join(bin, "queue")
	scripts := map[string]string{
		"sbatch": "#!/bin/sh\nn=$(cat " + bin + "/n 2>/dev/null || echo 100)\nn=$((n+1))\necho $n > " + bin + "/n\necho $n\n",
		"squeue": "#!/bin/sh\ncat " + queue + " 2>/dev/null\n",
	}
	for name, src := range scripts {
		if err := os.WriteFile(filepath.Join(bin, name), []byte(src), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	env := []string{"PATH=" + bin + string(os.PathListSeparator) + os.Getenv("PATH")}
	so, se, code := awdEnv(t, env, "sweep", "--slurm", cfg)
	if code != 0 || !strings.Contains(so, "array of 2 jobs") || !strings.Contains(so, "submitted: array job 101, collect job 102") {
		t.Fatalf("first submission: exit %d\n%s%s", code, so, se)
	}
	// Task 0 of array 101 still pending: only the other job goes again.
	os.WriteFile(queue, []byte("101 0 PENDING\n"), 0o644)
	so, se, code = awdEnv(t, env, "sweep", "--slurm", cfg)
	if code != 0 || !strings.Contains(so, "1 jobs still queued in Slurm are not submitted again") || !strings.Contains(so, "array of 1 jobs") {
		t.Fatalf("second submission: exit %d\n%s%s", code, so, se)
	}
	os.WriteFile(queue, []byte("101 0 RUNNING\n103 0 PENDING\n"), 0o644)
	so, se, code = awdEnv(t, env, "sweep", "--slurm", cfg)
	if code != 0 || !strings.Contains(so, "nothing to submit (2 jobs, 0 running, 2 queued in Slurm)") {
		t.Errorf("third submission: exit %d\n%s%s", code, so, se)
	}

	// A duplicate task: the job's lock is held by another process.
	tasks := filepath.Join(dir, "slurm", "001", "tasks1.txt")
	b, err := os.ReadFile(tasks)
	if err != nil {
		t.Fatal(err)
	}
	id, _, _ := strings.Cut(string(b), "\n")
	defer holdJobLock(t, dir, id).Close()
	_, se, code = awdEnv(t, append(env, "SLURM_ARRAY_JOB_ID=101", "SLURM_ARRAY_TASK_ID=0"), "sweep", "run-job", dir, "--tasks", tasks)
	if code != 0 || !strings.Contains(se, "task "+id+", Slurm 101_0: job "+id+": job is running in another process; left to that process") {
		t.Errorf("duplicate task: exit %d\n%s", code, se)
	}
	if _, err := os.Stat(filepath.Join(dir, "jobs", id, "run", "results.json")); err == nil {
		t.Error("the duplicate task ran the job")
	}
}

// TestCLISweepJobElsewhere: a local sweep one of whose jobs another
// process holds runs the others, writes the tables and exits 0, saying
// that the job runs elsewhere and that the tables leave it out.
func TestCLISweepJobElsewhere(t *testing.T) {
	cfg := writeSweep(t, tinySweep)
	dir := filepath.Join(filepath.Dir(cfg), "out")
	so, se, code := awdCmd(t, "sweep", "--slurm", "--dry-run", cfg)
	if code != 0 {
		t.Fatalf("dry run: exit %d\n%s%s", code, so, se)
	}
	entries, err := os.ReadDir(filepath.Join(dir, "jobs"))
	if err != nil || len(entries) != 2 {
		t.Fatalf("jobs: %v %v", entries, err)
	}
	id := entries[0].Name()
	defer holdJobLock(t, dir, id).Close()
	_, se, code = awdCmd(t, "sweep", cfg)
	if code != 0 || !strings.Contains(se, "1 jobs are running in other processes") || !strings.Contains(se, "tables and figures: ") || !strings.Contains(se, "job "+id+": running") {
		t.Errorf("exit %d\n%s", code, se)
	}
}

// holdJobLock takes job id's lock in sweep dir, as another process running
// the job holds it; Close releases it.
func holdJobLock(t *testing.T, dir, id string) *os.File {
	t.Helper()
	lk, err := os.OpenFile(filepath.Join(dir, "jobs", id, ".lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Flock(int(lk.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		lk.Close()
		t.Fatal(err)
	}
	return lk
}
