package sweep

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/awd-toolkit/awd/awd"
	"gopkg.in/yaml.v3"
)

// Config is a sweep file (YAML): a grid of training-and-analysis runs, the
// seeds, and the resources each run gets. README.md's "Sweeps" section and
// the files in examples/sweeps document every field; Load reads and checks
// one, with the file's line in every error.
type Config struct {
	Name string `yaml:"name"` // names the jobs on Slurm; letters, digits, '-', '_', '.'
	Out  string `yaml:"out"`  // the sweep folder, relative to the config file's folder

	Seeds []uint64 `yaml:"seeds"` // one job per seed and grid point
	// SeedSubset makes the seed also draw the balanced subset (the paper's
	// code draws it from the one global seed); false keeps Base's data_seed.
	SeedSubset *bool `yaml:"seed_subset"`
	// SeedPairs makes the seed also draw the analysis' AWD batches, pairs and
	// random frame (the paper's code: the same global seed); false keeps
	// analysis_seed.
	SeedPairs *bool `yaml:"seed_pairs"`

	Base  Settings   `yaml:"base"`  // settings of every cell
	Cells []Settings `yaml:"cells"` // the grid: each cell is Base overridden by its own settings, lists expanded

	Resources Resources `yaml:"resources"`
	Local     Local     `yaml:"local"`
	Slurm     Slurm     `yaml:"slurm"`

	// Extensions are the top-level keys that start with "x-" (as in
	// Docker Compose files): they hold YAML anchors for the settings
	// (x-common: &common {lr: 0.1} ... <<: *common) and are not read
	// otherwise. Any other unknown key is an error.
	Extensions map[string]any `yaml:",inline"`

	path      string // the file read
	cellLines []int  // line of each cell
}

// Settings are the run settings of a cell. Every field is optional; a cell's
// field overrides Base's, which overrides the default. loss and classes may
// be lists (axes of the grid: one job per combination); per_class, batch,
// epochs, k and analyze_at may be maps from K (the number of classes) to a
// value, as the paper's table gives k per K.
type Settings struct {
	Data    Value[string]  `yaml:"data"`     // mnist, fashion or cifar10
	DataDir Value[string]  `yaml:"data_dir"` // folder of the data files, relative to the config file ("" the default place)
	Model   Value[string]  `yaml:"model"`    // mlp or cnn
	Widths  Value[[]int]   `yaml:"widths"`   // MLP hidden widths
	Loss    Axis[string]   `yaml:"loss"`     // ce, mse, or a list
	Classes Axis[int]      `yaml:"classes"`  // K (classes 0..K-1), or a list of K
	Head    Value[string]  `yaml:"head"`     // all (10 logits, the paper's code) or k (K logits)
	PerK    PerK[int]      `yaml:"per_class"`
	Batch   PerK[int]      `yaml:"batch"`
	Epochs  PerK[int]      `yaml:"epochs"`
	K       PerK[int]      `yaml:"k"`
	At      PerK[[]int]    `yaml:"analyze_at"` // epochs analysed (default: the last); the table uses the last
	LR      Value[float64] `yaml:"lr"`
	Vanilla Value[bool]    `yaml:"vanilla"`
	TMax    Value[int]     `yaml:"t_max"`
	Clip    Value[float64] `yaml:"clip"`
	Stop    Value[float64] `yaml:"stop_loss"`

	Layer       Value[string]   `yaml:"layer"`
	Centered    Value[bool]     `yaml:"centered"`
	Greedy      Value[bool]     `yaml:"greedy"`
	Pair2       Value[bool]     `yaml:"pair2"`
	MiniBatch   Value[bool]     `yaml:"minibatch"`
	Correlation Value[bool]     `yaml:"correlation"`
	CorrK       Value[int]      `yaml:"corr_k"`
	RhoBlock    Value[int]      `yaml:"rho_block"`
	Suppress    Value[[]string] `yaml:"suppress"`

	DataSeed     Value[uint64] `yaml:"data_seed"`     // with seed_subset: false
	AnalysisSeed Value[uint64] `yaml:"analysis_seed"` // with seed_pairs: false

	Threads Value[int]    `yaml:"threads"` // per job: GOMAXPROCS and linalg threads (default resources.threads)
	Memory  Value[string] `yaml:"memory"`  // per job, Slurm's --mem (default resources.memory)
	Time    Value[string] `yaml:"time"`    // per job, Slurm's --time (default resources.time)
	Shards  Value[int]    `yaml:"shards"`  // analysis shards per analysed epoch (default resources.shards)
}

// Resources are the defaults of every job.
type Resources struct {
	Threads Value[int]    `yaml:"threads"` // default 1
	Memory  Value[string] `yaml:"memory"`  // default 4G
	Time    Value[string] `yaml:"time"`    // default 4:00:00; every form of sbatch's --time, UNLIMITED among them
	Shards  Value[int]    `yaml:"shards"`  // default 1 (no sharding)
}

// Local is how `awd sweep CONFIG` runs the jobs on this machine.
type Local struct {
	Workers Value[int] `yaml:"workers"` // jobs at a time; default: cores / threads, at least 1
}

// Slurm is how `awd sweep --slurm CONFIG` submits the jobs.
type Slurm struct {
	Partition   Value[string]   `yaml:"partition"`    // --partition ("" the cluster's default)
	MaxParallel Value[int]      `yaml:"max_parallel"` // tasks of a whole submission at a time (0: no throttle); WriteSlurm splits it among the arrays
	Awd         Value[string]   `yaml:"awd"`          // the awd binary as the nodes see it (default: this one)
	Sbatch      Value[[]string] `yaml:"sbatch"`       // more #SBATCH options, e.g. --account=abc
}

// Value is an optional setting of type T that remembers the line it was
// read from, so that checks after parsing can name it.
type Value[T any] struct {
	V    T
	Set  bool
	Line int
}

// UnmarshalYAML implements yaml.Unmarshaler.
func (v *Value[T]) UnmarshalYAML(n *yaml.Node) error {
	if err := wholeNumbers[T](n); err != nil {
		return err
	}
	if err := n.Decode(&v.V); err != nil {
		return err
	}
	v.Set, v.Line = true, n.Line
	return nil
}

// Or returns the value when set, def otherwise.
func (v Value[T]) Or(def T) T {
	if v.Set {
		return v.V
	}
	return def
}

// Axis is a setting given as one value or a list of values (an axis of the
// grid).
type Axis[T comparable] struct {
	V    []T
	Set  bool
	Line int
}

// UnmarshalYAML implements yaml.Unmarshaler.
func (a *Axis[T]) UnmarshalYAML(n *yaml.Node) error {
	a.Set, a.Line = true, n.Line
	if err := wholeNumbers[T](n); err != nil {
		return err
	}
	if n.Kind == yaml.SequenceNode {
		if len(n.Content) == 0 {
			return fmt.Errorf("line %d: empty list", n.Line)
		}
		if err := n.Decode(&a.V); err != nil {
			return err
		}
		for i, v := range a.V {
			if slices.Contains(a.V[:i], v) {
				return fmt.Errorf("line %d: %v listed twice", n.Line, v)
			}
		}
		return nil
	}
	var v T
	if err := n.Decode(&v); err != nil {
		return err
	}
	a.V = []T{v}
	return nil
}

// PerK is a setting given as one value for every K or as a map from K to
// a value (the paper's k(3), k(6), k(10)).
type PerK[T any] struct {
	All  T
	ByK  map[int]T
	Set  bool
	Line int
}

// UnmarshalYAML implements yaml.Unmarshaler.
func (p *PerK[T]) UnmarshalYAML(n *yaml.Node) error {
	p.Set, p.Line = true, n.Line
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			if err := errors.Join(wholeNumbers[int](n.Content[i]), wholeNumbers[T](n.Content[i+1])); err != nil {
				return err
			}
		}
		return n.Decode(&p.ByK)
	}
	if err := wholeNumbers[T](n); err != nil {
		return err
	}
	return n.Decode(&p.All)
}

// wholeNumbers refuses a number with a fraction or an exponent (a YAML
// float) in n where T wants integers: yaml.v3 truncates 2.9 to 2, so
// 'seeds: [1.5, 1.9]' became seed 1 twice and 'k: 10.5' k 10.
func wholeNumbers[T any](n *yaml.Node) error {
	t := reflect.TypeFor[T]()
	for t.Kind() == reflect.Slice || t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
	default:
		return nil
	}
	var walk func(n *yaml.Node) error
	walk = func(n *yaml.Node) error {
		if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!float" {
			return fmt.Errorf("line %d: %s: want a whole number", n.Line, n.Value)
		}
		for _, c := range n.Content {
			if err := walk(c); err != nil {
				return err
			}
		}
		return nil
	}
	return walk(n)
}

// at returns the value for K: the map's entry, or the single value.
func (p PerK[T]) at(k int) (T, bool) {
	if p.ByK == nil {
		return p.All, true
	}
	v, ok := p.ByK[k]
	return v, ok
}

// Or returns the value for k, def when the setting is not given.
func (p PerK[T]) Or(k int, def T) T {
	if !p.Set {
		return def
	}
	v, _ := p.at(k)
	return v
}

// over returns v when set, otherwise base.
func over[V interface{ isSet() bool }](v, base V) V {
	if v.isSet() {
		return v
	}
	return base
}

func (v Value[T]) isSet() bool { return v.Set }
func (a Axis[T]) isSet() bool  { return a.Set }
func (p PerK[T]) isSet() bool  { return p.Set }

// merge returns c over b: every field set in c, the others from b.
func (c Settings) merge(b Settings) Settings {
	return Settings{
		Data: over(c.Data, b.Data), DataDir: over(c.DataDir, b.DataDir), Model: over(c.Model, b.Model),
		Widths: over(c.Widths, b.Widths), Loss: over(c.Loss, b.Loss), Classes: over(c.Classes, b.Classes),
		Head: over(c.Head, b.Head), PerK: over(c.PerK, b.PerK), Batch: over(c.Batch, b.Batch),
		Epochs: over(c.Epochs, b.Epochs), K: over(c.K, b.K), At: over(c.At, b.At), LR: over(c.LR, b.LR),
		Vanilla: over(c.Vanilla, b.Vanilla), TMax: over(c.TMax, b.TMax), Clip: over(c.Clip, b.Clip),
		Stop: over(c.Stop, b.Stop), Layer: over(c.Layer, b.Layer), Centered: over(c.Centered, b.Centered),
		Greedy: over(c.Greedy, b.Greedy), Pair2: over(c.Pair2, b.Pair2), MiniBatch: over(c.MiniBatch, b.MiniBatch),
		Correlation: over(c.Correlation, b.Correlation), CorrK: over(c.CorrK, b.CorrK),
		RhoBlock: over(c.RhoBlock, b.RhoBlock), Suppress: over(c.Suppress, b.Suppress),
		DataSeed: over(c.DataSeed, b.DataSeed), AnalysisSeed: over(c.AnalysisSeed, b.AnalysisSeed),
		Threads: over(c.Threads, b.Threads), Memory: over(c.Memory, b.Memory), Time: over(c.Time, b.Time),
		Shards: over(c.Shards, b.Shards),
	}
}

// LineError is a problem in a sweep file, at a line (0 when the problem is
// the file as a whole).
type LineError struct {
	File string
	Line int
	Msg  string
}

func (e *LineError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Msg)
}

var yamlLine = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)
var yamlUnknown = regexp.MustCompile(`^field (\S+) not found in type sweep\.(\w+)$`)

// lineErrors turns yaml.v3's errors ("yaml: line 3: ...", or a TypeError
// listing "line 3: ..." entries) into LineErrors naming the file.
func lineErrors(file string, err error) error {
	var msgs []string
	var te *yaml.TypeError
	if errors.As(err, &te) {
		msgs = te.Errors
	} else {
		msgs = []string{err.Error()}
	}
	var errs []error
	for _, m := range msgs {
		le := &LineError{File: file, Msg: strings.TrimPrefix(m, "yaml: ")}
		if g := yamlLine.FindStringSubmatch(m); g != nil {
			le.Line, _ = strconv.Atoi(g[1])
			le.Msg = g[2]
		}
		if g := yamlUnknown.FindStringSubmatch(le.Msg); g != nil {
			le.Msg = fmt.Sprintf("unknown setting %q in %s (known: %s)", g[1], section(g[2]), strings.Join(knownKeys(g[2]), ", "))
		}
		le.Msg = strings.ReplaceAll(le.Msg, "sweep.", "")
		errs = append(errs, le)
	}
	return errors.Join(errs...)
}

func section(typ string) string {
	switch typ {
	case "Config":
		return "the sweep file"
	case "Settings":
		return "base or a cell"
	}
	return strings.ToLower(typ)
}

// knownKeys lists the YAML keys of a config type, for "unknown setting".
func knownKeys(typ string) []string {
	var v any
	switch typ {
	case "Config":
		v = Config{}
	case "Settings":
		v = Settings{}
	case "Resources":
		v = Resources{}
	case "Local":
		v = Local{}
	case "Slurm":
		v = Slurm{}
	default:
		return nil
	}
	return yamlKeys(v)
}

// Load reads and checks a sweep file. Errors name the file and line:
// "mnist.yaml:12: k: 3000 exceeds d = 2500 of layer fc2 (50x50)".
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("sweep config: %w", err)
	}
	return Parse(path, data)
}

// Parse reads and checks a sweep file's content; path names it in errors
// and anchors Out.
func Parse(path string, data []byte) (*Config, error) {
	if err := notAMapping(path, data); err != nil {
		return nil, err
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var c Config
	if err := dec.Decode(&c); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &LineError{File: path, Msg: "empty file"}
		}
		return nil, errors.Join(unknownTopKeys(path, data), lineErrors(path, err))
	}
	if err := unknownTopKeys(path, data); err != nil {
		return nil, err
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, &LineError{File: path, Line: extra.Line, Msg: "a second YAML document; a sweep file holds one"}
	}
	if err := nullEntries(path, data); err != nil {
		return nil, err
	}
	c.path = path
	var root yaml.Node
	if yaml.Unmarshal(data, &root) == nil && len(root.Content) == 1 {
		top := root.Content[0]
		for i := 0; i+1 < len(top.Content); i += 2 {
			if top.Content[i].Value == "cells" {
				for _, cell := range top.Content[i+1].Content {
					c.cellLines = append(c.cellLines, cell.Line)
				}
			}
			if top.Content[i].Value == "seeds" {
				if err := wholeNumbers[uint64](top.Content[i+1]); err != nil {
					return nil, &LineError{File: path, Line: top.Content[i+1].Line, Msg: "seeds: " + strings.TrimPrefix(err.Error(), fmt.Sprintf("line %d: ", top.Content[i+1].Line))}
				}
			}
		}
	}
	if err := c.check(); err != nil {
		return nil, err
	}
	return &c, nil
}

// notAMapping refuses a YAML file whose top level is not a mapping (a
// list, a single value): yaml.v3 said "cannot unmarshal !!seq into
// Config", naming a Go type instead of what a sweep file is.
func notAMapping(path string, data []byte) error {
	var root yaml.Node
	if yaml.Unmarshal(data, &root) != nil || len(root.Content) != 1 {
		return nil
	}
	top := root.Content[0]
	what := map[yaml.Kind]string{yaml.SequenceNode: "a list", yaml.ScalarNode: "a single value", yaml.AliasNode: "an alias"}[top.Kind]
	if top.Kind == yaml.MappingNode || what == "" {
		return nil
	}
	return &LineError{File: path, Line: top.Line, Msg: "not a sweep file: its top level is " + what +
		", not a mapping of settings (name, out, seeds, base, cells; README.md, Sweeps, documents them and examples/sweeps/ has the paper's grids)"}
}

// nullWhat says what to give for one entry of a list setting.
var nullWhat = map[string]string{
	"cells":      "a cell's settings, such as {classes: 3}",
	"seeds":      "a seed (a whole number)",
	"loss":       "ce or mse",
	"classes":    "a K (2..10)",
	"widths":     "a hidden width (a whole number)",
	"suppress":   "an intervention (" + strings.Join(awd.Interventions, ", ") + ")",
	"analyze_at": "an epoch (1..epochs)",
	"sbatch":     "one long option such as --account=abc",
}

// nullEntries refuses a null (an empty '-' entry, a key with no value,
// '~' or null) anywhere in a sweep file but under the x- keys: yaml.v3
// drops a null list entry and leaves a null setting unset, so
// 'cells: [null]' said "the grid has no cell", 'seeds: [1, ~]' ran seed 1
// alone, and 'lr:' with its value forgotten ran the default.
func nullEntries(path string, data []byte) error {
	var root yaml.Node
	if yaml.Unmarshal(data, &root) != nil || len(root.Content) != 1 {
		return nil // the decoder names what is wrong
	}
	seen := map[*yaml.Node]bool{} // an anchor's value is checked once, where first used
	var walk func(n *yaml.Node, where, key string) error
	walk = func(n *yaml.Node, where, key string) error {
		for n.Kind == yaml.AliasNode && n.Alias != nil {
			n = n.Alias
		}
		if seen[n] {
			return nil
		}
		seen[n] = true
		e := func(line int, format string, a ...any) error {
			return &LineError{File: path, Line: line, Msg: where + fmt.Sprintf(format, a...)}
		}
		switch n.Kind {
		case yaml.SequenceNode:
			for i, v := range n.Content {
				if isNull(v) {
					what := cmpOr(nullWhat[key], "a value")
					return e(v.Line, "entry %d of %d is empty (null): give %s, or remove the entry", i+1, len(n.Content), what)
				}
				in := where + fmt.Sprintf("entry %d: ", i+1)
				if key == "cells" {
					in = fmt.Sprintf("cell %d: ", i+1)
				}
				if err := walk(v, in, key); err != nil {
					return err
				}
			}
		case yaml.MappingNode:
			perK := slices.Contains(perKKeys, key)
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				switch {
				case where == "" && strings.HasPrefix(k.Value, extensionPrefix):
					continue // anchors, checked where they are used
				case k.Value == "<<" && !isNull(v):
					if err := walk(v, where, key); err != nil {
						return err
					}
					continue
				case perK && isNull(k):
					return e(k.Line, "a key is empty (null): the keys are K (the number of classes), such as %s: {3: 300, 6: 1000}", key)
				case isNull(k):
					return e(k.Line, "a key is empty (null): give the setting's name")
				case perK && isNull(v):
					return e(v.Line, "K=%s has no value (null): give one, or remove K=%s", k.Value, k.Value)
				case isNull(v):
					return e(v.Line, "%s has no value (null): give one, or remove %s to keep the default", k.Value, k.Value)
				}
				in, sub := where+k.Value+": ", k.Value
				if perK {
					in, sub = where+"K="+k.Value+": ", key
				}
				if err := walk(v, in, sub); err != nil {
					return err
				}
			}
		}
		return nil
	}
	return walk(root.Content[0], "", "")
}

// perKKeys are the settings that may be maps from K to a value (PerK).
var perKKeys = []string{"per_class", "batch", "epochs", "k", "analyze_at"}

// isNull tells whether n is YAML's null (an empty value, '~' or null),
// through aliases.
func isNull(n *yaml.Node) bool {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// extensionPrefix starts the top-level keys that only hold YAML anchors
// (Config.Extensions).
const extensionPrefix = "x-"

// unknownTopKeys refuses the top-level keys of a sweep file that are neither
// settings nor extensions (x-...): the inline map of Config.Extensions takes
// every unknown key, so yaml.v3's KnownFields no longer catches them there.
func unknownTopKeys(path string, data []byte) error {
	var root yaml.Node
	if yaml.Unmarshal(data, &root) != nil || len(root.Content) != 1 || root.Content[0].Kind != yaml.MappingNode {
		return nil // the decoder names what is wrong
	}
	known := yamlKeys(Config{})
	var errs []error
	var check func(m *yaml.Node)
	check = func(m *yaml.Node) {
		for m.Kind == yaml.AliasNode && m.Alias != nil {
			m = m.Alias
		}
		if m.Kind != yaml.MappingNode {
			return
		}
		for i := 0; i+1 < len(m.Content); i += 2 {
			k, v := m.Content[i], m.Content[i+1]
			switch {
			case k.Value == "<<": // a merge: the keys merged are top-level keys too
				if v.Kind == yaml.SequenceNode {
					for _, e := range v.Content {
						check(e)
					}
				} else {
					check(v)
				}
			case strings.HasPrefix(k.Value, extensionPrefix) || slices.Contains(known, k.Value):
			default:
				errs = append(errs, &LineError{File: path, Line: k.Line, Msg: fmt.Sprintf(
					"unknown setting %q in the sweep file (known: %s; keys that start with %q only hold YAML anchors)",
					k.Value, strings.Join(known, ", "), extensionPrefix)})
			}
		}
	}
	check(root.Content[0])
	return errors.Join(errs...)
}

// Path is the file the config was read from.
func (c *Config) Path() string { return c.path }

// Dir is the sweep folder: Out relative to the config file's folder.
func (c *Config) Dir() string {
	if filepath.IsAbs(c.Out) {
		return c.Out
	}
	return filepath.Join(filepath.Dir(c.path), c.Out)
}

// seedSubset and seedPairs are the seeding switches, true unless set false.
func (c *Config) seedSubset() bool { return c.SeedSubset == nil || *c.SeedSubset }
func (c *Config) seedPairs() bool  { return c.SeedPairs == nil || *c.SeedPairs }

var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// check validates what does not depend on the grid expansion; Expand checks
// every cell.
func (c *Config) check() error {
	e := func(line int, format string, a ...any) error {
		return &LineError{File: c.path, Line: line, Msg: fmt.Sprintf(format, a...)}
	}
	if !nameRE.MatchString(c.Name) {
		return e(0, "name %q: want 1 to 64 ASCII letters, digits, '.', '_' or '-' (it names the jobs on Slurm)", c.Name)
	}
	if c.Out == "" {
		return e(0, "out: the sweep folder is required")
	}
	if len(c.Seeds) == 0 {
		return e(0, "seeds: at least one seed is required")
	}
	for i, s := range c.Seeds {
		if slices.Contains(c.Seeds[:i], s) {
			return e(0, "seeds: %d listed twice", s)
		}
	}
	if len(c.Cells) == 0 {
		return e(0, "cells: the grid has no cell")
	}
	r := c.Resources
	if r.Threads.Set && (r.Threads.V < 1 || r.Threads.V > 1024) {
		return e(r.Threads.Line, "threads %d: want 1..1024", r.Threads.V)
	}
	if r.Shards.Set && (r.Shards.V < 1 || r.Shards.V > 10000) {
		return e(r.Shards.Line, "shards %d: want 1..10000", r.Shards.V)
	}
	if r.Memory.Set {
		if _, err := parseMemory(r.Memory.V); err != nil {
			return e(r.Memory.Line, "memory: %v", err)
		}
	}
	if r.Time.Set {
		if _, err := parseSlurmTime(r.Time.V); err != nil {
			return e(r.Time.Line, "time: %v", err)
		}
	}
	if w := c.Local.Workers; w.Set && (w.V < 1 || w.V > 1024) {
		return e(w.Line, "workers %d: want 1..1024", w.V)
	}
	if m := c.Slurm.MaxParallel; m.Set && m.V < 0 {
		return e(m.Line, "max_parallel %d: want 0 (no throttle) or more", m.V)
	}
	for _, o := range c.Slurm.Sbatch.V {
		if !strings.HasPrefix(o, "--") || strings.ContainsAny(o, "\n\r") {
			return e(c.Slurm.Sbatch.Line, "sbatch: %q is not one long option such as --account=abc", o)
		}
		// The value of --name=value is quoted in the scripts; a blank
		// or '#' elsewhere would end the option there.
		if name, _, _ := strings.Cut(o, "="); strings.ContainsAny(name, sbatchUnsafe) {
			return e(c.Slurm.Sbatch.Line, "sbatch: %q: write the option as one --name=value (a blank, '#' or quote before the '=' would end or change the option in the #SBATCH line)", o)
		}
	}
	if c.Slurm.Awd.Set && !filepath.IsAbs(c.Slurm.Awd.V) {
		return e(c.Slurm.Awd.Line, "awd: %q must be an absolute path (the nodes run it from their own folder)", c.Slurm.Awd.V)
	}
	_, err := c.Expand()
	return err
}

// maxMemoryMB bounds a memory request: Slurm reads --mem in megabytes into
// a 64-bit count, and no node has more than an exabyte.
const maxMemoryMB = int64(1) << 40

// parseMemory accepts Slurm's --mem values: a number with an optional unit
// K, M, G or T (megabytes when none), and returns megabytes.
func parseMemory(s string) (int64, error) {
	m := regexp.MustCompile(`^(\d+)([KMGT]?)B?$`).FindStringSubmatch(strings.ToUpper(strings.TrimSpace(s)))
	if m == nil {
		return 0, fmt.Errorf("%q: want a size such as 4G or 500M", s)
	}
	v, err := strconv.ParseInt(m[1], 10, 64)
	if err != nil || v <= 0 {
		return 0, fmt.Errorf("%q: want a positive size", s)
	}
	if m[2] == "K" {
		v = v/1024 + min(v%1024, 1)
	}
	mult := map[string]int64{"K": 1, "": 1, "M": 1, "G": 1024, "T": 1024 * 1024}[m[2]]
	if v > maxMemoryMB/mult {
		return 0, fmt.Errorf("%q: more than Slurm can ask for (at most %dT)", s, maxMemoryMB/(1024*1024))
	}
	return v * mult, nil
}

// slurmTimeForms are the values of Slurm's --time (sbatch(1)), for the
// errors.
const slurmTimeForms = "minutes (90), minutes:seconds (90:30), hours:minutes:seconds (1:30:00), " +
	"days-hours (2-12), days-hours:minutes (2-12:30), days-hours:minutes:seconds (2-12:30:00), " +
	"or UNLIMITED, INFINITE or 0 for no limit"

// noTimeLimit is parseSlurmTime's value of UNLIMITED, INFINITE and 0: more
// than any limit, so that the collect job, which takes the largest time of
// the shard arrays, takes it too.
const noTimeLimit = int64(math.MaxInt64)

// slurmTimeRE matches Slurm's --time forms: [D-]H, [D-]H:M, [D-]H:M:S
// with a day, M, M:S, H:M:S without.
var slurmTimeRE = regexp.MustCompile(`^(?:(\d+)-)?(\d+)(?::(\d+))?(?::(\d+))?$`)

// parseSlurmTime accepts Slurm's --time values, as sbatch(1) gives them:
// "M", "M:S", "H:M:S", "D-H", "D-H:M", "D-H:M:S", and UNLIMITED, INFINITE
// (any case, as Slurm reads them) or a zero time for no limit; blanks
// around the value are ignored. It returns seconds, noTimeLimit for no
// limit.
func parseSlurmTime(s string) (int64, error) {
	bad := fmt.Errorf("%q: want Slurm's --time: %s", s, slurmTimeForms)
	t := strings.TrimSpace(s)
	if strings.EqualFold(t, "UNLIMITED") || strings.EqualFold(t, "INFINITE") {
		return noTimeLimit, nil
	}
	m := slurmTimeRE.FindStringSubmatch(t)
	if m == nil {
		return 0, bad
	}
	var v [4]int64 // days, then the fields after it
	n := 0         // fields after the day
	for i, f := range m[1:] {
		if f == "" {
			continue
		}
		x, err := strconv.ParseInt(f, 10, 32)
		if err != nil {
			return 0, bad
		}
		v[i] = x
		if i > 0 {
			n++
		}
	}
	days, f := v[0], v[1:1+n]
	// Minutes and seconds after the first field are below 60, hours after
	// a day below 24: "25:99:00" is a typo, not 26 hours 39 minutes.
	for i, x := range f {
		if i > 0 && x >= 60 || i == 0 && m[1] != "" && x >= 24 {
			return 0, bad
		}
	}
	var sec int64
	switch {
	case m[1] != "": // D-H, D-H:M, D-H:M:S
		sec = days*86400 + f[0]*3600
		if n > 1 {
			sec += f[1] * 60
		}
		if n > 2 {
			sec += f[2]
		}
	case n == 1: // M
		sec = f[0] * 60
	case n == 2: // M:S
		sec = f[0]*60 + f[1]
	default: // H:M:S
		sec = f[0]*3600 + f[1]*60 + f[2]
	}
	if sec == 0 { // sbatch(1): a time limit of zero imposes none
		return noTimeLimit, nil
	}
	return sec, nil
}

// slurmTime is the --time value written for s (checked by
// parseSlurmTime): without blanks around it, which would cut the #SBATCH
// line's argument short, and UNLIMITED for every form of no limit.
func slurmTime(s string) string {
	if sec, err := parseSlurmTime(s); err == nil && sec == noTimeLimit {
		return "UNLIMITED"
	}
	return strings.TrimSpace(s)
}

// yamlKeys lists the yaml tags of a struct's fields, sorted.
func yamlKeys(v any) []string {
	var keys []string
	t := reflect.TypeOf(v)
	for i := 0; i < t.NumField(); i++ {
		if tag, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ","); tag != "" && tag != "-" {
			keys = append(keys, tag)
		}
	}
	sort.Strings(keys)
	return keys
}

func isFinite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
