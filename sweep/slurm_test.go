//go:build slurm

// The Slurm tests need a running cluster (SLURM_CONF): scripts/test-slurm.sh
// starts a one-node cluster on this machine and runs them with -tags slurm.

package sweep

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// waitQueue polls squeue until none of the job ids is queued or running
// (a dependent job that can never run is cancelled), or the time is up.
func waitQueue(t *testing.T, limit time.Duration, ids ...string) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		out, err := exec.Command("squeue", "-h", "-j", strings.Join(ids, ","), "-o", "%i %T %r").CombinedOutput()
		if err != nil && !bytes.Contains(out, []byte("Invalid job id")) {
			t.Fatalf("squeue: %v\n%s", err, out)
		}
		lines := strings.Fields(strings.TrimSpace(string(out)))
		if len(lines) == 0 || err != nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("jobs %v still queued after %v:\n%s", ids, limit, out)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestSlurmArrayAndCollect submits a sweep of 8 jobs as a job array with a
// dependent collect job on a real (local) Slurm, with one job failing: the
// array's other tasks finish, the collect job never runs (afterok) and the
// status names the failed job and its Slurm log. Submitted again, only the
// failed job runs, and the collect job writes the tables.
func TestSlurmArrayAndCollect(t *testing.T) {
	if os.Getenv("SLURM_CONF") == "" {
		t.Fatal("SLURM_CONF is not set: run scripts/test-slurm.sh")
	}
	// A folder with a blank, a quote and '#' in its path: sbatch reads the
	// #SBATCH lines' paths whole only escaped (sbatchOutput).
	parent := filepath.Join(t.TempDir(), "it's a #sweep")
	if err := os.MkdirAll(parent, 0o755); err != nil {
		t.Fatal(err)
	}
	s, err := prepareAt(filepath.Join(parent, "s.yaml"), minimal)
	if err != nil {
		t.Fatal(err)
	}
	bad := s.Jobs[2].ID
	t.Setenv("SWEEP_TEST_JOB", "1") // sbatch passes the environment on to the tasks
	t.Setenv("SWEEP_TEST_FAIL", bad)
	opt := SlurmOptions{Awd: os.Args[0], MaxParallel: 4}
	sub, err := WriteSlurm(s, s.Jobs, opt)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(sub.Dir, "it's a #sweep") {
		t.Fatalf("submission folder %s", sub.Dir)
	}
	script, _ := os.ReadFile(sub.Arrays[0].Script)
	for _, want := range []string{"#SBATCH --array=0-7%4\n", "#SBATCH --cpus-per-task=1\n", "#SBATCH --mem=4G\n", "#SBATCH --time=4:00:00\n", " sweep run-job "} {
		if !bytes.Contains(script, []byte(want)) {
			t.Errorf("array script lacks %q:\n%s", want, script)
		}
	}
	ctx := context.Background()
	// The local node has less memory than the default 4G per task on some
	// machines: ask for 100M.
	for i := range sub.Arrays {
		b, _ := os.ReadFile(sub.Arrays[i].Script)
		os.WriteFile(sub.Arrays[i].Script, bytes.Replace(b, []byte("--mem=4G"), []byte("--mem=100M"), 1), 0o755)
	}
	if err := Submit(ctx, sub, "sbatch"); err != nil {
		t.Fatal(err)
	}
	waitQueue(t, 60*time.Second, sub.Arrays[0].ID)
	// The collect job waits on a dependency that can never be met.
	var out []byte
	for end := time.Now().Add(15 * time.Second); time.Now().Before(end); time.Sleep(200 * time.Millisecond) {
		out, _ = exec.Command("squeue", "-h", "-j", sub.CollectID, "-o", "%T %r").CombinedOutput()
		if strings.Contains(string(out), "DependencyNeverSatisfied") {
			break
		}
	}
	if !strings.Contains(string(out), "PENDING DependencyNeverSatisfied") {
		t.Errorf("collect job after a failed task: %q, want PENDING DependencyNeverSatisfied", out)
	}
	exec.Command("scancel", sub.CollectID).Run()
	c := Count(s.Statuses())
	if c[StateDone] != 7 || c[StateFailed] != 1 {
		t.Fatalf("after the first array: %v", c)
	}
	// With several nodes, the tasks spread over them.
	nodes := map[string]bool{}
	for _, st := range s.Statuses() {
		nodes[st.Record.Node] = true
	}
	if info, _ := exec.Command("sinfo", "-h", "-N", "-o", "%N").Output(); len(strings.Fields(string(info))) != len(nodes) {
		t.Errorf("tasks ran on nodes %v; the cluster has %s", nodes, strings.Fields(string(info)))
	}
	var st bytes.Buffer
	if err := WriteStatus(&st, s, false); err != nil {
		t.Fatal(err)
	}
	wantLog := filepath.Join(sub.Dir, "array1-"+sub.Arrays[0].ID+"_2.out")
	if _, err := os.Stat(wantLog); err != nil {
		t.Errorf("Slurm's task log is not where the script says: %v", err)
	}
	if !strings.Contains(st.String(), "failed  "+bad) || !strings.Contains(st.String(), "(Slurm: "+wantLog+")") ||
		!strings.Contains(st.String(), "loss is NaN at epoch 3") {
		t.Errorf("status:\n%s", st.String())
	}
	if _, err := os.Stat(filepath.Join(s.Dir, TablesDir)); err == nil {
		t.Error("the collect job ran although a task failed")
	}

	// Resubmit what is not done: only the failed job.
	t.Setenv("SWEEP_TEST_FAIL", "")
	var todo []*Job
	for _, st := range s.Statuses() {
		if st.State != StateDone {
			todo = append(todo, st.Job)
		}
	}
	sub2, err := WriteSlurm(s, todo, opt)
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(sub2.Dir) != "002" || len(sub2.Arrays) != 1 || len(sub2.Arrays[0].Jobs) != 1 {
		t.Fatalf("resubmission: %s, %+v", sub2.Dir, sub2.Arrays)
	}
	for i := range sub2.Arrays {
		b, _ := os.ReadFile(sub2.Arrays[i].Script)
		os.WriteFile(sub2.Arrays[i].Script, bytes.Replace(b, []byte("--mem=4G"), []byte("--mem=100M"), 1), 0o755)
	}
	if err := Submit(ctx, sub2, "sbatch"); err != nil {
		t.Fatal(err)
	}
	waitQueue(t, 60*time.Second, sub2.Arrays[0].ID, sub2.CollectID)
	if c := Count(s.Statuses()); c[StateDone] != 8 {
		t.Fatalf("after the resubmission: %v", c)
	}
	md, err := os.ReadFile(filepath.Join(s.Dir, TablesDir, "table1.md"))
	if err != nil {
		t.Fatalf("the collect job wrote no table: %v", err)
	}
	if !strings.Contains(string(md), "| mnist | mlp | 2 |") || strings.Contains(string(md), "Left out") {
		t.Errorf("table1.md:\n%s", md)
	}
	if starts(t, s)[bad] != 2 {
		t.Errorf("the failed job ran %d times, want 2", starts(t, s)[bad])
	}
}
