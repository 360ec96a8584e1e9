package main

import (
	"encoding/json"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/awd-toolkit/awd/awd"
	"github.com/awd-toolkit/awd/nn"
)

// TestFlagDefaultsAreTheLibrarys: with no flags the CLI's analysis and
// training are the library's defaults (awd.DefaultConfig,
// nn.DefaultTrainConfig), setting by setting, except the suppression
// interventions that `awd run` and `awd analyze` ask for (the library runs
// none unless asked) and the epochs of the short default run (20, the
// library's are the paper's 100). A CLI run and a library or sweep run of
// the same settings then record the same config and share a table row.
func TestFlagDefaultsAreTheLibrarys(t *testing.T) {
	for _, loss := range []string{"ce", "mse"} {
		var o options
		cmd := &cobra.Command{Use: "x", RunE: func(*cobra.Command, []string) error { return nil }}
		addFlags(cmd, &o, nil, concat(trainFlags, analysisFlags)...)
		if err := cmd.ParseFlags(nil); err != nil {
			t.Fatal(err)
		}
		got, err := o.analysisConfig(loss, 50)
		if err != nil {
			t.Fatal(err)
		}
		want := awd.DefaultConfig(loss)
		got.Memory, got.Interventions = 0, nil
		for _, d := range differences(t, got, want) {
			t.Errorf("%s: the analysis flags' default differs from awd.DefaultConfig's: %s", loss, d)
		}
		o.loss = loss
		l, _ := nn.ParseLoss(loss)
		tc, lib := o.trainConfig(), nn.DefaultTrainConfig(l)
		if tc.Epochs != 20 {
			t.Errorf("--epochs defaults to %d, README's default run has 20", tc.Epochs)
		}
		tc.Epochs = lib.Epochs
		for _, d := range differences(t, tc, lib) {
			t.Errorf("%s: the training flags' default differs from nn.DefaultTrainConfig's: %s", loss, d)
		}
	}
}

// differences compares a and b as JSON documents and names the settings in
// which they differ.
func differences(t *testing.T, a, b any) []string {
	t.Helper()
	var x, y map[string]any
	for _, p := range []struct {
		v   any
		dst *map[string]any
	}{{a, &x}, {b, &y}} {
		js, err := json.Marshal(p.v)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(js, p.dst); err != nil {
			t.Fatal(err)
		}
	}
	return diffMaps("", x, y)
}

func diffMaps(path string, x, y map[string]any) []string {
	var out []string
	for k, xv := range x {
		yv, ok := y[k]
		if !ok {
			out = append(out, path+k+" (only in the CLI's)")
			continue
		}
		xm, xok := xv.(map[string]any)
		ym, yok := yv.(map[string]any)
		if xok && yok {
			out = append(out, diffMaps(path+k+".", xm, ym)...)
			continue
		}
		xs, _ := json.Marshal(xv)
		ys, _ := json.Marshal(yv)
		if string(xs) != string(ys) {
			out = append(out, path+k+": "+string(xs)+" (CLI) vs "+string(ys)+" (library)")
		}
	}
	for k := range y {
		if _, ok := x[k]; !ok {
			out = append(out, path+k+" (only in the library's)")
		}
	}
	return out
}

// TestCommandDefaultsAsREADME: the defaults that differ between commands
// are those the README's "One meaning per flag" lists, and every other
// flag a command shares with awd run has run's default.
func TestCommandDefaultsAsREADME(t *testing.T) {
	differ := map[string]map[string]string{
		"train":   {"classes": "10", "per-class": "2000", "epochs": "100", "out": "out/train"},
		"analyze": {"per-class": "2000", "suppress": "", "out": "out/analyze"},
		"reduce":  {"out": "out/reduce"},
	}
	run, _, err := rootCmd.Find([]string{"run"})
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range differ {
		cmd, _, err := rootCmd.Find([]string{name})
		if err != nil {
			t.Fatal(err)
		}
		cmd.Flags().VisitAll(func(f *pflag.Flag) {
			r := run.Flags().Lookup(f.Name)
			if r == nil {
				return
			}
			if w, ok := want[f.Name]; ok {
				if f.DefValue != w {
					t.Errorf("awd %s --%s defaults to %q, the README says %q", name, f.Name, f.DefValue, w)
				}
			} else if f.DefValue != r.DefValue {
				t.Errorf("awd %s --%s defaults to %q, awd run's to %q, and the README does not list it among the defaults that differ", name, f.Name, f.DefValue, r.DefValue)
			}
		})
	}
}
