package main

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/awd-toolkit/awd/awd"
	"github.com/awd-toolkit/awd/nn"
)

// options holds the value of every flag of every command. A flag has one
// name, one meaning and one check wherever it appears (the flags table);
// only its default may differ between commands.
type options struct {
	// fromCheckpoint are the flags that awd analyze took from the
	// checkpoint's JSON (checkpointDefaults), for the messages.
	fromCheckpoint []string
	// changed reports whether the user gave a flag (set before the
	// checks run; nil in code that builds options directly).
	changed func(name string) bool

	data, dataDir, classes, model, widths, loss string
	perClass, head                              int
	dataSeed, seed                              uint64

	epochs, batch, tMax       int
	lr, clip, stopLoss        float64
	vanilla                   bool
	checkpoints, analyzeAt    string
	k, rhoBlock, corrK        int
	layer, suppress, mem      string
	analysisSeed              uint64
	centered, greedy, noPair2 bool
	noMinibatch, noCorr       bool
	matrixFree                bool
	jacobianF32               bool
	layers                    string
	tau, tailEps, nonstiffEps float64
	out                       string
	fresh, quiet              bool
	covs                      string
	csv, ci                   bool

	slurm, dryRun, failed bool // awd sweep
	stale                 bool // awd sweep reset
	workers               int
	tasks, table          string
	shard                 string // awd analyze --shard i/n

	// parity with the paper's code and the error bars
	mbRule, pairs, alignBasis, sigma2Per, suppProtocol, stopRule, cifarStd string
	noPair2Code, noMLFit, noGammaK                                         bool
	suppPerClass, bootstrap, bootGroups, mlReps                            int
	bootLevel                                                              float64
}

// flagDef is one flag: how to register it, its default, and the check of
// its value (a one-line error naming the flag and the allowed range).
type flagDef struct {
	name  string
	def   string
	usage string
	bind  func(fs *pflag.FlagSet, o *options, name, def, usage string)
	check func(o *options) error
}

func strFlag(p func(*options) *string) func(*pflag.FlagSet, *options, string, string, string) {
	return func(fs *pflag.FlagSet, o *options, name, def, usage string) { fs.StringVar(p(o), name, def, usage) }
}

func intFlag(p func(*options) *int) func(*pflag.FlagSet, *options, string, string, string) {
	return func(fs *pflag.FlagSet, o *options, name, def, usage string) {
		v, _ := strconv.Atoi(def)
		fs.IntVar(p(o), name, v, usage)
	}
}

func uintFlag(p func(*options) *uint64) func(*pflag.FlagSet, *options, string, string, string) {
	return func(fs *pflag.FlagSet, o *options, name, def, usage string) {
		v, _ := strconv.ParseUint(def, 10, 64)
		fs.Uint64Var(p(o), name, v, usage)
	}
}

func floatFlag(p func(*options) *float64) func(*pflag.FlagSet, *options, string, string, string) {
	return func(fs *pflag.FlagSet, o *options, name, def, usage string) {
		v, _ := strconv.ParseFloat(def, 64)
		fs.Float64Var(p(o), name, v, usage)
	}
}

func boolFlag(p func(*options) *bool) func(*pflag.FlagSet, *options, string, string, string) {
	return func(fs *pflag.FlagSet, o *options, name, def, usage string) {
		fs.BoolVar(p(o), name, def == "true", usage)
	}
}

// atLeast checks an int flag against a minimum.
func atLeast(name string, p func(*options) int, lo int, what string) func(*options) error {
	return func(o *options) error {
		if v := p(o); v < lo {
			return fmt.Errorf("--%s %d: must be at least %d%s", name, v, lo, what)
		}
		return nil
	}
}

// inRange checks a float flag: finite, within [lo, hi] (open at lo when
// openLo).
func inRange(name string, p func(*options) float64, lo, hi float64, openLo bool) func(*options) error {
	return func(o *options) error {
		v := p(o)
		if math.IsNaN(v) || math.IsInf(v, 0) || v < lo || v > hi || openLo && v == lo {
			l := "["
			if openLo {
				l = "("
			}
			return fmt.Errorf("--%s %v: must be finite and in %s%g, %g]", name, v, l, lo, hi)
		}
		return nil
	}
}

func parseList(name, s string) ([]int, error) {
	var out []int
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			return nil, fmt.Errorf("--%s %s: an empty entry (a comma too many?)", name, s)
		}
		v, err := strconv.Atoi(f)
		if err != nil {
			return nil, fmt.Errorf("--%s %s: %q is not an integer", name, s, f)
		}
		out = append(out, v)
	}
	return out, nil
}

func listCheck(name string, p func(*options) string) func(*options) error {
	return func(o *options) error {
		_, err := parseList(name, p(o))
		return err
	}
}

// addFlags registers the named flags of the table on cmd, with per-command
// defaults, and makes cmd check them before it runs.
func addFlags(cmd *cobra.Command, o *options, defaults map[string]string, names ...string) {
	fs := cmd.Flags()
	var checks []func(*options) error
	for _, name := range names {
		d, ok := flagTable[name]
		if !ok {
			panic("awd: no flag " + name)
		}
		def := d.def
		if v, ok := defaults[name]; ok {
			def = v
		}
		d.bind(fs, o, name, def, d.usage)
		if d.check != nil {
			checks = append(checks, d.check)
		}
	}
	cmd.PreRunE = func(c *cobra.Command, _ []string) error {
		o.changed = c.Flags().Changed
		for _, c := range checks {
			if err := c(o); err != nil {
				return err
			}
		}
		return nil
	}
}

// flagError turns a library error about an option into one about its flag:
// "k=65: ..." becomes "--k 65: ...".
func flagError(err error) error {
	var oe *nn.OptionError
	if errors.As(err, &oe) {
		return fmt.Errorf("--%s %s: %s", oe.Option, oe.Value, oe.Reason)
	}
	return err
}

// flagRemedy says the remedy of an output folder that the library refuses
// (awd.FolderError) with the flags that apply it.
func flagRemedy(r awd.Remedy) string {
	switch r {
	case awd.StartOver:
		return "use --fresh to start over"
	case awd.OtherFolder:
		return "use another --out, or --fresh to replace what it holds"
	case awd.SameSettings:
		return "use the same flags to resume, another --out, or --fresh"
	case awd.SameData:
		return "give the folder of the run's data (--data-dir), another --out, or --fresh"
	case awd.NewFolder:
		return "use another --out"
	case awd.Wait:
		return "wait for it to end, or give another --out"
	}
	return r.String()
}

// shardOf reads --shard i/n (1 <= i <= n); 0, 0 when not given.
func (o *options) shardOf() (i, n int, err error) {
	if o.shard == "" {
		return 0, 0, nil
	}
	return parseShard(o.shard)
}

// parseShard reads i/n (1 <= i <= n, spaces and leading zeros allowed).
func parseShard(s string) (i, n int, err error) {
	a, b, ok := strings.Cut(s, "/")
	i, e1 := strconv.Atoi(strings.TrimSpace(a))
	n, e2 := strconv.Atoi(strings.TrimSpace(b))
	if !ok || e1 != nil || e2 != nil || n < 1 || n > 100000 || i < 1 || i > n {
		return 0, 0, fmt.Errorf("--shard %q: want i/n with 1 <= i <= n, e.g. 2/4 (the second of four shards)", s)
	}
	return i, n, nil
}

// memBudget is --mem in bytes (0: not given).
func (o *options) memBudget() (int64, error) {
	if o.mem == "" {
		return 0, nil
	}
	b, err := awd.ParseBytes(o.mem)
	if err != nil {
		return 0, fmt.Errorf("--mem: %v", err)
	}
	return b, nil
}

// flagParseError rewords pflag's errors (an unknown flag, a value of the
// wrong type, a missing value) into the CLI's terms: the flag, the value,
// what the flag takes and where its flags are listed, instead of
// "strconv.ParseUint: parsing "-1": invalid syntax".
func flagParseError(cmd *cobra.Command, err error) error {
	help := cmd.CommandPath() + " --help"
	var inv *pflag.InvalidValueError
	var req *pflag.ValueRequiredError
	var unk *pflag.NotExistError
	switch {
	case errors.As(err, &inv):
		f := inv.GetFlag()
		return fmt.Errorf("--%s %q: want %s (default %s; %s lists the flags)", f.Name, inv.GetValue(), valueKind(f.Value.Type()), f.DefValue, help)
	case errors.As(err, &req):
		f := req.GetFlag()
		return fmt.Errorf("--%s needs a value: %s (default %s; %s lists the flags)", f.Name, valueKind(f.Value.Type()), f.DefValue, help)
	case errors.As(err, &unk):
		name := strings.TrimPrefix(cmd.CommandPath(), cmd.Root().Name()+" ")
		return fmt.Errorf("%s: %v (%s lists its flags)", name, err, help)
	}
	return fmt.Errorf("%v (%s lists the flags)", err, help)
}

// valueKind says in words what a flag of a pflag value type takes.
func valueKind(typ string) string {
	switch typ {
	case "int":
		return "a whole number"
	case "uint64":
		return "a whole number, 0 or more"
	case "float64":
		return "a number, e.g. 0.5 or 1e-3"
	case "bool":
		return "true or false"
	case "duration":
		return "a duration, e.g. 500ms or 2s"
	case "intSlice":
		return "comma-separated whole numbers, e.g. 1,2"
	}
	return "a " + typ
}
