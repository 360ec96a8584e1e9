//go:build slurm

// Needs a running Slurm (SLURM_CONF): scripts/test-slurm.sh starts one on
// this machine and runs these tests with -tags slurm.

package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestCLISweepSlurm submits the tiny sweep with `awd sweep --slurm` to a
// real Slurm, polls squeue until the array and the collect job are gone,
// and checks that every job is done and the collect job wrote the tables.
func TestCLISweepSlurm(t *testing.T) {
	t.Run("plain", func(t *testing.T) { sweepSlurm(t, tinySweep, "") })
	// Sharded jobs: a training array, an array of analysis shards after it,
	// the reduction in the collect job.
	t.Run("sharded", func(t *testing.T) {
		sweepSlurm(t, strings.Replace(tinySweep, "  - loss: [ce, mse]\n", "  - loss: [ce, mse]\n    shards: 2\n", 1), "array of 2 analysis shards of mnist-mlp-ce-K3-s7-")
	})
}

func sweepSlurm(t *testing.T, src, wantOut string) {
	if os.Getenv("SLURM_CONF") == "" {
		t.Fatal("SLURM_CONF is not set: run scripts/test-slurm.sh")
	}
	cfg := writeSweep(t, src)
	dir := filepath.Join(filepath.Dir(cfg), "out")
	so, se, code := awdCmd(t, "sweep", "--slurm", cfg)
	if code != 0 {
		t.Fatalf("sweep --slurm: exit %d\n%s%s", code, so, se)
	}
	m := regexp.MustCompile(`submitted: array job ([\d, ]+), collect job (\d+)`).FindStringSubmatch(so)
	if m == nil || !strings.Contains(so, wantOut) {
		t.Fatalf("no job ids or no %q in:\n%s", wantOut, so)
	}
	m[1] = strings.ReplaceAll(m[1], " ", "")
	deadline := time.Now().Add(2 * time.Minute)
	for {
		out, err := exec.Command("squeue", "-h", "-j", m[1]+","+m[2], "-o", "%i %T %r").Output()
		if err != nil || strings.TrimSpace(string(out)) == "" {
			break
		}
		if time.Now().After(deadline) {
			exec.Command("scancel", m[1]+","+m[2]).Run()
			t.Fatalf("still queued after 2 minutes:\n%s", out)
		}
		time.Sleep(250 * time.Millisecond)
	}
	so, _, _ = awdCmd(t, "sweep", "status", dir)
	if !strings.Contains(so, "tiny: 2 jobs: 2 done") || !strings.Contains(so, "(Slurm: ") {
		t.Errorf("status:\n%s", so)
	}
	md, err := os.ReadFile(filepath.Join(dir, "tables", "table1.md"))
	if err != nil || !strings.Contains(string(md), "| mnist | mlp | 3 |") {
		t.Errorf("the collect job's table1.md: %v\n%s", err, md)
	}
	// Nothing left to submit.
	if so, _, code := awdCmd(t, "sweep", "--slurm", cfg); code != 0 || !strings.Contains(so, "nothing to submit") {
		t.Errorf("second submission: exit %d\n%s", code, so)
	}
}

// TestCLIShardsSlurm runs a sharded analysis through Slurm: a job array of
// three `awd analyze --shard i/3` tasks and an `awd reduce` job that
// depends on it (afterok), and checks the result against the unsharded
// analysis.
func TestCLIShardsSlurm(t *testing.T) {
	if os.Getenv("SLURM_CONF") == "" {
		t.Fatal("SLURM_CONF is not set: run scripts/test-slurm.sh")
	}
	dir := shardFixture(t)
	ck := filepath.Join(dir, "t", "final.npz")
	if _, se, code := awdCmd(t, "analyze", ck, "--k", "30", "--out", filepath.Join(dir, "full"), "--quiet"); code != 0 {
		t.Fatalf("analyze: %s", se)
	}
	t.Setenv("AWD_CLI_MAIN", "1") // the tasks run this test binary as awd
	self := os.Args[0]
	array := exec.Command("sbatch", "--parsable", "--array=0-2", "--mem=200M", "--output="+filepath.Join(dir, "shard-%a.out"),
		"--wrap", fmt.Sprintf(`i=$((SLURM_ARRAY_TASK_ID+1)); exec %q analyze %q --k 30 --shard $i/3 --out %q/s$i --quiet`, self, ck, dir))
	out, err := array.CombinedOutput()
	if err != nil {
		t.Fatalf("sbatch array: %v\n%s", err, out)
	}
	aid := strings.TrimSpace(string(out))
	reduce := exec.Command("sbatch", "--parsable", "--dependency=afterok:"+aid, "--mem=200M", "--output="+filepath.Join(dir, "reduce.out"),
		"--wrap", fmt.Sprintf(`exec %q reduce %q/s1/shard_1_of_3.acc %q/s2/shard_2_of_3.acc %q/s3/shard_3_of_3.acc --out %q/red --quiet`, self, dir, dir, dir, dir))
	out, err = reduce.CombinedOutput()
	if err != nil {
		t.Fatalf("sbatch reduce: %v\n%s", err, out)
	}
	rid := strings.TrimSpace(string(out))
	deadline := time.Now().Add(2 * time.Minute)
	for {
		q, err := exec.Command("squeue", "-h", "-j", aid+","+rid, "-o", "%i %T %r").Output()
		if err != nil || strings.TrimSpace(string(q)) == "" {
			break
		}
		if time.Now().After(deadline) {
			exec.Command("scancel", aid, rid).Run()
			t.Fatalf("still queued after 2 minutes:\n%s", q)
		}
		time.Sleep(250 * time.Millisecond)
	}
	if _, err := os.Stat(filepath.Join(dir, "red", "results.json")); err != nil {
		b, _ := os.ReadFile(filepath.Join(dir, "reduce.out"))
		t.Fatalf("the reduce job wrote nothing: %v\n%s", err, b)
	}
	sameAnalysis(t, filepath.Join(dir, "full", "results.json"), filepath.Join(dir, "red", "results.json"), 1e-12)
}
