package main

import (
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"
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

// TestFlagHelpStatesRange: the help line of every flag with a checked
// range states that range, and the check agrees with it at its ends: the
// value just outside is refused, naming the flag, and the end itself is
// taken.
func TestFlagHelpStatesRange(t *testing.T) {
	cases := []struct {
		flag, says string
		refused    []string
		taken      []string
		with       []string
	}{
		{"epochs", "at least 1", []string{"0"}, []string{"1"}, nil},
		{"batch", "at least 1", []string{"0"}, []string{"1"}, nil},
		{"lr", "in (0, 1e6]", []string{"0", "1.000001e6"}, []string{"1e6", "1e-9"}, nil},
		{"clip", "at least 0", []string{"-1e-9"}, []string{"0"}, nil},
		{"stop-loss", "at least 0", []string{"-1e-9"}, []string{"0"}, nil},
		{"t-max", "at least 0", []string{"-1"}, []string{"0"}, nil},
		{"k", "2 to the layer's d", []string{"1"}, []string{"2"}, []string{"--corr-k", "1", "--rho-block", "0"}},
		{"corr-k", "1 to --k", []string{"0", "301"}, []string{"1", "300"}, nil},
		{"tau", "in (0, 1]", []string{"0", "1.01"}, []string{"1", "1e-9"}, nil},
		{"tail-eps", "in [0, 1]", []string{"-1e-9", "1.01"}, []string{"0", "1"}, nil},
		{"nonstiff-eps", "in [0, 1]", []string{"-1e-9", "1.01"}, []string{"0", "1"}, nil},
		{"bootstrap", "at least 0", []string{"-1"}, []string{"0", "5"}, nil},
		{"bootstrap-groups", "at least 2", []string{"1"}, []string{"2"}, []string{"--bootstrap", "5"}},
		{"bootstrap-level", "in (0, 1)", []string{"1", "-0.5"}, []string{"0.5", "0.999"}, []string{"--bootstrap", "5"}},
		{"ml-reps", "at least 0", []string{"-1"}, []string{"0"}, nil},
	}
	run := func(args ...string) error {
		var o options
		cmd := &cobra.Command{Use: "run", RunE: func(*cobra.Command, []string) error { return nil }}
		addFlags(cmd, &o, nil, concat(dataFlags, modelFlags, trainFlags, []string{"analyze-at"}, analysisFlags, outFlags)...)
		if err := cmd.ParseFlags(args); err != nil {
			return err
		}
		if err := cmd.PreRunE(cmd, nil); err != nil {
			return err
		}
		if _, err := o.analysisConfig("ce", 50); err != nil {
			return flagError(err)
		}
		return nil
	}
	for _, c := range cases {
		if u := flagTable[c.flag].usage; !strings.Contains(u, c.says) {
			t.Errorf("--%s: the help line %q does not say %q", c.flag, u, c.says)
		}
		for _, v := range c.refused {
			if err := run(append(slices.Clone(c.with), "--"+c.flag, v)...); err == nil || !strings.Contains(err.Error(), "--"+c.flag) {
				t.Errorf("--%s %s (help: %s): error %v; want a refusal naming --%s", c.flag, v, c.says, err, c.flag)
			}
		}
		for _, v := range c.taken {
			if err := run(append(slices.Clone(c.with), "--"+c.flag, v)...); err != nil {
				t.Errorf("--%s %s (help: %s): refused: %v", c.flag, v, c.says, err)
			}
		}
	}
}
