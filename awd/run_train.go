package awd

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/awd-toolkit/awd/internal/atomicfile"
	"github.com/awd-toolkit/awd/nn"
)

// trainEpochs runs the epochs after r.start, writing each epoch's files.
func (r *runner) trainEpochs(ctx context.Context) error {
	tc := r.cfg.Train
	tc.StartEpoch = r.start
	tc.PrevFullAcc = r.fullAccs(r.start)
	if r.finished() {
		return nil
	}
	r.perEpoch = (r.train.N + tc.Batch - 1) / tc.Batch
	r.startTraining(r.start)
	tc.OnBatch = func(int, int) {
		if r.training {
			r.prog.Add(1)
		}
	}
	tc.Done = ctx.Done()
	_, err := nn.Train(r.model, r.train, r.test, tc, func(st nn.EpochStats, m *nn.Model) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		return r.epochDone(ctx, st, m)
	})
	r.endTraining()
	if errors.Is(err, nn.ErrStopped) && ctx.Err() != nil {
		return ctx.Err()
	}
	if errors.Is(err, nn.ErrNonFinite) {
		if _, serr := os.Stat(r.lastPath()); serr == nil {
			return fmt.Errorf("%w (the last good checkpoint is %s)", err, r.lastPath())
		}
		return fmt.Errorf("%w (no checkpoint was written: try a smaller learning rate)", err)
	}
	return err
}

// startTraining opens the progress stage of the epochs after epoch from,
// up to the next analysis or the end, when any are left. (An early stop
// ends it short.)
func (r *runner) startTraining(from int) {
	until := r.cfg.Train.Epochs
	if r.cfg.Analysis != nil {
		for _, e := range r.cfg.AnalyzeAt {
			if e > from && e < until {
				until = e
			}
		}
	}
	if until > from {
		r.prog.Start("training", (until-from)*r.perEpoch)
		r.training, r.trainUntil = true, until
	}
}

// endTraining closes the training stage if one is open.
func (r *runner) endTraining() {
	if r.training {
		r.prog.Finish()
		r.training = false
	}
}

// finished reports whether training is over: all epochs done, or stopped
// early after the last logged epoch (nn.TrainConfig.Stops).
func (r *runner) finished() bool {
	if r.start >= r.cfg.Train.Epochs {
		return true
	}
	l := r.logOf(r.start)
	st := nn.EpochStats{Epoch: r.start, TrainLoss: float64(l.TrainLoss), FullLoss: float64(l.FullLoss)}
	return r.start > 0 && r.cfg.Train.Stops(st, r.fullAccs(r.start))
}

// fullAccs are the logged whole-training-set accuracies of epochs 1..e
// (what the early stop of the paper's code looks back on).
func (r *runner) fullAccs(e int) []float64 {
	var out []float64
	for _, l := range r.rep.Training {
		if l.Epoch <= e && !math.IsNaN(float64(l.FullAcc)) {
			out = append(out, float64(l.FullAcc))
		}
	}
	return out
}

// epochDone writes the files of a finished epoch, in the order that keeps a
// killed run resumable: the kept checkpoint, the analysis and its arrays,
// metrics.jsonl and results.json, and last of all checkpoints/last.npz (a
// restart resumes from the last one and redoes what came after it).
func (r *runner) epochDone(ctx context.Context, st nn.EpochStats, m *nn.Model) error {
	l := EpochLog{Epoch: st.Epoch, TrainLoss: Float(st.TrainLoss), TrainAcc: Float(st.TrainAcc), FullLoss: Float(st.FullLoss),
		FullAcc: Float(st.FullAcc), TestLoss: Float(st.TestLoss), TestAcc: Float(st.TestAcc), LR: st.LR, Seconds: st.Seconds}
	r.rep.Training = append(slices.DeleteFunc(r.rep.Training, func(x EpochLog) bool { return x.Epoch >= st.Epoch }), l)
	stop := r.cfg.Train.Stops(st, r.fullAccs(st.Epoch))
	early := stop && st.Epoch < r.cfg.Train.Epochs
	r.rep.StoppedEarly = nil
	if early {
		r.rep.StoppedEarly = r.earlyStop(st.Epoch)
	}
	if slices.Contains(r.kept(), st.Epoch) || stop {
		if err := nn.SaveCheckpoint(r.epochPath(st.Epoch), m, r.meta(st.Epoch)); err != nil {
			return err
		}
	}
	analyse := slices.Contains(r.cfg.AnalyzeAt, st.Epoch) || stop && len(r.cfg.AnalyzeAt) > 0
	if analyse && !r.analysed(st.Epoch) {
		// The analysis's stages come between two training stages: the
		// one so far ends here, and the epochs left make a new one.
		r.endTraining()
		if early {
			r.logEarlyStop() // before the analysis it leads to
			early = false
		}
		if err := r.analyse(ctx, st.Epoch, m, l, st.Epoch == r.lastAnalysis() || stop); err != nil {
			return err
		}
	}
	if !stop && (!r.training || st.Epoch >= r.trainUntil) {
		// The training stage so far is over (at an analysis epoch, done
		// now or on an earlier start): the next one runs to the next.
		r.endTraining()
		r.startTraining(st.Epoch)
	}
	if err := r.save(); err != nil {
		return err
	}
	if err := nn.SaveCheckpoint(r.lastPath(), m, r.meta(st.Epoch)); err != nil {
		return err
	}
	r.start = st.Epoch
	if r.opt.Epoch != nil {
		r.opt.Epoch(l)
	}
	if early {
		r.endTraining()
		r.logEarlyStop() // after the epoch's line, with no analysis to lead to
	}
	return nil
}

// earlyStop describes an early stop after epoch e.
func (r *runner) earlyStop(e int) *EarlyStop {
	es := &EarlyStop{Epoch: e, StopLoss: r.cfg.Train.StopLoss, StopRule: stopRuleName(r.cfg.Train)}
	for _, c := range r.cfg.Checkpoints {
		if c > e {
			es.NotReached = append(es.NotReached, c)
		}
	}
	for _, a := range r.cfg.AnalyzeAt {
		if a > e {
			es.AnalysesNotReached = append(es.AnalysesNotReached, a)
		}
	}
	return es
}

// logEarlyStop says that training stopped early, and which checkpoints
// and analyses asked for it did not reach, as the report records them.
func (r *runner) logEarlyStop() {
	es := r.rep.StoppedEarly
	r.opt.Log("stopped early at epoch %d (train loss below %g, rule %s)", es.Epoch, es.StopLoss, es.StopRule)
	if len(es.NotReached) > 0 {
		rel, _ := filepath.Rel(r.folder.Dir, r.epochPath(es.Epoch))
		r.opt.Log("the checkpoints asked for at epochs %s were not written (training stopped before them); the stop epoch's is %s", intList(es.NotReached), rel)
	}
	if len(es.AnalysesNotReached) > 0 {
		r.opt.Log("the analyses asked for at epochs %s were not run (training stopped before them); epoch %d is analysed instead", intList(es.AnalysesNotReached), es.Epoch)
	}
}

func (r *runner) meta(e int) nn.CheckpointMeta {
	meta := nn.CheckpointMeta{Epoch: e, InitSeed: r.cfg.Seed, Train: r.cfg.Train, Data: &r.cfg.Data, DataSHA256: r.trainSHA, RunID: r.folder.Owner.RunID}
	if a := r.cfg.Analysis; a != nil {
		meta.Layer = a.Layer
	}
	return meta
}

// analyse analyses the model of epoch e (with the suppression experiments
// when final) and records it in the report.
func (r *runner) analyse(ctx context.Context, e int, m *nn.Model, l EpochLog, final bool) error {
	cfg := *r.cfg.Analysis
	if !final {
		cfg.Interventions = nil // the suppression experiments run once, at the end
	}
	if cfg.Layer == "" {
		cfg.Layer = m.DefaultLayer()
	}
	// One path for every epoch of a run: matrix-free for all when the
	// largest analysis must be (r.matrixFree), or when earlier epochs
	// were. The memory budget is not a setting of the run, so a resume
	// with a smaller one would analyse the later epochs matrix-free (no
	// commutator, no suppression) beside dense earlier ones: refused.
	why := r.matrixFree
	for _, c := range r.rep.Checkpoints {
		if c.Epoch == e || c.Analysis == nil {
			continue
		}
		if c.Analysis.Config.MatrixFree && why == "" {
			why = fmt.Sprintf("as epoch %d of this run", c.Epoch)
		} else if !c.Analysis.Config.MatrixFree && why != "" {
			return folderError(StartOver, "analysis of epoch %d: %s, but epoch %d of this run was analysed on the dense path, and a run analyses every epoch one way: give it the budget it had", e, why, c.Epoch)
		}
		break
	}
	if why != "" {
		cfg.MatrixFree = true
	}
	info, _ := m.LayerInfo(cfg.Layer)
	r.opt.Log("epoch %d: analysing %s (d=%d, k=%d)", e, cfg.Layer, info.D(), cfg.K)
	res, err := Analyze(ctx, m, r.train, cfg, r.opt.Progress)
	if err != nil {
		return err
	}
	if why != "" && len(res.Notes) > 0 && strings.HasPrefix(res.Notes[0], "matrix-free path: ") && !r.cfg.Analysis.MatrixFree {
		res.Notes[0] = "matrix-free path, for every epoch of the run: " + why // not "asked for"
	}
	ck := Checkpoint{Epoch: e, TrainLoss: l.TrainLoss, TrainAcc: l.TrainAcc, TestLoss: l.TestLoss, TestAcc: l.TestAcc,
		File: filepath.Join("checkpoints", filepath.Base(r.epochPath(e))), Arrays: ArraysName(e), Analysis: res}
	if err := WriteArrays(r.folder.Path(ck.Arrays), res); err != nil {
		return err
	}
	r.rep.Checkpoints = append(slices.DeleteFunc(r.rep.Checkpoints, func(c Checkpoint) bool { return c.Epoch == e }), ck)
	slices.SortFunc(r.rep.Checkpoints, func(a, b Checkpoint) int { return a.Epoch - b.Epoch })
	r.opt.Log("epoch %d: gamma %s, gamma_awd %s (%.1fs)", e, res.Fits[NameC].Short(), awdGammaShort(res), res.Timings.Total)
	return r.save()
}

// awdGammaShort is gamma_awd as the epoch line gives it: C_awd's fit,
// or M2's marked "(M2)" where C_awd has none (a convolution layer, whose
// matched pairs have no dW; C_awd = (sigma^2/B) M2 has M2's gamma), as
// the summary's gamma_awd column does.
func awdGammaShort(res *Result) string {
	if _, ok := res.Fits[NameCAWD]; !ok {
		if m2, ok := res.Fits[NameM2]; ok {
			return m2.Short() + " (M2)"
		}
	}
	return res.Fits[NameCAWD].Short()
}

// ArraysName is the .npz of the analysis of epoch e.
func ArraysName(e int) string { return fmt.Sprintf("arrays_epoch%04d.npz", e) }

// LayerArraysName is the .npz of the analysis of layer at epoch e, when a
// report holds several layers (AnalyzeLayers).
func LayerArraysName(e int, layer string) string {
	return fmt.Sprintf("arrays_epoch%04d_%s.npz", e, layer)
}

// save writes metrics.jsonl and results.json.
func (r *runner) save() error {
	var buf bytes.Buffer
	for _, l := range r.rep.Training {
		line, err := json.Marshal(l)
		if err != nil {
			return err
		}
		buf.Write(append(line, '\n'))
	}
	if err := atomicfile.WriteBytes(r.folder.Path("metrics.jsonl"), buf.Bytes()); err != nil {
		return err
	}
	r.rep.Config = r.reportConfig()
	return WriteReport(r.folder.Path("results.json"), r.rep)
}

// finish analyses an early-stopped model that was not analysed yet and
// writes final.npz and the report.
func (r *runner) finish(ctx context.Context) error {
	last := r.start
	if last == 0 {
		return errors.New("run: no epoch was trained")
	}
	if len(r.cfg.AnalyzeAt) > 0 && last < r.cfg.Train.Epochs && !r.analysed(last) {
		if err := nn.SaveCheckpoint(r.epochPath(last), r.model, r.meta(last)); err != nil {
			return err
		}
		if err := r.analyse(ctx, last, r.model, r.logOf(last), true); err != nil {
			return err
		}
	}
	r.rep.Finished = true
	if err := r.save(); err != nil {
		return err
	}
	return nn.SaveCheckpoint(r.folder.Path("final.npz"), r.model, r.meta(last))
}

// Short formats a fit as "1.234 ± 0.005", or "n/a" for a failed fit; a
// fit through two points has no standard error: "1.234 ± n/a", not
// "± NaN".
func (f Fit) Short() string {
	if f.Used == 0 || math.IsNaN(f.Gamma) {
		return "n/a"
	}
	if math.IsNaN(float64(f.SE)) {
		return fmt.Sprintf("%.3f ± n/a", f.Gamma)
	}
	return fmt.Sprintf("%.3f ± %.3f", f.Gamma, float64(f.SE))
}

func stopRuleName(tc nn.TrainConfig) string {
	if tc.StopRule == "" {
		return nn.StopFull
	}
	return tc.StopRule
}
