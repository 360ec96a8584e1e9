//go:build slurm

// Needs a running Slurm (SLURM_CONF): scripts/test-slurm.sh starts one on
// this machine and runs these tests with -tags slurm.

package main

import (
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
	if os.Getenv("SLURM_CONF") == "" {
		t.Fatal("SLURM_CONF is not set: run scripts/test-slurm.sh")
	}
	cfg := writeSweep(t, tinySweep)
	dir := filepath.Join(filepath.Dir(cfg), "out")
	so, se, code := awdCmd(t, "sweep", "--slurm", cfg)
	if code != 0 {
		t.Fatalf("sweep --slurm: exit %d\n%s%s", code, so, se)
	}
	m := regexp.MustCompile(`submitted: array job (\d+), collect job (\d+)`).FindStringSubmatch(so)
	if m == nil {
		t.Fatalf("no job ids in:\n%s", so)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		out, err := exec.Command("squeue", "-h", "-j", m[1]+","+m[2], "-o", "%i %T %r").Output()
		if err != nil || strings.TrimSpace(string(out)) == "" {
			break
		}
		if time.Now().After(deadline) {
			exec.Command("scancel", m[1], m[2]).Run()
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
