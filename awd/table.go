package awd

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
)

// CovarianceNames are the covariances whose gamma a table can show.
var CovarianceNames = []string{NameC, NameCAWD, NameCPair, NameCPair2, NameCMb, NameM2, NameCPair2Code,
	NameCPair + AnchorSuffix, NameCPair2 + AnchorSuffix, NameCPair2Code + AnchorSuffix}

// IsCovariance reports whether name is one of CovarianceNames.
func IsCovariance(name string) bool { return slices.Contains(CovarianceNames, name) }

// Table is the paper's Table 1 / Table 3 layout made from results files:
// one row per data set, model, K and protocol, and for MSE and CE the
// exponent gamma of each covariance as mean ± sample std over the files of
// the row (the seeds), with their number. Notes say which files or fits
// were left out and why.
type Table struct {
	Covs  []string
	Rows  []TableRow
	Notes []string
	// CI adds to every cell the error bars beyond the spread over seeds
	// (see CellCI). MakeTableCI sets it; its rows, unlike MakeTable's,
	// tell apart runs of other bootstrap replicates or groups, which
	// change the bootstrap SE.
	CI bool
}

// TableRow is one line of a Table. Variant names what sets its protocol
// apart from the other rows of the same data, model and K ("" when it is
// the only one).
type TableRow struct {
	Data, Model string
	K           int
	Layer       string // the layer analysed (a report of awd analyze --layers gives a row per layer)
	Variant     string
	Cells       map[string]MeanStd // key "<loss>/<covariance>", e.g. "ce/C"
	CIs         map[string]CellCI  // same keys
}

// CellCI are the error bars of a cell that the spread over seeds does not
// show: BootSE, the bootstrap standard error of gamma over the samples
// pooled over the files that have one (sqrt of the mean of the squared
// SEs; BootN files, analyses run with --bootstrap), and [KLow, KHigh], the
// range of gamma over the fits on the top k' directions, k/2 <= k' <= k, of
// every file (the cell's sensitivity to the choice of k; gamma_k).
type CellCI struct {
	BootSE      float64 `json:"boot_se"`
	BootN       int     `json:"boot_n"`
	KLow, KHigh float64
}

// cellCI accumulates the error bars of one cell.
type cellCI struct {
	se2         float64
	nse         int
	klow, khigh float64
}

func (c *cellCI) add(r *Result, cov string) {
	if b, ok := r.Bootstrap[cov]; ok && !math.IsNaN(float64(b.SE)) {
		c.se2 += float64(b.SE) * float64(b.SE)
		c.nse++
	}
	if g, ok := r.GammaK[cov]; ok && len(g.K) > 0 {
		top := g.K[len(g.K)-1]
		for i, k := range g.K {
			if v := float64(g.Gamma[i]); 2*k >= top && !math.IsNaN(v) {
				if c.khigh == 0 && c.klow == 0 {
					c.klow, c.khigh = v, v
				}
				c.klow, c.khigh = math.Min(c.klow, v), math.Max(c.khigh, v)
			}
		}
	}
}

func (c *cellCI) result() CellCI {
	out := CellCI{BootSE: math.NaN(), BootN: c.nse, KLow: math.NaN(), KHigh: math.NaN()}
	if c.nse > 0 {
		out.BootSE = math.Sqrt(c.se2 / float64(c.nse))
	}
	if c.khigh != 0 || c.klow != 0 {
		out.KLow, out.KHigh = c.klow, c.khigh
	}
	return out
}

// protocol is a report's protocol: what determines its results except the
// seeds (and where its files are). Two reports with the same protocol are
// replicates, and only those are averaged.
func protocol(rep *Report, ck Checkpoint, ci bool) (key string, fields map[string]string, src dataSource) {
	r := ck.Analysis
	var cfg any
	json.Unmarshal(rep.Config, &cfg)
	cfg = canonicalConfig(cfg)
	var an any
	b, _ := json.Marshal(r.Config)
	json.Unmarshal(b, &an)
	doc := map[string]any{"config": dropSeeds(cfg), "analysis": dropSeeds(an), "dataset": r.Dataset, "model": r.Model,
		"layer": r.Layer, "loss": r.Loss, "head": r.Head, "classes": r.Classes, "samples": r.N, "k": r.K, "batch": r.Batch,
		"m": r.M, "n": r.In, "epoch": ck.Epoch}
	fields = map[string]string{}
	flatten("", doc, fields)
	unusedSettings(fields, r.Layer, r.K, ci)
	ids := map[string]string{}
	seeds("config", cfg, ids)
	seeds("analysis", an, ids)
	for _, p := range []string{"analysis.", "config.analysis."} {
		// The suppression's seed draws only its own samples: it tells
		// apart no two runs of the table's numbers (unusedSettings).
		delete(ids, p+"suppression.seed")
	}
	if _, ok := ids["config.weights_sha256"]; ok {
		// The weights identify the checkpoint, whatever its file's bytes:
		// a reduce knows only them.
		delete(ids, "config.checkpoint_sha256")
	}
	ib, _ := json.Marshal(ids)
	fields[identityField] = string(ib)
	delete(fields, "loss")
	delete(fields, "config.train.loss")
	delete(fields, "analysis.loss")
	delete(fields, "config.analysis.loss")
	delete(fields, "config.origin.train.loss")
	id := fields[identityField]
	delete(fields, identityField)
	kb, _ := json.Marshal(fields)
	fields[identityField] = id
	return string(kb), fields, sourceOf(rep, cfg, ids["config.data.seed"])
}

// dataSource is what a report says of the data its run read: the data
// folder (its config's data.dir; "" when not recorded), a hash of the
// data read ("" when not recorded), which is the same for two runs of one
// protocol that read the same files and draw the same subset (draw: the
// kind of hash and the subset's seed), and the fingerprint of the whole
// training set the subset was drawn from (its config's
// data_source_sha256, DataSourceKey; "" when not recorded), which is the
// same for every draw from the same files.
type dataSource struct {
	dir, hash, draw, source string
}

// differs reports whether s and o are of other data: other training sets
// where both record their fingerprint, and else other hashes of one draw.
// Where it cannot tell, they are of the same data.
func (s dataSource) differs(o dataSource) bool {
	if s.source != "" && o.source != "" {
		return s.source != o.source
	}
	return s.hash != "" && o.hash != "" && s.draw == o.draw && s.hash != o.hash
}

// sourceOf is the dataSource of a report with the canonical config cfg
// and the subset's seed seed: the hash is the analysed samples' (the
// data_sha256 of a report of awd analyze or awd reduce), or else the
// fingerprint of the data the run read that the owner file of its folder
// records (Report.Owner); the training set's fingerprint is read from the
// report's own config (canonicalConfig drops it).
func sourceOf(rep *Report, cfg any, seed string) dataSource {
	var src dataSource
	m, _ := cfg.(map[string]any)
	if d, ok := m["data"].(map[string]any); ok {
		src.dir, _ = d["dir"].(string)
	}
	switch h, _ := m["data_sha256"].(string); {
	case h != "":
		src.hash, src.draw = h, "samples "+seed
	case rep.Owner != nil && rep.Owner.Data != "":
		src.hash, src.draw = rep.Owner.Data, rep.Owner.Command+" "+seed
	}
	var raw map[string]json.RawMessage
	if json.Unmarshal(rep.Config, &raw) == nil {
		json.Unmarshal(raw[DataSourceKey], &src.source)
	}
	return src
}

// notProtocol are the keys of a report's config that do not define its
// protocol: the bookkeeping of awd reduce (how the sums were split into
// shards and counted, the build and kernels that computed them, the memory
// estimate, the samples again), the epoch, which the table takes from
// the analysed checkpoint, and the fingerprint of the training set, which
// splitByData compares (runs of one protocol whose training sets agree
// are replicates, whatever their draws).
var notProtocol = []string{"build", "kernels", "estimate", "shards", "have", "counts", "pairs", "data_n", "epoch", "shard", DataSourceKey}

// canonicalConfig gives the config of a report of awd reduce (an
// AccumulationInfo) the layout of one of awd analyze: its analysis options
// under "analysis", its copies of the result's data set, model, head,
// classes and layer shape dropped (the protocol has the result's), the
// data subset its shards recorded under "data", and its
// bookkeeping (notProtocol) dropped from every report, and a report of
// awd run given the layout of origin (runOrigin). A reduce and an analyze
// of one checkpoint with the same settings are then one protocol, and, by
// the weights' and samples' hashes, one run.
func canonicalConfig(v any) any {
	m, ok := v.(map[string]any)
	if !ok {
		return v
	}
	out := map[string]any{}
	for k, e := range m {
		if !slices.Contains(notProtocol, k) {
			out[k] = e
		}
	}
	if _, reduce := out["weights_sha256"]; reduce {
		if _, ok := out["analysis"]; !ok {
			if an, ok := out["config"]; ok {
				out["analysis"] = an
				delete(out, "config")
			}
		}
		for _, k := range []string{"dataset", "model", "head", "classes", "m", "n"} {
			delete(out, k)
		}
		// The data subset a shard recorded is where analyze has it.
		if o, ok := out["origin"].(map[string]any); ok && o["data"] != nil {
			if _, ok := out["data"]; !ok {
				out["data"] = o["data"]
				delete(o, "data")
			}
		}
	}
	runOrigin(out)
	return out
}

// runOrigin gives the config of a report of awd run (or a sweep's job) the
// layout that awd analyze and awd reduce record of the checkpoint they
// analysed (Origin, CheckpointOrigin): the model's architecture for its
// data, the training settings without the epoch a resume started from,
// and the seed as init_seed, under "origin"; the epochs whose checkpoints
// it kept are dropped. An analysis of a run's checkpoint and the run's own
// analysis of it then have one protocol, and the same seeds make them one
// run. A config it cannot read is left as it is.
func runOrigin(cfg map[string]any) {
	if cfg["origin"] != nil || cfg["weights_sha256"] != nil || cfg["model"] == nil || cfg["train"] == nil {
		return
	}
	var run RunConfig
	if b, err := json.Marshal(cfg); err != nil || json.Unmarshal(b, &run) != nil {
		return
	}
	data, err := run.Data.Normalized()
	if err != nil {
		return
	}
	arch, err := run.Model.Arch(data)
	if err != nil {
		return
	}
	train := run.Train
	train.StartEpoch = 0
	b, _ := json.Marshal(Origin{Arch: &arch, Train: &train, InitSeed: run.Seed})
	var o any
	if json.Unmarshal(b, &o) != nil {
		return
	}
	cfg["origin"] = o
	for _, k := range []string{"model", "train", "seed", "checkpoints"} {
		delete(cfg, k)
	}
}

// identityField holds, among a protocol's fields, what tells its runs
// apart: their seeds and the checkpoint analysed. It is not part of the
// protocol key; two reports of one protocol with the same identity are the
// same run (a copy, or one checkpoint analysed twice).
const identityField = "\x00identity"

// isIdentity reports whether a config key holds what tells the runs of
// one protocol apart: a seed, or the hash of the checkpoint, its weights
// or the analysis samples.
func isIdentity(k string) bool {
	return k == "seed" || strings.HasSuffix(k, "_seed") || k == "checkpoint_sha256" || k == "weights_sha256" || k == "data_sha256"
}

// seeds collects the values that dropSeeds removes (seeds, checkpoint,
// weights and data hashes; not the data folder) from a decoded JSON
// document, by path.
func seeds(path string, v any, out map[string]string) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			p := path + "." + k
			if isIdentity(k) {
				b, _ := json.Marshal(e)
				out[p] = string(b)
				continue
			}
			seeds(p, e, out)
		}
	case []any:
		for i, e := range x {
			seeds(fmt.Sprintf("%s[%d]", path, i), e, out)
		}
	}
}

// unusedSettings makes the settings that cannot change a result equal in
// every protocol: the layer left to the model's default ("") is the layer
// analysed, the layers of awd analyze --layers (config.layers) are the
// row's layer asked matrix-free, and the goodness-of-fit replicates
// without the maximum-likelihood fits are dropped. So are the bootstrap's
// settings, which change no gamma (the fits are the full sample's): its
// level always (it sets the percentile interval, which no column shows),
// and its replicates and groups, which change the bootstrap SE, unless the
// table shows it (ci), and then its groups without a bootstrap. So are
// the suppression experiments' settings (interventions, suppression.*;
// awd run runs them by default, awd analyze does not): they run after the
// fits, on spectra of their own, and change no gamma, bootstrap SE or
// gamma(k). The correlations' and the heat map's number of directions
// count up to k (the result's): corr_k and rho_block are taken as their
// minimum with k, and corr_k is dropped without correlations. The epochs a
// run analysed (config.analyze_at) are dropped: the table reads the last,
// which the protocol's epoch names. A run of the CLI's defaults and one of
// the library's (or a sweep's) then share a row.
func unusedSettings(fields map[string]string, layer string, k int, ci bool) {
	delete(fields, "config.analyze_at")
	// awd analyze --layers analyses each layer it lists as --layer with
	// --matrix-free does, whatever the others and the layer asked
	// (AnalyzeLayers): the list, when it holds the row's layer, does not
	// change the row's result.
	var layers []string
	if json.Unmarshal([]byte(fields["config.layers"]), &layers) == nil && slices.Contains(layers, layer) {
		delete(fields, "config.layers")
		b, _ := json.Marshal(layer)
		fields["config.analysis.layer"] = string(b)
		fields["config.analysis.matrix_free"] = "true"
	}
	atMostK := func(key string) {
		if v, err := strconv.Atoi(fields[key]); err == nil && v > k {
			fields[key] = strconv.Itoa(k)
		}
	}
	for _, p := range []string{"analysis.", "config.analysis."} {
		if v, ok := fields[p+"correlation"]; ok && v == "false" {
			delete(fields, p+"corr_k")
		}
		atMostK(p + "corr_k")
		atMostK(p + "rho_block")
		atMostK(p + "suppression.corr_k")
		if v, ok := fields[p+"layer"]; ok && v == `""` {
			b, _ := json.Marshal(layer)
			fields[p+"layer"] = string(b)
		}
		delete(fields, p+"extras.bootstrap_level")
		if !ci || fields[p+"extras.bootstrap"] == "0" {
			delete(fields, p+"extras.bootstrap_shards")
		}
		if !ci {
			delete(fields, p+"extras.bootstrap")
		}
		if v, ok := fields[p+"extras.powerlaw_ml"]; ok && v == "false" {
			delete(fields, p+"extras.ml_reps")
		}
		delete(fields, p+"interventions")
		for key := range fields {
			if strings.HasPrefix(key, p+"suppression.") {
				delete(fields, key)
			}
		}
	}
}

// dropSeeds removes the seeds, data folders and checkpoint, weights and
// data hashes from a decoded JSON document.
func dropSeeds(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, e := range x {
			if isIdentity(k) || k == "dir" {
				continue
			}
			out[k] = dropSeeds(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = dropSeeds(e)
		}
		return out
	}
	return v
}

func flatten(prefix string, v any, out map[string]string) {
	if m, ok := v.(map[string]any); ok {
		for k, e := range m {
			p := k
			if prefix != "" {
				p = prefix + "." + k
			}
			flatten(p, e, out)
		}
		return
	}
	b, _ := json.Marshal(v)
	out[prefix] = string(b)
}

// lastEpoch returns the analyses of the report's last analysed epoch: one,
// or one per layer for a report of awd analyze --layers.
func lastEpoch(rep *Report) []Checkpoint {
	last := rep.Checkpoints[len(rep.Checkpoints)-1].Epoch
	var out []Checkpoint
	for _, ck := range rep.Checkpoints {
		if ck.Epoch != last {
			continue
		}
		if i := slices.IndexFunc(out, func(o Checkpoint) bool { return o.Analysis.Layer == ck.Analysis.Layer }); i >= 0 {
			out[i] = ck
		} else {
			out = append(out, ck)
		}
	}
	return out
}

// MakeTable groups the last analysed epoch of every report (names, for the
// notes, are their paths) by protocol and summarises gamma for the
// covariances covs (Table 1: C and C_awd; Table 3 adds C_pair, C_pair2).
// Each layer of a report that analysed several (awd analyze --layers) is
// its own row, and a table of more than one layer has a layer column.
// Runs of one protocol that read other data under one data set's name are
// split by training set, or data folder where that is not recorded
// (splitByData; some hashes come from Report.Owner, so read the reports
// with ReadReport). Runs that differ only in the settings of a bootstrap
// share a row: the table shows no bootstrap SE.
func MakeTable(reps []*Report, names []string, covs []string) *Table {
	return makeTable(reps, names, covs, false)
}

// MakeTableCI is MakeTable with error bars in every cell (Table.CI): runs
// of other bootstrap replicates or groups, whose bootstrap SE those show,
// are rows apart.
func MakeTableCI(reps []*Report, names []string, covs []string) *Table {
	return makeTable(reps, names, covs, true)
}

func makeTable(reps []*Report, names []string, covs []string, ci bool) *Table {
	t := &Table{Covs: covs, CI: ci}
	type group struct {
		data, model, loss string
		layer             string
		k                 int
		fields            map[string]string
		vals              map[string][]float64
		cis               map[string]*cellCI
		runs              []*tableRun // those counted
	}
	// First every run (a layer of a report) with its protocol, then the
	// runs of one protocol split by the data they read, then the cells.
	var runs []*tableRun
	byKey := map[string][]*tableRun{}
	var keys []string
	for i, rep := range reps {
		if len(rep.Checkpoints) == 0 {
			t.Notes = append(t.Notes, fmt.Sprintf("%s: no analysed epoch, left out", names[i]))
			continue
		}
		cks := lastEpoch(rep)
		if !rep.Finished {
			// Killed or stopped: its last analysed epoch may not be the
			// one the run planned last.
			t.Notes = append(t.Notes, fmt.Sprintf("%s: the run did not finish (killed or stopped): its last analysed epoch, %d, is tabulated", names[i], cks[0].Epoch))
		}
		for _, ck := range cks {
			key, fields, src := protocol(rep, ck, ci)
			run := &tableRun{r: ck.Analysis, name: names[i], key: ck.Analysis.Loss + "\x00" + key, fields: fields, src: src}
			json.Unmarshal([]byte(fields[identityField]), &run.id)
			delete(fields, identityField)
			if len(cks) > 1 {
				run.name += " (layer " + ck.Analysis.Layer + ")"
			}
			if _, ok := byKey[run.key]; !ok {
				keys = append(keys, run.key)
			}
			byKey[run.key] = append(byKey[run.key], run)
			runs = append(runs, run)
		}
	}
	for _, key := range keys {
		t.Notes = append(t.Notes, splitByData(byKey[key])...)
	}
	groups := map[string]*group{}
	var order []string
	for _, run := range runs {
		r := run.r
		gkey := run.key + "\x00" + run.source
		g, ok := groups[gkey]
		if !ok {
			g = &group{data: strings.TrimSuffix(r.Dataset, "/train"), model: r.Model, loss: r.Loss, layer: r.Layer, k: len(r.Classes), fields: run.fields,
				vals: map[string][]float64{}, cis: map[string]*cellCI{}}
			groups[gkey] = g
			order = append(order, gkey)
		}
		name := run.name
		if i := slices.IndexFunc(g.runs, run.same); i >= 0 {
			t.Notes = append(t.Notes, fmt.Sprintf("%s: the same run as %s (same protocol, seeds and checkpoint: a copy, or one run analysed twice), left out", name, g.runs[i].name))
			continue
		}
		g.runs = append(g.runs, run)
		for _, c := range covs {
			if f, ok := r.Fits[c]; ok && !math.IsNaN(f.Gamma) {
				g.vals[c] = append(g.vals[c], f.Gamma)
				if g.cis[c] == nil {
					g.cis[c] = &cellCI{}
				}
				g.cis[c].add(r, c)
			} else if e, ok := r.FitErrors[c]; ok {
				t.Notes = append(t.Notes, fmt.Sprintf("%s: gamma(%s) fit failed (%s), left out of its cell", name, c, e))
			}
		}
	}
	// Rows: the groups of one data set, model and K; a loss with several
	// protocols there gets a row per protocol, labelled by what differs.
	type bucketKey struct {
		data, model, layer string
		k                  int
	}
	buckets := map[bucketKey][]*group{}
	var bks []bucketKey
	for _, key := range order {
		g := groups[key]
		bk := bucketKey{g.data, g.model, g.layer, g.k}
		if _, ok := buckets[bk]; !ok {
			bks = append(bks, bk)
		}
		buckets[bk] = append(buckets[bk], g)
	}
	slices.SortFunc(bks, func(a, b bucketKey) int {
		if c := strings.Compare(a.data, b.data); c != 0 {
			return c
		}
		if c := strings.Compare(a.model, b.model); c != 0 {
			return c
		}
		if a.k != b.k {
			return a.k - b.k
		}
		return strings.Compare(a.layer, b.layer)
	})
	for _, bk := range bks {
		byLoss := map[string][]*group{}
		for _, g := range buckets[bk] {
			byLoss[g.loss] = append(byLoss[g.loss], g)
		}
		n := 0
		for _, gs := range byLoss {
			n = max(n, len(gs))
		}
		for i := 0; i < n; i++ {
			row := TableRow{Data: bk.data, Model: bk.model, K: bk.k, Layer: bk.layer, Cells: map[string]MeanStd{}, CIs: map[string]CellCI{}}
			var labels []string
			for _, loss := range []string{"mse", "ce"} {
				gs := byLoss[loss]
				if i >= len(gs) {
					continue
				}
				if len(gs) > 1 {
					labels = append(labels, loss+": "+variant(gs[i].fields, func(j int) map[string]string { return gs[j].fields }, len(gs), i))
				}
				for c, v := range gs[i].vals {
					row.Cells[loss+"/"+c] = Summarize(v)
					row.CIs[loss+"/"+c] = gs[i].cis[c].result()
				}
			}
			row.Variant = strings.Join(labels, "; ")
			t.Rows = append(t.Rows, row)
		}
	}
	return t
}

// tableRun is one analysed layer of one report in MakeTable: its result,
// name (for the notes), loss and protocol key, protocol fields, identity
// (what tells the runs of one protocol apart), the data it read and, set
// by splitByData, the data source that sets it apart from other runs of
// its protocol ("" when none does).
type tableRun struct {
	r      *Result
	name   string
	key    string
	id     map[string]string
	fields map[string]string
	src    dataSource
	source string
}

// splitByData gives the runs of one protocol their data sources, and
// returns notes that say why they were split. Runs of one protocol read
// the same data unless two of them record other data (dataSource.differs:
// other fingerprints of the whole training set, or, where one does not
// record it, other hashes of the same subset drawn): then the data set's
// name stands for other files. The runs are then told apart by the
// fingerprint of their training set (field data_source, beside the
// folders that hold it, data_dir), and those that do not record it by
// their data folder (data_dir; a run that does not record it joins the
// runs of its folder that do, when they agree), and within a folder whose
// files changed between two such runs by the hash (data_fingerprint).
// Hashes of other draws cannot be compared, so without such a pair the
// runs stay together, as runs that record no hash do.
func splitByData(runs []*tableRun) []string {
	a, b := otherData(runs)
	if a == nil {
		return nil
	}
	what := fmt.Sprintf("the same subset drawn, data fingerprints %.12s and %.12s", a.src.hash, b.src.hash)
	if a.src.source != "" && b.src.source != "" {
		what = fmt.Sprintf("training sets of fingerprints %.12s and %.12s", a.src.source, b.src.source)
	}
	notes := []string{fmt.Sprintf("%s and %s read other data under the name %s (%s): the runs of their protocol are split by the fingerprint of their training set, or by data folder for runs that do not record it",
		a.name, b.name, strings.TrimSuffix(a.r.Dataset, "/train"), what)}
	// The sources recorded in each folder: a run that records none takes
	// its folder's, when there is one.
	inDir := map[string][]string{}
	for _, r := range runs {
		if s := r.src.source; s != "" && !slices.Contains(inDir[r.src.dir], s) {
			inDir[r.src.dir] = append(inDir[r.src.dir], s)
		}
	}
	bySource, byDir := map[string][]*tableRun{}, map[string][]*tableRun{}
	var sources, dirs []string
	for _, r := range runs {
		s := r.src.source
		if s == "" && len(inDir[r.src.dir]) == 1 {
			s = inDir[r.src.dir][0]
		}
		switch {
		case s != "":
			if _, ok := bySource[s]; !ok {
				sources = append(sources, s)
			}
			bySource[s] = append(bySource[s], r)
		default:
			if _, ok := byDir[r.src.dir]; !ok {
				dirs = append(dirs, r.src.dir)
			}
			byDir[r.src.dir] = append(byDir[r.src.dir], r)
		}
	}
	for _, s := range sources {
		rs := bySource[s]
		var folders []string
		for _, r := range rs {
			if !slices.Contains(folders, r.src.dir) {
				folders = append(folders, r.src.dir)
			}
		}
		slices.Sort(folders)
		d, _ := json.Marshal(strings.Join(folders, ", "))
		for _, r := range rs {
			r.source = "source\x00" + s
			r.fields = maps.Clone(r.fields)
			r.fields["data_dir"] = string(d)
			r.fields["data_source"] = strconv.Quote(s[:min(12, len(s))])
		}
	}
	for _, dir := range dirs {
		rs := byDir[dir]
		d, _ := json.Marshal(dir)
		for _, r := range rs {
			r.source = "dir\x00" + dir
			r.fields = maps.Clone(r.fields)
			r.fields["data_dir"] = string(d)
		}
		a, b := otherData(rs)
		if a == nil {
			continue
		}
		notes = append(notes, fmt.Sprintf("%s and %s read other data from the folder %s (the same subset drawn, data fingerprints %.12s and %.12s): its files changed between the runs, so each fingerprint gets its own row",
			a.name, b.name, d, a.src.hash, b.src.hash))
		for _, r := range rs {
			fp := "unknown"
			if r.src.hash != "" {
				fp = r.src.hash[:min(12, len(r.src.hash))]
			}
			r.source += "\x00" + r.src.hash
			r.fields["data_fingerprint"] = strconv.Quote(fp)
		}
	}
	return notes
}

// same reports whether o is the same run as r, in one protocol: the same
// seeds, and the same checkpoint, weights and samples where both record
// their hashes. A report of awd run records none of them: the analysis of
// its checkpoint by awd analyze, whose hashes name that checkpoint, is
// the same run as its own by the seeds (training is reproducible for
// them) and the data folder, not a second replicate.
func (r *tableRun) same(o *tableRun) bool {
	hashes := 0
	for k, v := range r.id {
		w, ok := o.id[k]
		switch {
		case ok && w != v, !ok && !isHash(k):
			return false
		case ok && isHash(k):
			hashes++
		}
	}
	for k := range o.id {
		if _, ok := r.id[k]; !ok && !isHash(k) {
			return false
		}
	}
	switch rh, oh := hasHash(r.id), hasHash(o.id); {
	case rh && oh:
		return hashes > 0
	case rh != oh:
		// One of them (awd run's) records no hash: only the training
		// set's fingerprint, where both record it, or else the data
		// folder can tell other data apart.
		if r.src.source != "" && o.src.source != "" {
			return r.src.source == o.src.source
		}
		return r.src.dir == o.src.dir
	}
	return true
}

// hasHash reports whether an identity records a hash.
func hasHash(id map[string]string) bool {
	for k := range id {
		if isHash(k) {
			return true
		}
	}
	return false
}

// isHash reports whether an identity key is a hash (of a checkpoint file,
// weights or samples), which not every report records.
func isHash(k string) bool { return strings.HasSuffix(k, "_sha256") }

// otherData returns the first two runs that record other data
// (dataSource.differs; nil, nil when there are none).
func otherData(runs []*tableRun) (*tableRun, *tableRun) {
	for i, a := range runs {
		for _, b := range runs[i+1:] {
			if a.src.differs(b.src) {
				return a, b
			}
		}
	}
	return nil, nil
}

// variant names the fields of group i whose values are not shared by all n
// groups (fields of group j given by at): every one of them, so that two
// rows that differ only in a late key (in sorted order) still read apart.
func variant(mine map[string]string, at func(int) map[string]string, n, i int) string {
	var diff []string
	for _, k := range sortedKeys(mine) {
		for j := 0; j < n; j++ {
			if j != i && at(j)[k] != mine[k] {
				diff = append(diff, k+"="+mine[k])
				break
			}
		}
	}
	return strings.Join(diff, ", ")
}

func (t *Table) header() []string {
	h := t.keyHeader()
	for _, loss := range []string{"mse", "ce"} {
		for _, c := range t.Covs {
			h = append(h, fmt.Sprintf("gamma(%s) %s", c, strings.ToUpper(loss)))
		}
	}
	return h
}

// keyHeader is the header of the columns that name a row: data, model, K,
// and the layer when the table holds more than one.
func (t *Table) keyHeader() []string {
	if t.layered() {
		return []string{"data", "model", "layer", "K"}
	}
	return []string{"data", "model", "K"}
}

// key is the row's cells under keyHeader.
func (t *Table) key(r TableRow) []string {
	if t.layered() {
		return []string{r.Data, r.Model, r.Layer, strconv.Itoa(r.K)}
	}
	return []string{r.Data, r.Model, strconv.Itoa(r.K)}
}

// layered reports whether the rows are of more than one layer.
func (t *Table) layered() bool {
	return slices.ContainsFunc(t.Rows, func(r TableRow) bool { return r.Layer != t.Rows[0].Layer })
}

func (t *Table) hasVariants() bool {
	return slices.ContainsFunc(t.Rows, func(r TableRow) bool { return r.Variant != "" })
}

// Markdown renders the table; a cell is "mean ± std (n)", "n/a" when empty,
// and with CI "mean ± std (n) [boot se S; k/2..k: lo-hi]" (the parts that
// are known).
func (t *Table) Markdown() string {
	var b bytes.Buffer
	h := t.header()
	if t.hasVariants() {
		h = append(h, "protocol")
	}
	b.WriteString("| " + strings.Join(h, " | ") + " |\n|")
	for range h {
		b.WriteString("---|")
	}
	b.WriteString("\n")
	for _, r := range t.Rows {
		cells := t.key(r)
		for _, loss := range []string{"mse", "ce"} {
			for _, c := range t.Covs {
				s, ok := r.Cells[loss+"/"+c]
				if !ok || s.N == 0 {
					cells = append(cells, "n/a")
					continue
				}
				cell := fmt.Sprintf("%s (%d)", s, s.N)
				if t.CI {
					cell += r.CIs[loss+"/"+c].text()
				}
				cells = append(cells, cell)
			}
		}
		if t.hasVariants() {
			// A "|" in a value (a folder's name) would end the cell.
			cells = append(cells, strings.ReplaceAll(r.Variant, "|", `\|`))
		}
		b.WriteString("| " + strings.Join(cells, " | ") + " |\n")
	}
	return b.String()
}

// text is the CI part of a Markdown cell.
func (c CellCI) text() string {
	var parts []string
	if c.BootN > 0 {
		parts = append(parts, fmt.Sprintf("boot se %.3f", c.BootSE))
	}
	if !math.IsNaN(c.KLow) {
		parts = append(parts, fmt.Sprintf("k/2..k: %.3f to %.3f", c.KLow, c.KHigh)) // "-0.1--0.2" read badly
	}
	if len(parts) == 0 {
		return ""
	}
	return " [" + strings.Join(parts, "; ") + "]"
}

// CSV renders the table with separate mean, std and n columns (with CI
// also the pooled bootstrap SE and the gamma(k) range).
func (t *Table) CSV() (string, error) {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	h := t.keyHeader()
	for _, loss := range []string{"mse", "ce"} {
		for _, c := range t.Covs {
			p := "gamma_" + npzLabel(c) + "_" + loss
			h = append(h, p+"_mean", p+"_std", p+"_n")
			if t.CI {
				h = append(h, p+"_boot_se", p+"_kmin", p+"_kmax")
			}
		}
	}
	h = append(h, "protocol")
	if err := w.Write(h); err != nil {
		return "", err
	}
	f := func(v float64) string {
		if math.IsNaN(v) {
			return ""
		}
		return strconv.FormatFloat(v, 'f', 4, 64)
	}
	for _, r := range t.Rows {
		rec := t.key(r)
		for _, loss := range []string{"mse", "ce"} {
			for _, c := range t.Covs {
				s, ok := r.Cells[loss+"/"+c]
				if !ok {
					rec = append(rec, "", "", "0")
					if t.CI {
						rec = append(rec, "", "", "")
					}
					continue
				}
				std := s.Std
				if s.N < 2 {
					std = math.NaN() // the sample std of one run is undefined
				}
				rec = append(rec, f(s.Mean), f(std), strconv.Itoa(s.N))
				if t.CI {
					ci := r.CIs[loss+"/"+c]
					rec = append(rec, f(ci.BootSE), f(ci.KLow), f(ci.KHigh))
				}
			}
		}
		if err := w.Write(append(rec, r.Variant)); err != nil {
			return "", err
		}
	}
	w.Flush()
	return b.String(), w.Error()
}
