package main

import (
	"strings"
	"testing"
)

// TestArgCountSaysUsage gives every command too few or too many arguments
// and checks the one line: it names the command, what it takes, what was
// given and the usage line to follow, with exit status 1.
func TestArgCountSaysUsage(t *testing.T) {
	cases := []struct {
		args []string
		want []string
	}{
		{[]string{"analyze"}, []string{"analyze takes one argument, CHECKPOINT.npz, none given", "usage: awd analyze CHECKPOINT.npz [flags]"}},
		{[]string{"analyze", "a.npz", "b.npz"}, []string{"2 given (\"a.npz\" \"b.npz\")", "usage: awd analyze CHECKPOINT.npz"}},
		{[]string{"plot"}, []string{"plot takes one argument, RESULTS.json, none given", "usage: awd plot RESULTS.json"}},
		{[]string{"reduce"}, []string{"reduce takes at least one argument, SHARD.acc..., none given", "usage: awd reduce SHARD.acc..."}},
		{[]string{"table"}, []string{"table takes at least one argument", "usage: awd table SWEEP | RESULTS.json..."}},
		{[]string{"sweep"}, []string{"sweep takes one argument, CONFIG.yaml", "awd sweep COMMAND (collect, reset, status)"}},
		{[]string{"sweep", "status"}, []string{"sweep status takes one argument, SWEEP", "usage: awd sweep status SWEEP"}},
		{[]string{"sweep", "collect"}, []string{"sweep collect takes one argument, SWEEP"}},
		{[]string{"sweep", "run-job", "a", "b", "c"}, []string{"sweep run-job takes 1 or 2 arguments, SWEEP [JOB], 3 given"}},
		{[]string{"run", "extra"}, []string{"run takes no arguments, 1 given (\"extra\")", "usage: awd run [flags]"}},
		{[]string{"train", "x"}, []string{"train takes no arguments", "usage: awd train [flags]"}},
		{[]string{"version", "x"}, []string{"version takes no arguments"}},
		{[]string{"bench", "gemmm"}, []string{"bench takes no arguments, 1 given (\"gemmm\")", "awd bench COMMAND (cnn, eig, gemm, scaling, sgemm, syrk)"}},
	}
	for _, c := range cases {
		_, se, code := awdCmd(t, c.args...)
		lines := strings.Split(strings.TrimSpace(se), "\n")
		if code != 1 || len(lines) != 1 || !strings.HasPrefix(se, "awd: ") || strings.Contains(se, "arg(s)") {
			t.Errorf("awd %s: exit %d, stderr %q; want one line 'awd: ...' and exit 1", strings.Join(c.args, " "), code, se)
			continue
		}
		for _, w := range append(c.want, "--help says more") {
			if !strings.Contains(se, w) {
				t.Errorf("awd %s: %q does not say %q", strings.Join(c.args, " "), se, w)
			}
		}
	}
}

// TestFlagParseErrorsSayWhatFlagTakes gives flags values of the wrong type,
// no value, and flags a command does not have: the one line names the
// flag and value, what the flag takes and where the flags are listed,
// with no Go parser's wording.
func TestFlagParseErrorsSayWhatFlagTakes(t *testing.T) {
	cases := []struct {
		args []string
		want []string
	}{
		{[]string{"run", "--seed", "-1"}, []string{`--seed "-1": want a whole number, 0 or more (default 1;`, "awd run --help"}},
		{[]string{"run", "--data-seed", "x"}, []string{`--data-seed "x": want a whole number, 0 or more`}},
		{[]string{"train", "--lr", "abc"}, []string{`--lr "abc": want a number`, "default 0.1", "awd train --help"}},
		{[]string{"run", "--k", "3.5"}, []string{`--k "3.5": want a whole number (default 300;`}},
		{[]string{"analyze", "x.npz", "--quiet=maybe"}, []string{`--quiet "maybe": want true or false`}},
		{[]string{"bench", "--time", "5"}, []string{`--time "5": want a duration, e.g. 500ms or 2s (default 1s;`}},
		{[]string{"bench", "--threads", "a"}, []string{`--threads "a": want comma-separated whole numbers`}},
		{[]string{"run", "--k"}, []string{"--k needs a value: a whole number (default 300;"}},
		{[]string{"analyze", "x.npz", "--model", "cnn"}, []string{"analyze: unknown flag: --model", "awd analyze --help lists its flags"}},
		{[]string{"train", "--k", "5"}, []string{"train: unknown flag: --k", "awd train --help"}},
	}
	for _, c := range cases {
		_, se, code := awdCmd(t, c.args...)
		lines := strings.Split(strings.TrimSpace(se), "\n")
		if code != 1 || len(lines) != 1 || !strings.HasPrefix(se, "awd: ") || strings.Contains(se, "strconv") || strings.Contains(se, "invalid syntax") {
			t.Errorf("awd %s: exit %d, stderr %q; want one line 'awd: ...' in the CLI's terms and exit 1", strings.Join(c.args, " "), code, se)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(se, w) {
				t.Errorf("awd %s: %q does not say %q", strings.Join(c.args, " "), se, w)
			}
		}
	}
}

// TestUnknownCommandListsCommands: a word that is no command is refused
// naming the commands, and the nearest one when it looks like a typo;
// awd alone still prints its help.
func TestUnknownCommandListsCommands(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"plto", "out/run/results.json"}, `unknown command "plto": did you mean plot? The commands are analyze, bench,`},
		{[]string{"xyz"}, `unknown command "xyz"; the commands are analyze, bench, completion, plot, reduce, run, sweep, table, train, version (awd --help says more)`},
	} {
		_, se, code := awdCmd(t, c.args...)
		if code != 1 || strings.Count(se, "\n") != 1 || !strings.Contains(se, c.want) {
			t.Errorf("awd %s: exit %d, stderr %q; want one line with %q", strings.Join(c.args, " "), code, se, c.want)
		}
	}
	so, se, code := awdCmd(t)
	if code != 0 || !strings.Contains(so, "Available Commands:") || se != "" {
		t.Errorf("awd alone: exit %d, stdout %q, stderr %q; want its help", code, so, se)
	}
}
