package awd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/awd-toolkit/awd/nn"
)

// RunConfig is everything that determines a run's results: the data, the
// model, the seed, the training, and the epochs at which checkpoints are
// kept and analysed. A run folder resumes only with an identical RunConfig.
type RunConfig struct {
	Data  nn.DataSpec    `json:"data"`
	Model nn.ModelSpec   `json:"model"`
	Seed  uint64         `json:"seed"` // initialisation and SGD order (Train.Seed is set from it)
	Train nn.TrainConfig `json:"train"`
	// Checkpoints are the epochs whose checkpoint is kept
	// (checkpoints/epoch_NNNN.npz); every analysed epoch is kept too. An
	// early stop keeps its epoch's instead of the later ones, and the
	// report records those (Report.StoppedEarly).
	Checkpoints []int `json:"checkpoints,omitempty"`
	// AnalyzeAt are the epochs analysed; the suppression experiments run
	// at the last of them only. None: the run only trains (`awd train`).
	AnalyzeAt []int `json:"analyze_at,omitempty"`
	// Analysis is required with AnalyzeAt. Its Loss and Batch are the
	// training's: Batch is set to Train.Batch (the AWD batch B is the SGD
	// batch), and a Loss other than Train.Loss (or empty) is refused.
	Analysis *Config `json:"analysis,omitempty"`
}

// Normalized checks cfg (a batch larger than the training set is refused
// here when Data.PerClass fixes its size, and by Run once the data are
// read otherwise) and returns it with the data normalised, the epoch
// lists sorted and deduplicated, Train.Seed set from Seed, the analysis's
// loss and batch size those of the training, and its layer "" when it
// names the model's default layer (so that naming it or not is one run).
func (cfg RunConfig) Normalized() (RunConfig, error) {
	var err error
	if cfg.Data, err = cfg.Data.Normalized(); err != nil {
		return cfg, err
	}
	arch, err := cfg.Model.Arch(cfg.Data)
	if err != nil {
		return cfg, err
	}
	cfg.Train.Seed, cfg.Train.StartEpoch, cfg.Train.OnBatch = cfg.Seed, 0, nil
	if err := cfg.Train.Validate(); err != nil {
		return cfg, err
	}
	// With samples per class the training set's size is known before the
	// data are read (Subset takes exactly that many of each class).
	if p := cfg.Data.PerClass; p > 0 {
		if err := nn.CheckBatch(cfg.Train.Batch, len(cfg.Data.Classes)*p); err != nil {
			return cfg, err
		}
	}
	for _, l := range []*[]int{&cfg.Checkpoints, &cfg.AnalyzeAt} {
		*l = slices.Compact(slices.Sorted(slices.Values(*l)))
		if len(*l) > 0 && ((*l)[0] < 1 || (*l)[len(*l)-1] > cfg.Train.Epochs) {
			name := "checkpoints"
			if l == &cfg.AnalyzeAt {
				name = "analyze-at"
			}
			return cfg, nn.BadOption(name, intList(*l), "epochs must be in 1..%d (the training's epochs)", cfg.Train.Epochs)
		}
	}
	if len(cfg.AnalyzeAt) == 0 {
		cfg.Analysis = nil
		return cfg, nil
	}
	if cfg.Analysis == nil {
		return cfg, fmt.Errorf("analysis: AnalyzeAt asks for epochs %s, but RunConfig.Analysis is nil: set it (start from awd.DefaultConfig(%q)), or leave AnalyzeAt empty to only train", intList(cfg.AnalyzeAt), cfg.Train.Loss.String())
	}
	// The analysis is of this training's SGD: its loss (another one is
	// refused) and its B, the SGD batch (taken from the training).
	an := *cfg.Analysis
	if loss := cfg.Train.Loss.String(); an.Loss != "" && an.Loss != loss {
		return cfg, fmt.Errorf("analysis: loss %q, but the training's loss is %q: the analysis is of the training's loss (DefaultConfig(%q), or leave Analysis.Loss empty)", an.Loss, loss, loss)
	}
	an.Loss, an.Batch = cfg.Train.Loss.String(), cfg.Train.Batch
	if err := an.Validate(); err != nil {
		return cfg, err
	}
	// The model's default layer named is the default layer: one run
	// whether it is named or not (a folder records it as "").
	if an.Layer != "" {
		if m, err := nn.NewModel(arch, 1); err == nil && an.Layer == m.DefaultLayer() {
			an.Layer = ""
		}
	}
	cfg.Analysis = &an
	if k, p := len(cfg.Data.Classes), cfg.Data.PerClass; p > 0 && k*(p/2) < an.Batch {
		return cfg, nn.BadOption("per-class", p, "%d classes x %d samples give %d same-class couples, fewer than the batch size %d that the AWD batches need (per-class >= %d)",
			k, p, k*(p/2), an.Batch, 2*((an.Batch+k-1)/k))
	}
	return cfg, nil
}

// RunOptions are how Run executes; none of them changes the results.
type RunOptions struct {
	Command  string   // recorded in the folder's owner file; "" means "run"
	Fresh    bool     // replace what the folder holds instead of resuming
	Progress Progress // training and analysis stages; may be nil
	// Log receives one line per notable event (resuming, each analysis's
	// gammas, an early stop); may be nil.
	Log func(format string, args ...any)
	// Epoch is called after each epoch's files are written; may be nil.
	Epoch func(EpochLog)
}

// Run trains the model of cfg on its data and analyses it at the epochs
// cfg.AnalyzeAt, writing into dir (see OpenFolder): the owner file,
// results.json (the report: config, training log, analyses), metrics.jsonl
// (the training log, one JSON per line), arrays_epochNNNN.npz,
// checkpoints/epoch_NNNN.npz (and .json) at the kept and analysed epochs,
// checkpoints/last.npz after every epoch and final.npz at the end.
//
// A killed run started again with the same cfg resumes from its last
// finished epoch and ends with the same bytes as an uninterrupted run; it
// first completes any analysis the kill interrupted. Every file is written
// atomically, in an order that a kill at any point leaves resumable:
// checkpoint, arrays, metrics and report, then last.npz. ctx cancels within
// about a second. A folder that cannot be resumed (of another command,
// other settings or data, damaged or foreign files) is refused with a
// FolderError, whose Remedy says what can be done about it. Settings that
// are not valid and data the model cannot take are refused before dir is
// created or claimed: such a refusal leaves no folder behind. So is an
// analysis that does not fit the memory budget beside the analyses
// running in the process (HeldMemoryError): the run holds its analyses'
// estimate from its start to its end, training included.
func Run(ctx context.Context, cfg RunConfig, dir string, opt RunOptions) (rep *Report, err error) {
	var stop func(error) error
	ctx, opt.Progress, stop = guardProgress(ctx, opt.Progress)
	defer func() {
		if err = stop(err); err != nil {
			rep = nil
		}
	}()
	r, ctx, err := newRunner(ctx, cfg, dir, opt)
	if err != nil {
		return nil, err
	}
	defer r.release()
	defer r.folder.Close()
	if err := r.resume(ctx); err != nil {
		return nil, err
	}
	if err := r.trainEpochs(ctx); err != nil {
		return nil, err
	}
	if err := r.finish(ctx); err != nil {
		return nil, err
	}
	r.rep.Config = r.reportConfig()
	return r.rep, nil
}

// reportConfig is the config of the run's report: the owner's (the run's
// identity, which a resume checks) and the data's source, which awd table
// compares (DataSourceKey). It is asked for when the report is written,
// long after the data's loading started to hash the source.
func (r *runner) reportConfig() json.RawMessage {
	return WithDataSource(r.folder.Owner.Config, r.train.Source())
}

// runner is the state of one Run.
type runner struct {
	cfg         RunConfig
	opt         RunOptions
	prog        Progress
	folder      *Folder
	train, test *nn.Dataset
	model       *nn.Model
	rep         *Report
	start       int    // epochs done
	trainSHA    string // nn.DataSHA256 of train, recorded in the checkpoints
	perEpoch    int    // mini-batches per epoch (progress steps)
	training    bool   // a training progress stage is open
	trainUntil  int    // the epoch that ends it
	matrixFree  string // why every analysis of the run is matrix-free ("": dense)
	release     func() // gives back the memory the run's analyses hold
	trainedTo   int    // the last epoch the report found on resuming had trained
}

func newRunner(ctx context.Context, cfg RunConfig, dir string, opt RunOptions) (*runner, context.Context, error) {
	cfg, err := cfg.Normalized()
	if err != nil {
		return nil, ctx, err
	}
	if opt.Command == "" {
		opt.Command = "run"
	}
	if opt.Log == nil {
		opt.Log = func(string, ...any) {}
	}
	r := &runner{cfg: cfg, opt: opt, prog: orNop(opt.Progress), release: func() {}}
	arch, _ := cfg.Model.Arch(cfg.Data)
	if r.model, err = nn.NewModel(arch, cfg.Seed); err != nil {
		return nil, ctx, err
	}
	if r.train, r.test, err = cfg.Data.Load(); err != nil {
		return nil, ctx, err
	}
	// Everything that can be checked before training starts is checked
	// before the folder is claimed: a refused start leaves no owner file
	// that would bind the next start to its settings or data.
	if err := nn.CheckData(r.model, r.train, r.test); err != nil {
		return nil, ctx, err
	}
	if err := nn.CheckBatch(cfg.Train.Batch, r.train.N); err != nil {
		return nil, ctx, err
	}
	if a := cfg.Analysis; a != nil {
		c, err := a.ForModel(r.model)
		if err != nil {
			return nil, ctx, err
		}
		need, err := analysisNeed(r.model, c, r.train.N, r.train.Dim())
		if err != nil {
			return nil, ctx, err
		}
		// The last analysis (with the interventions) needs the most: when
		// it must run matrix-free, every epoch does.
		r.matrixFree = MatrixFreeReason(r.model, c, r.train.N, r.train.Dim())
		// Its plan is held from the start, so that runs in goroutines that
		// each fit alone but not together are refused before they train,
		// not after; the run's analyses count in it.
		if ctx, r.release, err = reserveMemory(ctx, need, MemoryBudget(c.Memory), false); err != nil {
			return nil, ctx, fmt.Errorf("analysis: %w", err)
		}
	}
	if r.folder, err = OpenFolder(dir, opt.Command, cfg, opt.Fresh); err != nil {
		r.release()
		return nil, ctx, err
	}
	if err := r.folder.CheckData(nn.Fingerprint(r.train, r.test)); err != nil {
		r.folder.Close()
		r.release()
		return nil, ctx, err
	}
	r.trainSHA = nn.DataSHA256(r.train)
	if err := os.MkdirAll(r.folder.Path("checkpoints"), 0o755); err != nil {
		r.folder.Close()
		r.release()
		return nil, ctx, err
	}
	r.rep = &Report{Tool: Tool, RunID: r.folder.Owner.RunID, Config: r.folder.Owner.Config}
	return r, ctx, nil
}

func (r *runner) lastPath() string { return r.folder.Path("checkpoints", "last.npz") }

func (r *runner) epochPath(e int) string {
	return r.folder.Path("checkpoints", fmt.Sprintf("epoch_%04d.npz", e))
}

// resume recovers an interrupted checkpoint, loads the last one and the
// report if the folder holds them (checking that both are this run's), and
// runs the analyses a kill left owed.
func (r *runner) resume(ctx context.Context) error {
	for _, p := range append([]string{r.lastPath(), r.folder.Path("final.npz"), r.folder.Path("results.json")}, r.keptPaths()...) {
		if err := notAFile(p); err != nil {
			return err
		}
	}
	for _, p := range append([]string{r.lastPath(), r.folder.Path("final.npz")}, r.keptPaths()...) {
		if _, err := nn.RecoverCheckpoint(p); err != nil {
			return folderError(StartOver, "resume: %w", err)
		}
	}
	m, meta, err := r.loadOwn(r.lastPath())
	if errors.Is(err, os.ErrNotExist) {
		if err := r.readReport(0); err != nil {
			return err
		}
		if r.trainedTo > 0 {
			// Not a fresh start: the checkpoint was lost or removed.
			r.opt.Log("%s is missing though %s records training to epoch %d: training again from epoch 0 (the same seed gives the same epochs)",
				r.lastPath(), r.folder.Path("results.json"), r.trainedTo)
		}
		return nil
	}
	if err != nil {
		return err
	}
	r.model, r.start = m, meta.Epoch
	if err := r.readReport(r.start); err != nil {
		return err
	}
	// results.json (with the training log) is written before last.npz, so
	// a last.npz without the report's log up to its epoch was not left by
	// a kill: going on would drop the lost epochs from metrics.jsonl.
	if !slices.ContainsFunc(r.rep.Training, func(l EpochLog) bool { return l.Epoch == r.start }) {
		return folderError(StartOver, "resume: checkpoints/last.npz is at epoch %d but %s is missing or has no log of that epoch", r.start, r.folder.Path("results.json"))
	}
	if err := r.checkWritten(); err != nil {
		return err
	}
	if r.cfg.Analysis != nil {
		r.opt.Log("resuming %s at epoch %d (%d of %d analyses done)", r.folder.Dir, r.start, len(r.rep.Checkpoints), len(r.cfg.AnalyzeAt))
	} else {
		r.opt.Log("resuming %s at epoch %d", r.folder.Dir, r.start)
	}
	for _, e := range r.cfg.AnalyzeAt {
		if e <= r.start && !r.analysed(e) {
			m, _, err := r.loadOwn(r.epochPath(e))
			if err != nil {
				return err
			}
			if err := r.analyse(ctx, e, m, r.logOf(e), e == r.lastAnalysis()); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkWritten checks the files written up to epoch r.start that the
// report relies on: a kept checkpoint missing or damaged (it cannot be
// made again without training again) is refused; an analysis whose arrays
// are missing or unreadable is dropped from the report, to be done again.
func (r *runner) checkWritten() error {
	for _, e := range r.kept() {
		if e > r.start {
			break
		}
		path := r.epochPath(e)
		if _, _, err := r.loadOwn(path); errors.Is(err, os.ErrNotExist) {
			rel, _ := filepath.Rel(r.folder.Dir, path)
			return folderError(StartOver, "resume: %s (kept at epoch %d, before checkpoints/last.npz at epoch %d) is missing", rel, e, r.start)
		} else if err != nil {
			return err
		}
	}
	r.rep.Checkpoints = slices.DeleteFunc(r.rep.Checkpoints, func(c Checkpoint) bool {
		if c.Arrays == "" {
			return false
		}
		if err := checkNPZ(r.folder.Path(c.Arrays)); err != nil {
			r.opt.Log("resume: %s is missing or damaged (%v): epoch %d is analysed again", c.Arrays, err, c.Epoch)
			return true
		}
		return false
	})
	return nil
}

func (r *runner) keptPaths() []string {
	var out []string
	for _, e := range r.kept() {
		out = append(out, r.epochPath(e))
	}
	return out
}

// kept returns the epochs whose checkpoints are kept.
func (r *runner) kept() []int {
	return slices.Compact(slices.Sorted(slices.Values(append(slices.Clone(r.cfg.Checkpoints), r.cfg.AnalyzeAt...))))
}

// loadOwn loads a checkpoint of this run folder, refusing one written by
// another run.
func (r *runner) loadOwn(path string) (*nn.Model, *nn.CheckpointMeta, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, nil, err
	}
	m, meta, err := nn.LoadCheckpoint(path)
	if err != nil {
		return nil, nil, folderError(StartOver, "resume: %w", err)
	}
	rel, _ := filepath.Rel(r.folder.Dir, path)
	switch {
	case meta == nil:
		// A bare .npz: the JSON that records whose checkpoint it is was
		// removed (awd writes the two as one unit).
		return nil, nil, folderError(StartOver, "resume: %s has no %s beside it, which records the run and epoch of the checkpoint", rel, strings.TrimSuffix(rel, ".npz")+".json")
	case meta.RunID != r.folder.Owner.RunID:
		return nil, nil, folderError(StartOver, "resume: %s was written by another run (run id %s, this folder's is %s)", rel, meta.RunID, r.folder.Owner.RunID)
	case !sameArch(meta.Arch, r.model.Arch) || meta.Epoch < 1 || meta.Epoch > r.cfg.Train.Epochs:
		return nil, nil, folderError(StartOver, "resume: %s holds the %s of epoch %d, not this run's model", rel, meta.Arch.Model, meta.Epoch)
	}
	return m, meta, nil
}

func sameArch(a, b nn.Arch) bool {
	return a.Model == b.Model && a.In == b.In && a.Outputs == b.Outputs && slices.Equal(a.Widths, b.Widths)
}

// notAFile refuses something other than a file (a folder of the user's,
// which a fresh start keeps) where the run writes one of its files:
// neither resuming nor starting over can write there.
func notAFile(path string) error {
	if fi, err := os.Stat(path); err == nil && !fi.Mode().IsRegular() {
		what := "not a regular file"
		if fi.IsDir() {
			what = "a folder"
		}
		return folderError(NewFolder, "%s is %s, where the run writes its file: move it away", path, what)
	}
	return nil
}

// readReport loads results.json when it exists, checks it is this run's,
// and drops what lies after epoch start (written after the last checkpoint
// by a run that was then killed: training resumes from start and writes it
// again).
func (r *runner) readReport(start int) error {
	path := r.folder.Path("results.json")
	old, err := ReadReport(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	var changed *ReportChangedError
	if errors.As(err, &changed) {
		// Running the command again is what the user just did.
		return folderError(StartOver, "resume: %s; if you changed it on purpose, delete its content_sha256 line", changed.What())
	}
	if err != nil {
		return folderError(StartOver, "resume: %w", err)
	}
	if old.RunID != r.folder.Owner.RunID {
		return folderError(StartOver, "resume: %s was written by another run (run id %q, this folder's is %s)", path, old.RunID, r.folder.Owner.RunID)
	}
	old.Tool, old.Config = r.rep.Tool, r.rep.Config
	for _, l := range old.Training {
		r.trainedTo = max(r.trainedTo, l.Epoch)
	}
	old.Training = slices.DeleteFunc(old.Training, func(l EpochLog) bool { return l.Epoch > start })
	if old.StoppedEarly != nil && old.StoppedEarly.Epoch > start {
		old.StoppedEarly = nil // that epoch is trained again
	}
	r.rep = old
	return nil
}

func (r *runner) analysed(e int) bool {
	return slices.ContainsFunc(r.rep.Checkpoints, func(c Checkpoint) bool { return c.Epoch == e })
}

func (r *runner) lastAnalysis() int {
	if len(r.cfg.AnalyzeAt) == 0 {
		return 0
	}
	return r.cfg.AnalyzeAt[len(r.cfg.AnalyzeAt)-1]
}

// logOf returns the training log of epoch e (NaN values when unknown).
func (r *runner) logOf(e int) EpochLog {
	for _, l := range r.rep.Training {
		if l.Epoch == e {
			return l
		}
	}
	nan := Float(math.NaN())
	return EpochLog{Epoch: e, TrainLoss: nan, TrainAcc: nan, FullLoss: nan, FullAcc: nan, TestLoss: nan, TestAcc: nan}
}

func intList(v []int) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = strconv.Itoa(x)
	}
	return strings.Join(s, ",")
}
