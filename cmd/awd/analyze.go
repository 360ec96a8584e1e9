package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/awd-toolkit/awd/awd"
	"github.com/awd-toolkit/awd/nn"
)

const analyzeHelp = `analyze loads a model checkpoint and measures, for one layer (--layer; with
--layers, several), the noise covariance C, the Hessian H, M2 and, for a
fully connected layer, the AWD covariances on a balanced data subset, then
fits c_i ~ lambda_i^gamma in H's eigenbasis and checks the Thm 5.1 bounds,
the alignment and (with --suppress) the suppression experiments
(docs/math.md). A convolution layer has no C_awd (its matched pairs have no
minimal-norm dW): its gamma_awd is M2's, which the summary names M2 and
marks "(M2)" in the gamma_awd column.

The checkpoint is an .npz of float32 arrays named as PyTorch's state_dict
(fc1.weight, ...). A checkpoint written by 'awd run' or 'awd train' has a
JSON beside it that records the architecture, the data subset (and the
folder it was read from), the loss, the batch size and the layer: they are
the defaults here, so
  awd train --out t1 && awd analyze t1/final.npz
needs no other flag (with --data another data set, the checkpoint's folder
and CIFAR standardisation are not taken), unless the training subset is
too small for the analysis's batch pairs at the training's batch size:
analyze says so before any work, naming the flag to change (awd run
checks this before training; awd train does not analyse). Only the
training files of the data set are read. A PyTorch model converted with
  numpy.savez("m.npz", **{k: v.detach().cpu().float().numpy() for k, v in model.state_dict().items()})
is recognised from its names and shapes; then give --loss, --batch and the
data flags that were used for training (a head of K < 10 logits takes
--classes with the K classes it was trained on).

Writes OUT/results.json (content_sha256, schema_version, config, fits,
bounds, alignment, suppression, timings) and OUT/arrays_epochNNNN.npz
(sample_indices, H_eigenvalues, c_C, c_Cawd, c_Cpair, c_Cpair2, c_Cpair2code, c_Cmb, c_M2,
s_i, ...).

With --shard i/n it accumulates only the i-th of n ranges of the AWD batch
pairs (the sums over samples are additive) and writes
OUT/shard_i_of_n.acc (versioned, checksummed); run the n shards anywhere
(each into its own OUT), then 'awd reduce' merges them and finishes the
analysis, equal to the unsharded one to rounding:
  awd analyze ckpt.npz --shard 1/2 --out s1 & awd analyze ckpt.npz --shard 2/2 --out s2
  awd reduce s1/shard_1_of_2.acc s2/shard_2_of_2.acc --out whole
A shard is a range of the dense path's sums for one fully connected layer:
--shard refuses --layers, --matrix-free and a convolution layer, and n at
most the number of batch pairs (the message gives it).

Every input is checked (data subset, layers, k against each analysed
layer's d, batch size, memory, the shard) before OUT is created or claimed.

Layers too wide for the dense path (its d x d matrices: a 1000 x 1000
layer has d = 10^6) and convolution layers (features.0, .3, .6, .8 of the
cnn) are analysed matrix-free, which is said on stderr and in the results'
notes; --matrix-free asks for it. --layers all analyses every layer of the
model in one pass over the data: one entry per layer in results.json
(whose config records the layers, matrix-free, and no single layer),
arrays_epochNNNN_<layer>.npz, and 'awd plot' draws gamma against depth.`

func init() {
	var o options
	cmd := &cobra.Command{
		Use:   "analyze CHECKPOINT.npz",
		Short: "analyse one checkpoint (ours, or a PyTorch state_dict saved as .npz)",
		Long:  analyzeHelp,
		Args:  argCount(1, 1),
		RunE:  func(cmd *cobra.Command, args []string) error { return analyzeCommand(cmd, &o, args[0]) },
	}
	addFlags(cmd, &o, map[string]string{"per-class": "2000", "suppress": "", "out": "out/analyze"},
		concat(dataFlags, []string{"loss", "batch"}, analysisFlags, []string{"shard", "layers"}, outFlags)...)
	// The checkpoint's JSON gives these (checkpointDefaults); the
	// defaults printed are for a checkpoint without one.
	for _, name := range []string{"loss", "batch", "layer", "data", "data-dir", "classes", "per-class", "head", "data-seed", "cifar-std"} {
		cmd.Flags().Lookup(name).Usage += " (the checkpoint's when its JSON has it; otherwise this default)"
	}
	rootCmd.AddCommand(cmd)
}

// analysisOwner is what an analyze folder is of: a checkpoint (by
// content), the data and the analysis options (ownerAnalysis).
type analysisOwner struct {
	Checkpoint string      `json:"checkpoint_sha256"`
	Data       nn.DataSpec `json:"data"`
	Analysis   any         `json:"analysis"`
	Shard      string      `json:"shard,omitempty"` // i/n: the folder holds one shard's accumulation
	Layers     []string    `json:"layers,omitempty"`
}

// ownerAnalysis is the analysis options an analyze folder (and its
// report's config) records: cfg for one layer; for --layers, those every
// layer was analysed with, matrix-free (AnalyzeLayers) and no single
// layer: the list is the owner's Layers, and each result's config names
// its own. cfg as it is would say that the first layer listed was
// analysed, on the dense path unless --matrix-free was given.
func ownerAnalysis(cfg awd.Config, layers []string) any {
	if layers == nil {
		return cfg
	}
	cfg.MatrixFree = true
	b, _ := json.Marshal(cfg)
	var m map[string]any
	json.Unmarshal(b, &m)
	delete(m, "layer")
	return m
}

// analyzeInput is what `awd analyze` analyses: the checkpoint's model,
// its data, the analysis options, its epoch and the layers of --layers.
type analyzeInput struct {
	model  *nn.Model
	data   nn.DataSpec
	cfg    awd.Config
	epoch  int
	layers []string
	meta   *nn.CheckpointMeta // the checkpoint's JSON, nil without one
	origin *awd.Origin        // the checkpoint's architecture and training settings (nil without its JSON)
}

// analyzeInputs loads the checkpoint and checks the flags against it.
func analyzeInputs(cmd *cobra.Command, o *options, path string) (in analyzeInput, err error) {
	model, meta, err := nn.LoadCheckpoint(path)
	if err != nil {
		return in, err
	}
	if err := checkpointDefaults(cmd.Flags(), o, model, meta); err != nil {
		return in, err
	}
	data, err := o.dataSpec()
	if err != nil {
		return in, checkpointError(o, err)
	}
	if l := model.Arch.Outputs; data.Outputs() != l {
		if l > nn.DataClasses {
			return in, fmt.Errorf("%s: the checkpoint has %d logits, more than the %d classes of any data set awd reads%s", path, l, nn.DataClasses, lostHead(model, meta))
		}
		return in, checkpointError(o, fmt.Errorf("--head %d: the checkpoint has %d logits, the data %d classes; give --head %d with %d classes", data.Head, l, len(data.Classes), l, l))
	}
	if err := inputsFit(model, data); err != nil {
		return in, checkpointError(o, err)
	}
	cfg, err := o.analysisConfig(o.loss, o.batch)
	if err != nil {
		return in, checkpointError(o, err)
	}
	var layers []string
	if o.layers != "" {
		if layers, err = layerList(o.layers, model); err != nil {
			return in, err
		}
	}
	// --layers analyses these layers, not --layer's: k is checked against
	// each of them (the folder records the list: ownerAnalysis).
	if layers != nil {
		cfg, err = cfg.ForLayers(model, layers)
	} else {
		cfg, err = cfg.ForModel(model)
	}
	if err != nil {
		return in, checkpointError(o, flagError(err))
	}
	if o.shard != "" {
		if err := shardable(o, model, cfg); err != nil {
			return in, err
		}
	}
	in = analyzeInput{model: model, data: data, cfg: cfg, layers: layers, meta: meta, origin: awd.CheckpointOrigin(meta)}
	if meta != nil {
		in.epoch = meta.Epoch
	}
	return in, nil
}

// lostHead is the hint for a bare .npz MLP with more logits than any data
// set has classes: its arrays were read as the whole model, so a
// state_dict that lost its output layer reads as a shorter MLP whose last
// hidden layer gives the logits.
func lostHead(model *nn.Model, meta *nn.CheckpointMeta) string {
	n := len(model.Arch.Widths) + 1
	if meta != nil || model.Arch.Model != "mlp" {
		return ""
	}
	w, _ := model.Param(fmt.Sprintf("fc%d.weight", n))
	return fmt.Sprintf(": its last array, fc%d.weight (%d x %d), was taken as the output layer; if the state_dict lost its output layer (fc%d.weight), save it with every layer", n, w.Shape[0], w.Shape[1], n+1)
}

// trainedOn refuses to analyse train as the subset the checkpoint was
// trained on when its folder now holds other data: the checkpoint's JSON
// records the training subset's SHA-256 (nn.DataSHA256), and the analysis
// asks for the same subset (the same data set, classes, samples, seed,
// head and standardisation; the folder aside). Another subset, or a
// checkpoint without the record, is not checked.
func trainedOn(meta *nn.CheckpointMeta, data nn.DataSpec, train *nn.Dataset) error {
	if meta == nil || meta.Data == nil || meta.DataSHA256 == "" {
		return nil
	}
	was, err := meta.Data.Normalized()
	if err != nil {
		return nil
	}
	was.Dir, data.Dir = "", ""
	a, _ := json.Marshal(was)
	b, _ := json.Marshal(data)
	if string(a) != string(b) {
		return nil
	}
	if sum := nn.DataSHA256(train); sum != meta.DataSHA256 {
		return fmt.Errorf("the data read are not those the checkpoint was trained on (its JSON records the training subset's SHA-256 %.12s, these are %.12s): give --data-dir where the training data are", meta.DataSHA256, sum)
	}
	return nil
}

// shardable refuses --shard with what only the matrix-free path analyses
// (--layers, --matrix-free, a convolution layer): shards accumulate the
// dense path's sums for one fully connected layer.
func shardable(o *options, model *nn.Model, cfg awd.Config) error {
	const why = "a sharded analysis accumulates the dense path's sums of one fully connected layer; the matrix-free path is not sharded"
	switch info, _ := model.LayerInfo(cfg.Layer); {
	case o.layers != "":
		return fmt.Errorf("--shard %s with --layers %s: %s (analyse the layers without --shard, or one layer with --layer)", o.shard, o.layers, why)
	case o.matrixFree:
		return fmt.Errorf("--shard %s with --matrix-free: %s (drop one of them)", o.shard, why)
	case info.Conv:
		return fmt.Errorf("--shard %s with --layer %s: a convolution is analysed matrix-free only; %s (drop --shard)", o.shard, cfg.Layer, why)
	}
	return nil
}

func analyzeCommand(cmd *cobra.Command, o *options, path string) error {
	// --layers analyses its own layers: a --layer beside it would be
	// dropped without a word.
	if fs := cmd.Flags(); fs.Changed("layer") && fs.Changed("layers") {
		return fmt.Errorf("--layer %s with --layers %s: give one of them (--layers analyses the layers it lists)", o.layer, o.layers)
	}
	// Signals first: a SIGTERM while the data loads ends the command with
	// a message, not silently.
	ctx, stop := signalContext()
	defer stop()
	in, err := analyzeInputs(cmd, o, path)
	if err != nil {
		return err
	}
	model, data, cfg, epoch, layers := in.model, in.data, in.cfg, in.epoch, in.layers
	train, err := data.LoadTrain()
	if err != nil {
		// Another folder is the remedy only for an error of the folder's
		// files, not for one of the subset the flags ask of them.
		if slices.Contains(o.fromCheckpoint, "data-dir") && errors.Is(err, nn.ErrDataFiles) {
			return fmt.Errorf("the checkpoint's data folder %s (from its JSON): %w; give --data-dir where the training data are now", data.Dir, err)
		}
		return err
	}
	if err := trainedOn(in.meta, data, train); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	// Everything the analysis would refuse is checked before the folder is
	// claimed, so that a refused command does not block the corrected one.
	i, n, _ := o.shardOf()
	if err := awd.Preflight(model, train, cfg, layers, i-1, n); err != nil {
		return checkpointError(o, flagError(err))
	}
	sha, _ := awd.FileSHA256(path)
	shard := ""
	if n > 0 {
		if shard, err = ownShard(o.out, i, n, o.fresh); err != nil {
			return err
		}
	}
	folder, err := awd.OpenFolder(o.out, "analyze", analysisOwner{sha, data, ownerAnalysis(cfg, layers), shard, layers}, o.fresh, path)
	if err != nil {
		return err
	}
	defer folder.Close()
	if err := folder.CheckData(nn.Fingerprint(train)); err != nil {
		return err
	}
	if o.shard != "" {
		return analyzeShard(ctx, cmd, o, folder, model, train, cfg, epoch, shardOrigin(in.origin, data))
	}
	// The report's config after the analysis: the data source's hash
	// (train.Source) runs beside it.
	config := func() json.RawMessage { return analysisReportConfig(folder.Owner.Config, model, train, in.origin) }
	if layers != nil {
		rs, err := awd.AnalyzeLayers(ctx, model, train, cfg, layers, newUI(cmd.ErrOrStderr(), o.quiet))
		if err != nil {
			return flagError(err)
		}
		return writeLayers(cmd, folder, config(), path, epoch, rs)
	}
	sayMatrixFree(cmd, model, train, cfg)
	r, err := awd.Analyze(ctx, model, train, cfg, newUI(cmd.ErrOrStderr(), o.quiet))
	if err != nil {
		return flagError(err)
	}
	return writeAnalysis(cmd, folder, config(), awd.Checkpoint{Epoch: epoch, File: path, Analysis: r})
}

// analysisReportConfig is the config of an analyze report: the folder's
// owner's (the checkpoint file's hash, the data, the analysis options) and
// what a reduce's report records of the same analysis: the hashes of the
// weights, of the samples and of the whole training set they were drawn
// from, and the checkpoint's origin (its JSON's
// architecture and training settings). awd table then averages only
// analyses of one network and training protocol, and knows an analysis
// and a reduce of one checkpoint as one run.
func analysisReportConfig(owner json.RawMessage, model *nn.Model, train *nn.Dataset, origin *awd.Origin) json.RawMessage {
	var m map[string]json.RawMessage
	if json.Unmarshal(owner, &m) != nil || m == nil {
		return owner
	}
	add := func(key string, v any) {
		if b, err := json.Marshal(v); err == nil {
			m[key] = b
		}
	}
	add("weights_sha256", awd.WeightsSHA256(model))
	add("data_sha256", nn.DataSHA256(train))
	if s := train.Source(); s != "" {
		add(awd.DataSourceKey, s)
	}
	if origin != nil {
		add("origin", origin)
	}
	b, err := json.Marshal(m)
	if err != nil {
		return owner
	}
	return b
}

// shardOrigin is the Origin a shard records for awd reduce's report: the
// checkpoint's and the data subset without its folder (the shards of one
// analysis may read the data from other folders).
func shardOrigin(origin *awd.Origin, data nn.DataSpec) *awd.Origin {
	out := &awd.Origin{}
	if origin != nil {
		*out = *origin
	}
	data.Dir = ""
	out.Data = &data
	return out
}

// sayMatrixFree says on stderr when Analyze will take the matrix-free path,
// and why.
func sayMatrixFree(cmd *cobra.Command, model *nn.Model, train *nn.Dataset, cfg awd.Config) {
	// A one-line note: --quiet hides progress, not notes (README).
	if why := awd.MatrixFreeReason(model, cfg, train.N, train.Dim()); why != "" {
		fmt.Fprintf(cmd.ErrOrStderr(), "matrix-free path for %s: %s\n", cfg.Layer, why)
	}
}

// writeAnalysis writes the report of one analysed checkpoint and its
// arrays into the folder, and prints the summary.
func writeAnalysis(cmd *cobra.Command, folder *awd.Folder, config json.RawMessage, ck awd.Checkpoint) error {
	ck.Arrays = awd.ArraysName(ck.Epoch)
	rep, err := writeReport(folder, config, ck)
	if err != nil {
		return err
	}
	printSummary(cmd.OutOrStdout(), rep, folder.Path("results.json"))
	return nil
}

// writeLayers writes the analyses of several layers of one checkpoint (awd
// analyze --layers): one arrays file per layer, one report, the per-layer
// summary.
func writeLayers(cmd *cobra.Command, folder *awd.Folder, config json.RawMessage, path string, epoch int, rs []*awd.Result) error {
	cks := make([]awd.Checkpoint, len(rs))
	for i, r := range rs {
		cks[i] = awd.Checkpoint{Epoch: epoch, File: path, Analysis: r, Arrays: awd.LayerArraysName(epoch, r.Layer)}
	}
	rep, err := writeReport(folder, config, cks...)
	if err != nil {
		return err
	}
	printLayers(cmd.OutOrStdout(), rep, folder.Path("results.json"))
	return nil
}

// writeReport writes the arrays of the checkpoints' analyses and the
// report holding them (its config: config; loss and accuracy on the
// analysis samples, no test set).
func writeReport(folder *awd.Folder, config json.RawMessage, cks ...awd.Checkpoint) (*awd.Report, error) {
	rep := &awd.Report{Tool: awd.Tool, RunID: folder.Owner.RunID, Config: config, Finished: true}
	for _, ck := range cks {
		r := ck.Analysis
		ck.TrainLoss, ck.TrainAcc, ck.TestLoss, ck.TestAcc = r.SampleLoss, r.SampleAcc, awd.Float(math.NaN()), awd.Float(math.NaN())
		if err := awd.WriteArrays(folder.Path(ck.Arrays), r); err != nil {
			return nil, err
		}
		rep.Checkpoints = append(rep.Checkpoints, ck)
	}
	return rep, awd.WriteReport(folder.Path("results.json"), rep)
}

// ownShard returns shard i of n as the owner of the analyze folder out
// records it: "i/n" however --shard spelled it (a folder written before
// that keeps its spelling, e.g. "01/02"). It refuses a folder that holds
// another shard's accumulation, with --fresh too (which would delete it):
// each shard needs its own --out. A folder of another shard that saved
// nothing is taken over.
func ownShard(out string, i, n int, fresh bool) (string, error) {
	shard := fmt.Sprintf("%d/%d", i, n)
	b, err := os.ReadFile(filepath.Join(out, awd.OwnerFile))
	if err != nil {
		return shard, nil // no owner yet (or unreadable: OpenFolder says so)
	}
	var owner awd.Owner
	var there analysisOwner
	if json.Unmarshal(b, &owner) != nil || owner.Command != "analyze" || json.Unmarshal(owner.Config, &there) != nil || there.Shard == "" {
		return shard, nil
	}
	ti, tn, err := parseShard(there.Shard)
	switch {
	case err != nil:
		return shard, nil
	case ti == i && tn == n:
		return there.Shard, nil
	}
	file := fmt.Sprintf("shard_%d_of_%d.acc", ti, tn)
	other := fmt.Sprintf("--out %s-%d", strings.TrimRight(out, "/"), i)
	if _, err := os.Stat(filepath.Join(out, file)); err == nil {
		return "", fmt.Errorf("--shard %s: %s holds shard %d/%d (%s); each shard needs its own --out (e.g. %s): --fresh would delete that shard", shard, out, ti, tn, file, other)
	}
	// No accumulation of the other shard: it did no work (killed before it
	// saved), so, as any folder without work, it binds nobody.
	return shard, nil
}

// analyzeShard accumulates shard i of n and saves it for awd reduce.
func analyzeShard(ctx context.Context, cmd *cobra.Command, o *options, folder *awd.Folder, model *nn.Model, train *nn.Dataset, cfg awd.Config, epoch int, origin *awd.Origin) error {
	i, n, _ := o.shardOf()
	acc, err := awd.Accumulate(ctx, model, train, cfg, awd.AccumulateOptions{Shard: i - 1, Shards: n, Progress: newUI(cmd.ErrOrStderr(), o.quiet)})
	if err != nil {
		return flagError(err)
	}
	acc.Info.Epoch, acc.Info.Origin = epoch, origin
	path := folder.Path(fmt.Sprintf("shard_%d_of_%d.acc", i, n))
	if err := acc.Save(path); err != nil {
		return err
	}
	fmt.Fprintf(cmd.OutOrStdout(), "shard %d of %d: %d samples, %d matched pairs, %.1fs: %s\n", i, n, len(acc.Samples), acc.Info.Pairs,
		acc.Timings.Pairs+acc.Timings.PerSample+acc.Timings.Accumulate, path)
	fmt.Fprintf(cmd.OutOrStdout(), "when all %d shards are written: awd reduce SHARD.acc... --out DIR\n", n)
	return nil
}

// layerList reads --layers: all, or names of the model's weight layers.
func layerList(s string, model *nn.Model) ([]string, error) {
	if strings.TrimSpace(s) == "all" {
		return model.WeightLayers(), nil
	}
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			return nil, fmt.Errorf("--layers %q: an empty name (names are separated by single commas)", s)
		}
		if f == "all" {
			return nil, fmt.Errorf("--layers %s: all stands alone (every layer with weights): give --layers all, or the names, such as %s", s, strings.Join(model.WeightLayers(), ","))
		}
		if _, err := model.LayerInfo(f); err != nil {
			return nil, fmt.Errorf("--layers %s: %v", s, err)
		}
		out = append(out, f)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("--layers %q: no layer named (give all, or names such as %s)", s, strings.Join(model.WeightLayers(), ","))
	}
	return out, nil
}

// inputsFit refuses, before the data are read, a data set whose images
// are not the model's inputs (a CIFAR-10 model, whose shape a bare
// state_dict gives, with the default --data mnist), naming the data sets
// whose images fit.
func inputsFit(model *nn.Model, data nn.DataSpec) error {
	in := data.Input()
	want, known := model.Arch.ImageShape()
	fits := func(s [3]int) bool {
		if known {
			return s == want
		}
		return s[0]*s[1]*s[2] == model.Arch.In[0]*model.Arch.In[1]*model.Arch.In[2]
	}
	if fits(in) {
		return nil
	}
	takes := fmt.Sprintf("inputs of %d values", model.Arch.In[0]*model.Arch.In[1]*model.Arch.In[2])
	if known {
		takes = fmt.Sprintf("%dx%dx%d images", want[0], want[1], want[2])
	}
	var names []string
	for _, name := range nn.DataSets {
		if fits(nn.DataSpec{Name: name}.Input()) {
			names = append(names, "--data "+name)
		}
	}
	do := "no data set awd reads (" + strings.Join(nn.DataSets, ", ") + ") has such inputs"
	if len(names) > 0 {
		do = "give " + strings.Join(names, " or ")
	}
	return fmt.Errorf("--data %s: its images are %dx%dx%d, the model takes %s; %s", data.Name, in[0], in[1], in[2], takes, do)
}

// checkpointDefaults fills the flags the user did not give from the
// checkpoint's JSON (data, loss, batch, layer); without a JSON (a converted
// PyTorch state_dict) a head with fewer than 10 logits is taken as K, and
// --classes must select that many classes.
func checkpointDefaults(fs *pflag.FlagSet, o *options, model *nn.Model, meta *nn.CheckpointMeta) error {
	set := func(name, value string) error {
		if fs.Changed(name) {
			return nil
		}
		if err := fs.Set(name, value); err != nil {
			return fmt.Errorf("checkpoint's %s %q: %v", name, value, err)
		}
		fs.Lookup(name).Changed = false
		return nil
	}
	if meta == nil {
		if l := model.Arch.Outputs; l < nn.DataClasses && !fs.Changed("head") {
			// A head of K logits was trained on K classes: which ones, no
			// JSON says, so --classes must name K of them.
			if classes, err := o.classList(); err == nil && len(classes) != l {
				return fmt.Errorf("--classes %s: %d classes, but the checkpoint has %d logits and no JSON beside it to say which classes it was trained on: give --classes %d (classes 0..%d) or the list of its %d classes", o.classes, len(classes), l, l, l-1, l)
			}
			return set("head", fmt.Sprint(l))
		}
		return nil
	}
	vals := [][2]string{{"loss", meta.Train.Loss.String()}, {"batch", fmt.Sprint(meta.Train.Batch)}, {"layer", meta.Layer}}
	if d := meta.Data; d != nil {
		vals = append(vals, [2]string{"data", d.Name}, [2]string{"classes", listString(d.Classes)},
			[2]string{"per-class", fmt.Sprint(d.PerClass)}, [2]string{"head", fmt.Sprint(d.Head)}, [2]string{"data-seed", fmt.Sprint(d.Seed)})
		// The checkpoint's folder and standardisation are those of its
		// data set: not for another one asked with --data.
		if asked, err := nn.ParseDataName(o.data); !fs.Changed("data") || err == nil && asked == d.Name {
			vals = append(vals, [2]string{"data-dir", d.Dir}, [2]string{"cifar-std", d.CIFARStd})
		}
	}
	for _, v := range vals {
		if v[1] == "" || v[1] == "0" && v[0] == "batch" {
			continue
		}
		if err := set(v[0], v[1]); err != nil {
			return err
		}
		if !fs.Changed(v[0]) {
			o.fromCheckpoint = append(o.fromCheckpoint, v[0])
		}
	}
	return nil
}

// checkpointError names a value that the checkpoint's JSON gave, not the
// user, as such: "--head 5: ..." becomes "the checkpoint's head 5 (its
// JSON; give --head to override): ...".
func checkpointError(o *options, err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	for _, name := range o.fromCheckpoint {
		if rest, ok := strings.CutPrefix(msg, "--"+name+" "); ok {
			if val, reason, ok := strings.Cut(rest, ": "); ok {
				return fmt.Errorf("the checkpoint's %s %s (from its JSON; give --%s to override): %s", name, val, name, reason)
			}
		}
	}
	return err
}

func listString(v []int) string {
	s := ""
	for i, x := range v {
		if i > 0 {
			s += ","
		}
		s += fmt.Sprint(x)
	}
	return s
}
