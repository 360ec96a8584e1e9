package sweep

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/awd-toolkit/awd/awd"
)

// Covariances are the names a table can show, in their usual order.
var Covariances = []string{awd.NameC, awd.NameCAWD, awd.NameCPair, awd.NameCPair2, awd.NameCMb, awd.NameM2}

// Table1Covs and Table3Covs are the paper's tables: Table 3 adds the pair
// covariances (Eq. 13 before isotropy, Eq. 58).
var (
	Table1Covs = []string{awd.NameC, awd.NameCAWD}
	Table3Covs = []string{awd.NameC, awd.NameCAWD, awd.NameCPair, awd.NameCPair2}
)

// ParseCovs checks a comma-separated list of covariance names.
func ParseCovs(s string) ([]string, error) {
	var covs []string
	for _, c := range strings.Split(s, ",") {
		if c = strings.TrimSpace(c); c == "" {
			continue
		}
		if !slices.Contains(Covariances, c) {
			return nil, fmt.Errorf("--covs: unknown covariance %q (known: %s)", c, strings.Join(Covariances, ", "))
		}
		if slices.Contains(covs, c) {
			return nil, fmt.Errorf("--covs: %s listed twice", c)
		}
		covs = append(covs, c)
	}
	if len(covs) == 0 {
		return nil, fmt.Errorf("--covs: no covariance given (known: %s)", strings.Join(Covariances, ", "))
	}
	return covs, nil
}

// Entry is one run for a table: its results and its protocol.
type Entry struct {
	Name     string // job id, or the results file
	Protocol string // hash of everything but the seeds
	// Settings is the protocol as flat "path=value" pairs, to say what
	// tells two protocols apart.
	Settings map[string]string
	Seed     string // the seed(s), for the protocol list ("42", or "?")
	Report   *awd.Report
}

// Dropped is a run (or one of its fits) left out of a table, and why.
type Dropped struct {
	Name, Reason string
}

// final returns the last analysed checkpoint of an entry: the trained
// model the tables describe.
func (e *Entry) final() *awd.Checkpoint {
	cs := e.Report.Checkpoints
	if len(cs) == 0 {
		return nil
	}
	last := &cs[0]
	for i := range cs {
		if cs[i].Epoch > last.Epoch {
			last = &cs[i]
		}
	}
	return last
}

// EntriesFromSweep returns the finished jobs of a sweep as table entries
// and the others as dropped, with their state.
func EntriesFromSweep(s *Sweep) ([]Entry, []Dropped) {
	var es []Entry
	var drop []Dropped
	for _, st := range s.Statuses() {
		j := st.Job
		if st.State != StateDone {
			reason := st.State
			if st.Detail != "" {
				reason += ": " + firstLine(st.Detail)
			}
			drop = append(drop, Dropped{j.ID, reason})
			continue
		}
		rep, err := awd.ReadReport(filepath.Join(s.JobDir(j.ID), ResultsFile))
		if err != nil {
			drop = append(drop, Dropped{j.ID, err.Error()})
			continue
		}
		canon, _ := ProtocolOf(j.Spec, j.SeedSubset, j.SeedPairs)
		es = append(es, Entry{Name: j.ID, Protocol: j.Protocol, Settings: flatten(canon), Seed: fmt.Sprint(j.Seed), Report: rep})
	}
	return es, drop
}

// seedKeys are the keys of a results file's config that hold seeds: runs
// that differ only there are seeds of one protocol.
var seedKeys = []string{"seed", "init_seed", "data_seed", "analysis_seed"}

// placeKeys name files and folders: where a run was, not what it was.
var placeKeys = []string{"dir", "data_dir", "checkpoint", "out"}

// EntryFromReport makes an entry of a results file written by `awd run`,
// `awd analyze` or a sweep job: its protocol is its recorded config and the
// analysis' settings with every seed and path removed.
func EntryFromReport(name string, rep *awd.Report) Entry {
	var cfg any
	if len(rep.Config) > 0 {
		json.Unmarshal(rep.Config, &cfg)
	}
	var seeds []string
	cfg = stripKeys(cfg, "", &seeds)
	proto := map[string]any{"config": cfg}
	if c := (&Entry{Report: rep}).final(); c != nil {
		r := c.Analysis
		var an any
		b, _ := json.Marshal(r.Config)
		json.Unmarshal(b, &an)
		proto["analysis"] = stripKeys(an, "", new([]string))
		proto["result"] = map[string]any{"data": r.Dataset, "model": r.Model, "layer": r.Layer, "loss": r.Loss, "head": r.Head,
			"classes": r.Classes, "samples": r.N, "k": r.K, "batch": r.Batch, "epoch": c.Epoch}
	}
	b, _ := json.Marshal(proto)
	sum := sha256Hex(b)
	return Entry{Name: name, Protocol: sum, Settings: flatten(b), Seed: seedLabel(seeds), Report: rep}
}

// seedLabel shows a run's seeds: the value when they are all the same
// ("42"), else every "key=value", sorted; "?" when none was recorded.
func seedLabel(seeds []string) string {
	if len(seeds) == 0 {
		return "?"
	}
	slices.Sort(seeds)
	_, v0, _ := strings.Cut(seeds[0], "=")
	for _, s := range seeds {
		if _, v, _ := strings.Cut(s, "="); v != v0 {
			return strings.Join(seeds, ",")
		}
	}
	return v0
}

// stripKeys removes seed and path keys from a decoded JSON value,
// collecting the seeds' values.
func stripKeys(v any, path string, seeds *[]string) any {
	switch t := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, x := range t {
			p := strings.TrimPrefix(path+"."+k, ".")
			switch {
			case slices.Contains(seedKeys, k):
				*seeds = append(*seeds, fmt.Sprintf("%s=%v", p, x))
			case slices.Contains(placeKeys, k):
			default:
				out[k] = stripKeys(x, p, seeds)
			}
		}
		return out
	case []any:
		for i := range t {
			t[i] = stripKeys(t[i], path, seeds)
		}
	}
	return v
}

// flatten turns a JSON object into "a.b=value" pairs.
func flatten(b []byte) map[string]string {
	var v any
	json.Unmarshal(b, &v)
	out := map[string]string{}
	var walk func(string, any)
	walk = func(p string, v any) {
		if m, ok := v.(map[string]any); ok {
			for k, x := range m {
				walk(strings.TrimPrefix(p+"."+k, "."), x)
			}
			return
		}
		s, _ := json.Marshal(v)
		out[p] = string(s)
	}
	walk("", v)
	return out
}

// Cell is one table cell: gamma of one covariance over the seeds of one
// protocol.
type Cell struct {
	awd.MeanStd
	Protocol string
}

// Row is one line of Table 1 / Table 3: a data set, model and K, and per
// loss the protocol run for it and its cells. Variant says what tells the
// row's protocols from those of another row with the same data, model and
// K ("" when there is only one).
type Row struct {
	Data, Model string
	K           int
	Variant     string
	Losses      map[string]*Group // "ce", "mse"
}

// Group is the runs of one protocol.
type Group struct {
	Protocol string
	Entries  []*Entry
	Cells    map[string]Cell // per covariance
	// Summary of the protocol for the reader: P, B, epochs, k, head.
	P, B, Epochs, KTop, Head int
}

// Table is Table 1 or Table 3 of the paper (gamma of each covariance, for
// MSE and CE, mean ± sample std over seeds), one row per data set, model
// and K, and more rows where several protocols share those.
type Table struct {
	Covs    []string
	Rows    []*Row
	Dropped []Dropped
}

var losses = []string{"mse", "ce"}

// BuildTable groups entries by protocol and summarises gamma of covs over
// each group's seeds. Runs with no analysis and fits that failed are
// listed in Dropped with the reason, as are the dropped runs passed in.
func BuildTable(entries []Entry, dropped []Dropped, covs []string) (*Table, error) {
	for _, c := range covs {
		if !slices.Contains(Covariances, c) {
			return nil, fmt.Errorf("table: unknown covariance %q (known: %s)", c, strings.Join(Covariances, ", "))
		}
	}
	t := &Table{Covs: covs, Dropped: slices.Clone(dropped)}
	groups := map[string]*Group{}
	type display struct {
		data, model string
		k           int
	}
	byDisplay := map[display]map[string][]*Group{} // -> loss -> protocols
	var order []display
	for i := range entries {
		e := &entries[i]
		c := e.final()
		if c == nil {
			t.Dropped = append(t.Dropped, Dropped{e.Name, "no analysed epoch"})
			continue
		}
		r := c.Analysis
		g := groups[e.Protocol]
		if g == nil {
			p := 0
			if len(r.Classes) > 0 {
				p = r.N / len(r.Classes)
			}
			g = &Group{Protocol: e.Protocol, P: p, B: r.Batch, Epochs: c.Epoch, KTop: r.K, Head: r.Head}
			groups[e.Protocol] = g
			d := display{strings.TrimSuffix(r.Dataset, "/train"), r.Model, len(r.Classes)}
			if byDisplay[d] == nil {
				byDisplay[d] = map[string][]*Group{}
				order = append(order, d)
			}
			byDisplay[d][r.Loss] = append(byDisplay[d][r.Loss], g)
		}
		g.Entries = append(g.Entries, e)
	}
	for _, g := range groups {
		g.Cells = map[string]Cell{}
		for _, cov := range covs {
			var xs []float64
			for _, e := range g.Entries {
				r := e.final().Analysis
				if f, ok := r.Fits[cov]; ok && !math.IsNaN(f.Gamma) {
					xs = append(xs, f.Gamma)
				} else if reason, ok := r.FitErrors[cov]; ok {
					t.Dropped = append(t.Dropped, Dropped{e.Name, fmt.Sprintf("gamma(%s) n/a: %s", cov, reason)})
				} else {
					t.Dropped = append(t.Dropped, Dropped{e.Name, fmt.Sprintf("gamma(%s) not computed", cov)})
				}
			}
			if len(xs) > 0 {
				g.Cells[cov] = Cell{MeanStd: awd.Summarize(xs), Protocol: g.Protocol}
			}
		}
	}
	slices.SortFunc(order, func(a, b display) int {
		if c := strings.Compare(a.data, b.data); c != 0 {
			return c
		}
		if c := strings.Compare(a.model, b.model); c != 0 {
			return c
		}
		return a.k - b.k
	})
	for _, d := range order {
		perLoss := byDisplay[d]
		single := true
		for _, gs := range perLoss {
			single = single && len(gs) == 1
		}
		if single {
			row := &Row{Data: d.data, Model: d.model, K: d.k, Losses: map[string]*Group{}}
			for l, gs := range perLoss {
				row.Losses[l] = gs[0]
			}
			t.Rows = append(t.Rows, row)
			continue
		}
		// Several protocols for one cell: one row each, never merged.
		var ls []string
		for l := range perLoss {
			ls = append(ls, l)
		}
		sort.Strings(ls)
		for _, l := range ls {
			gs := perLoss[l]
			for _, g := range gs {
				row := &Row{Data: d.data, Model: d.model, K: d.k, Losses: map[string]*Group{l: g}}
				if len(gs) > 1 {
					row.Variant = variant(g, gs)
				}
				t.Rows = append(t.Rows, row)
			}
		}
	}
	slices.SortStableFunc(t.Dropped, func(a, b Dropped) int { return strings.Compare(a.Name, b.Name) })
	return t, nil
}

// variant lists the settings in which g differs from the other protocols
// competing for the same cells.
func variant(g *Group, all []*Group) string {
	mine := g.Entries[0].Settings
	var diff []string
	for k, v := range mine {
		for _, o := range all {
			if o != g && o.Entries[0].Settings[k] != v {
				diff = append(diff, k+"="+v)
				break
			}
		}
	}
	for _, o := range all {
		for k := range o.Entries[0].Settings {
			if _, ok := mine[k]; !ok && !slices.Contains(diff, k+"=(none)") {
				diff = append(diff, k+"=(none)")
			}
		}
	}
	sort.Strings(diff)
	if len(diff) > 6 {
		diff = append(diff[:6], fmt.Sprintf("... %d more", len(diff)-6))
	}
	return strings.Join(diff, " ")
}

func fmtCell(c Cell, ok bool) string {
	if !ok || c.N == 0 {
		return "–"
	}
	if c.N == 1 {
		return fmt.Sprintf("%.3f (n=1)", c.Mean)
	}
	return fmt.Sprintf("%.3f ± %.3f (n=%d)", c.Mean, c.Std, c.N)
}

// Markdown renders the table, then the protocol of every cell group (P, B,
// epochs, k, head, seeds) and the dropped runs with the reasons.
func (t *Table) Markdown() string {
	var b bytes.Buffer
	h := []string{"data", "model", "K"}
	variants := slices.ContainsFunc(t.Rows, func(r *Row) bool { return r.Variant != "" })
	if variants {
		h = append(h, "variant")
	}
	for _, l := range losses {
		for _, c := range t.Covs {
			h = append(h, fmt.Sprintf("gamma(%s) %s", c, strings.ToUpper(l)))
		}
	}
	b.WriteString("| " + strings.Join(h, " | ") + " |\n|")
	for range h {
		b.WriteString("---|")
	}
	b.WriteString("\n")
	for _, r := range t.Rows {
		cells := []string{r.Data, r.Model, strconv.Itoa(r.K)}
		if variants {
			cells = append(cells, r.Variant)
		}
		for _, l := range losses {
			for _, c := range t.Covs {
				var cell Cell
				ok := false
				if g := r.Losses[l]; g != nil {
					cell, ok = g.Cells[c]
				}
				cells = append(cells, fmtCell(cell, ok))
			}
		}
		b.WriteString("| " + strings.Join(cells, " | ") + " |\n")
	}
	b.WriteString("\nProtocols (mean ± sample std over the seeds; n runs per cell):\n\n")
	for _, r := range t.Rows {
		for _, l := range losses {
			g := r.Losses[l]
			if g == nil {
				continue
			}
			var seeds, names []string
			for _, e := range g.Entries {
				seeds = append(seeds, e.Seed)
				names = append(names, e.Name)
			}
			v := ""
			if r.Variant != "" {
				v = " [" + r.Variant + "]"
			}
			fmt.Fprintf(&b, "- %s %s K=%d %s%s: P=%d, B=%d, epochs=%d, k=%d, %d logits; protocol %s; seeds %s\n",
				r.Data, r.Model, r.K, strings.ToUpper(l), v, g.P, g.B, g.Epochs, g.KTop, g.Head, g.Protocol[:min(12, len(g.Protocol))], strings.Join(seeds, ", "))
		}
	}
	if len(t.Dropped) > 0 {
		fmt.Fprintf(&b, "\nLeft out (%d):\n\n", len(t.Dropped))
		for _, d := range t.Dropped {
			fmt.Fprintf(&b, "- %s: %s\n", d.Name, d.Reason)
		}
	}
	return b.String()
}

// CSV renders the table with separate mean, std and n columns per loss and
// covariance, and each loss's protocol and its P, B, epochs and k.
func (t *Table) CSV() (string, error) {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	h := []string{"data", "model", "K", "variant"}
	for _, l := range losses {
		h = append(h, l+"_protocol", l+"_P", l+"_B", l+"_epochs", l+"_k")
		for _, c := range t.Covs {
			p := "gamma_" + strings.ReplaceAll(c, "_", "") + "_" + l
			h = append(h, p+"_mean", p+"_std", p+"_n")
		}
	}
	if err := w.Write(h); err != nil {
		return "", err
	}
	num := func(v float64) string {
		if math.IsNaN(v) {
			return ""
		}
		return strconv.FormatFloat(v, 'f', 4, 64)
	}
	for _, r := range t.Rows {
		rec := []string{r.Data, r.Model, strconv.Itoa(r.K), r.Variant}
		for _, l := range losses {
			g := r.Losses[l]
			if g == nil {
				rec = append(rec, "", "", "", "", "")
				for range t.Covs {
					rec = append(rec, "", "", "0")
				}
				continue
			}
			rec = append(rec, g.Protocol, strconv.Itoa(g.P), strconv.Itoa(g.B), strconv.Itoa(g.Epochs), strconv.Itoa(g.KTop))
			for _, c := range t.Covs {
				cell, ok := g.Cells[c]
				if !ok {
					rec = append(rec, "", "", "0")
					continue
				}
				std := num(cell.Std)
				if cell.N < 2 {
					std = ""
				}
				rec = append(rec, num(cell.Mean), std, strconv.Itoa(cell.N))
			}
		}
		if err := w.Write(rec); err != nil {
			return "", err
		}
	}
	w.Flush()
	return b.String(), w.Error()
}
