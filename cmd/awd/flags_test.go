package main

import (
	"strings"
	"testing"
)

// TestFlagBadValues gives every checked flag of every command values
// outside its range and checks that the command stops before any work with
// exit status 1 and one line naming the flag (never a stack trace).
func TestFlagBadValues(t *testing.T) {
	bad := map[string][]string{
		"per-class": {"-1"}, "head": {"-2"}, "epochs": {"0", "-3"}, "batch": {"0"}, "lr": {"0", "-1", "NaN", "Inf", "1e308"},
		"t-max": {"-1"}, "clip": {"-1", "NaN"}, "stop-loss": {"-1", "NaN"}, "k": {"1", "-5"}, "corr-k": {"-5", "0", "5000"},
		"rho-block": {"-1", "400"}, "tau": {"2", "-1", "0", "NaN"}, "tail-eps": {"-1", "2", "NaN"}, "nonstiff-eps": {"-1", "NaN"},
		"classes": {"1", "11", "0,x", "0,0", "3,12", "0,,1", "0,1,"}, "widths": {"8,x"}, "checkpoints": {"x"}, "analyze-at": {"0", "99", "x"},
		"data": {"imagenet"}, "model": {"resnet"}, "loss": {"hinge"}, "mem": {"lots", "-1GiB"}, "suppress": {"rank2"},
		"out": {""},
	}
	commands := map[string][]string{
		"run":     concat(dataFlags, modelFlags, trainFlags, []string{"analyze-at"}, analysisFlags, outFlags),
		"train":   concat(dataFlags, modelFlags, trainFlags, outFlags),
		"analyze": concat(dataFlags, []string{"loss", "batch"}, analysisFlags, outFlags),
	}
	base := map[string][]string{"run": {"run", "--epochs", "4"}, "train": {"train", "--epochs", "4"}, "analyze": {"analyze", "none.npz"}}
	n := 0
	for cmd, flags := range commands {
		for _, f := range flags {
			for _, v := range bad[f] {
				n++
				args := append(append([]string(nil), base[cmd]...), "--"+f, v, "--quiet", "--out", t.TempDir())
				if f == "out" {
					args = append(args[:len(args)-2], "--out", v)
				}
				_, se, code := awdCmd(t, args...)
				lines := strings.Split(strings.TrimSpace(se), "\n")
				want := "--" + f
				if f == "suppress" || f == "mem" {
					want = f
				}
				if code != 1 || len(lines) != 1 || !strings.HasPrefix(lines[0], "awd: ") || !strings.Contains(se, want) {
					t.Errorf("awd %s --%s %q: exit %d, stderr %q; want one line naming %s", cmd, f, v, code, se, want)
				}
			}
		}
	}
	if n < 50 {
		t.Fatalf("only %d cases", n)
	}
}
