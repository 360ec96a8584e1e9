package sweep

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/awd-toolkit/awd/awd"
	"github.com/awd-toolkit/awd/nn"
)

// A job with Shards = n > 1 runs in three steps, so that on Slurm the
// analyses of a big cell spread over n array tasks:
//
//	train    awd.Run without analyses, keeping the checkpoints of the
//	         analysed epochs (jobs/ID/run/); the state becomes "analysing"
//	shard i  for every analysed epoch, shard i of n of its accumulation
//	         (awd.Accumulate), saved as jobs/ID/shards/eNNNN_i_of_n.acc
//	reduce   per epoch, the shards merged and finished (awd.Finalize); the
//	         job's results.json (jobs/ID/results.json: the run's training
//	         log and the analyses) and arrays; the state becomes "done"
//
// Locally RunJob does the three in turn; on Slurm the train steps run in
// the first arrays, the shard steps in arrays that depend on them, and the
// reduce steps in the collect job.

// StateAnalysing is a sharded job whose training is done and whose
// analysis shards or reduction are not.
const StateAnalysing = "analysing"

// trainOnly returns the job's run without analyses, its analysed epochs
// kept as checkpoints.
func (j *Job) trainOnly() awd.RunConfig {
	rc := j.Spec
	rc.Checkpoints = slices.Compact(slices.Sorted(slices.Values(append(slices.Clone(rc.Checkpoints), rc.AnalyzeAt...))))
	rc.AnalyzeAt, rc.Analysis = nil, nil
	return rc
}

// shardsDir holds a sharded job's accumulations.
const shardsDir = "shards"

func (s *Sweep) shardPath(id string, e, i, n int) string {
	return filepath.Join(s.JobDir(id), shardsDir, fmt.Sprintf("e%04d_%d_of_%d.acc", e, i, n))
}

// analysedEpochs returns the epochs a sharded job analyses, with their
// checkpoints: those of AnalyzeAt that training reached, and the last
// epoch of an early stop (from final.npz), as awd.Run does.
func (s *Sweep) analysedEpochs(j *Job) (epochs []int, files []string, err error) {
	run := s.RunDir(j.ID)
	rep, err := awd.ReadReport(filepath.Join(run, ResultsFile))
	if err != nil {
		return nil, nil, fmt.Errorf("the training's report: %w", err)
	}
	if !rep.Finished || len(rep.Training) == 0 {
		return nil, nil, errors.New("the training has not finished")
	}
	last := rep.Training[len(rep.Training)-1].Epoch
	for _, e := range j.Spec.AnalyzeAt {
		if e <= last {
			epochs = append(epochs, e)
			files = append(files, filepath.Join(run, "checkpoints", fmt.Sprintf("epoch_%04d.npz", e)))
		}
	}
	if last < j.Spec.Train.Epochs && !slices.Contains(epochs, last) {
		epochs = append(epochs, last)
		files = append(files, filepath.Join(run, "final.npz"))
	}
	return epochs, files, nil
}

// analysisAt is the job's analysis for epoch e of the analysed epochs: the
// suppression experiments only at the last.
func (j *Job) analysisAt(e int, epochs []int) awd.Config {
	cfg := *j.Spec.Analysis
	if e != slices.Max(epochs) {
		cfg.Interventions = nil
	}
	return cfg
}

// runShard accumulates shard i of n of every analysed epoch of a trained
// sharded job. A shard already saved is kept when it is what this step
// would accumulate (the checkpoint's weights, the data, the analysis
// settings, the shard and the build: awd.AccumulationInfo.Matches, and the
// epoch); otherwise (the run was trained again, the sweep's settings or
// awd changed, the file is damaged) it is accumulated again, and the log
// says why. alone is a shard step run in a process of its own (RunStep),
// not by the job's process after its training (execute).
func (s *Sweep) runShard(ctx context.Context, j *Job, i, n int, alone bool, log io.Writer) error {
	epochs, files, err := s.analysedEpochs(j)
	if err != nil {
		return err
	}
	train, err := s.trainedData(j)
	if err != nil {
		return err
	}
	for k, e := range epochs {
		path := s.shardPath(j.ID, e, i, n)
		model, _, err := nn.LoadCheckpoint(files[k])
		if err != nil {
			return err
		}
		cfg, opt := j.analysisAt(e, epochs), awd.AccumulateOptions{Shard: i - 1, Shards: n}
		old, err := awd.LoadAccumulation(path)
		if err == nil {
			if err = shardOf(old, e, model, train, cfg, opt); err == nil {
				continue
			}
		}
		if !errors.Is(err, os.ErrNotExist) {
			fmt.Fprintf(log, "epoch %d: shard %d of %d in %s not kept, accumulated again: %v\n", e, i, n, path, err)
		}
		acc, err := awd.Accumulate(ctx, model, train, cfg, opt)
		if err != nil {
			return err
		}
		// A shard step on its own: the job may have been reset, or its
		// training begun again, while this shard was accumulated; its
		// checkpoint is then condemned, and the shard is not saved.
		if alone {
			if err := s.checkTrained(j); err != nil {
				return err
			}
		}
		acc.Info.Epoch = e
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		if err := acc.Save(path); err != nil {
			return err
		}
		fmt.Fprintf(log, "epoch %d: shard %d of %d accumulated (%d samples)\n", e, i, n, len(acc.Samples))
	}
	if err := os.Remove(s.shardFailurePath(j.ID, i, n)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

// errRetraining marks the refusal of a shard step whose job's checkpoints
// are condemned (checkTrained): no shard failure is recorded, since the
// job has not failed and its training, when it runs, starts the shards
// over anyway.
var errRetraining = errors.New("its training must run first")

// checkTrained refuses the shard steps of job j while the checkpoints in
// its run folder are those of a training that its next start replaces:
// the job was reset, its results changed after it was done (both start
// it over from scratch), or such a start is under way or failed. A shard
// of those checkpoints would mix an analysis of the condemned training into
// the results of the next one.
func (s *Sweep) checkTrained(j *Job) error {
	st := s.status(j)
	rec := st.Record
	var why string
	switch {
	case rec == nil:
		return nil // never trained: the shard step finds no training's report
	case rec.Restart && !rec.ResetAt.IsZero():
		why = fmt.Sprintf("job %s was reset at %s and its training has not run since", j.ID, rec.ResetAt.Format(time.RFC3339))
	case rec.Restart && st.State == StateRunning: // its lock held, or Slurm runs it
		why = fmt.Sprintf("job %s is being trained again from scratch (process %d on %s)", j.ID, rec.PID, rec.Host)
	case rec.Restart:
		why = fmt.Sprintf("job %s starts over from scratch on its next start (its last start over did not finish: %s)", j.ID, cmpOr(firstLine(rec.Error), rec.State))
	case rec.State == StateDone && st.State != StateDone:
		why = fmt.Sprintf("job %s: %s", j.ID, st.Detail)
	default:
		return nil
	}
	return fmt.Errorf("%s: %w (`awd sweep %s`, or its train step), then its shards; the checkpoints in %s are not analysed, the training replaces them",
		why, errRetraining, ShellWord(s.Manifest.Config), s.RunDir(j.ID))
}

// shardOf reports why acc is not what the shard step of opt would
// accumulate of epoch e's checkpoint model on train with cfg (nil when it
// is).
func shardOf(acc *awd.Accumulation, e int, model *nn.Model, train *nn.Dataset, cfg awd.Config, opt awd.AccumulateOptions) error {
	if err := acc.Info.Matches(model, train, cfg, opt); err != nil {
		return err
	}
	if acc.Info.Epoch != e {
		return fmt.Errorf("of epoch %d", acc.Info.Epoch)
	}
	return nil
}

// trainedData loads the training split of job j's data, after checking
// that the data are those its run was trained on: the fingerprint of both
// splits, as awd.Run computes it, against the one the run folder's owner
// file records. Shards of other data (the data folder's files changed or
// moved to other ones since the training) would be reduced into results
// of a run that never saw them.
func (s *Sweep) trainedData(j *Job) (*nn.Dataset, error) {
	train, test, err := j.Spec.Data.Load()
	if err != nil {
		return nil, err
	}
	path := filepath.Join(s.RunDir(j.ID), awd.OwnerFile)
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("the run's owner file: %w", err)
	}
	var owner awd.Owner
	if err := json.Unmarshal(b, &owner); err != nil {
		return nil, fmt.Errorf("the run's owner file %s: %w", path, err)
	}
	if fp := nn.Fingerprint(train, test); owner.Data != "" && owner.Data != fp {
		return nil, fmt.Errorf("the run in %s was trained on other data than %s holds now (fingerprint %.12s there, %.12s here): restore the data it was trained on, or run `awd sweep reset %s %s` to train the job anew",
			s.RunDir(j.ID), dataFolder(j.Spec.Data), owner.Data, fp, ShellWord(s.Dir), j.ID)
	}
	return train, nil
}

// dataFolder names the folder the data of d are read from.
func dataFolder(d nn.DataSpec) string {
	if d.Dir != "" {
		return "the data folder " + d.Dir
	}
	if env := nn.DataDirEnv[d.Name]; env != "" {
		return fmt.Sprintf("the %s data folder (%s, or the default location)", d.Name, env)
	}
	return "the data folder"
}

// shardTime is jobs/ID/shards/shard_i_of_n.time: the seconds of the last
// successful step of shard i in a process of its own (a Slurm task), which
// the reduction adds to the job's (JobState.Seconds, CPUSeconds).
type shardTime struct {
	SchemaVersion int     `json:"schema_version"`
	Seconds       float64 `json:"seconds"`
	CPUSeconds    float64 `json:"cpu_seconds"`
}

func (s *Sweep) shardTimePath(id string, i, n int) string {
	return filepath.Join(s.JobDir(id), shardsDir, fmt.Sprintf("shard_%d_of_%d.time", i, n))
}

// shardSeconds sums the recorded seconds of job j's shard steps (those run
// in the job's own process record none: its seconds hold them).
func (s *Sweep) shardSeconds(j *Job) (sec, cpu float64) {
	for i := 1; i <= j.Shards; i++ {
		var t shardTime
		if readJSON(s.shardTimePath(j.ID, i, j.Shards), &t) == nil {
			sec, cpu = sec+t.Seconds, cpu+t.CPUSeconds
		}
	}
	return sec, cpu
}

// shardFailure is jobs/ID/shards/shard_i_of_n.failed: what the last failed
// or interrupted step of shard i recorded. A shard step does not hold the
// job's lock and so does not write state.json; its success removes the
// file.
type shardFailure struct {
	SchemaVersion int    `json:"schema_version"`
	Shard         string `json:"shard"` // "i/n"
	Error         string `json:"error"`
	// Interrupted: the step was stopped by a signal (Ctrl-C, Slurm's
	// SIGTERM at the time limit), not failed; Error is empty.
	Interrupted bool      `json:"interrupted,omitempty"`
	Host        string    `json:"host"`
	PID         int       `json:"pid"`
	Slurm       string    `json:"slurm,omitempty"`
	Ended       time.Time `json:"ended"`
}

func (s *Sweep) shardFailurePath(id string, i, n int) string {
	return filepath.Join(s.JobDir(id), shardsDir, fmt.Sprintf("shard_%d_of_%d.failed", i, n))
}

// recordShardFailure records that shard i's step of job j failed with err,
// or with interrupted that it was stopped by a signal (under shard i's
// lock).
func (s *Sweep) recordShardFailure(j *Job, i int, err error, interrupted bool) error {
	path := s.shardFailurePath(j.ID, i, j.Shards)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f := shardFailure{SchemaVersion: SchemaVersion, Shard: fmt.Sprintf("%d/%d", i, j.Shards), Error: err.Error(),
		Host: hostname(), PID: os.Getpid(), Slurm: slurmTaskID(), Ended: time.Now().UTC()}
	if interrupted {
		f.Error, f.Interrupted = "", true
	}
	return writeJSON(path, f)
}

// shardFailures returns the recorded failures of the shard steps of job
// j's current shard count, as "shard i/n failed on HOST: error", and the
// steps stopped by a signal, as "shard i/n stopped by a signal on HOST at
// TIME".
func (s *Sweep) shardFailures(j *Job) (failed, interrupted []string) {
	for i := 1; i <= j.Shards; i++ {
		var f shardFailure
		path := s.shardFailurePath(j.ID, i, j.Shards)
		if err := readJSON(path, &f); errors.Is(err, os.ErrNotExist) {
			continue
		} else if err != nil {
			failed = append(failed, fmt.Sprintf("shard %d/%d failed: %v", i, j.Shards, err))
			continue
		}
		if f.Interrupted {
			interrupted = append(interrupted, fmt.Sprintf("shard %s stopped by a signal on %s%s at %s", f.Shard, f.Host, slurmNote(f.Slurm), f.Ended.Format(time.RFC3339)))
			continue
		}
		failed = append(failed, fmt.Sprintf("shard %s failed on %s%s: %s", f.Shard, f.Host, slurmNote(f.Slurm), f.Error))
	}
	return failed, interrupted
}

// reduce merges the shards of every analysed epoch of a sharded job,
// finishes the analyses and writes the job's results.json and arrays.
//
// Every shard is checked against what its step would accumulate now (the
// checkpoint's weights, the data, the settings and the shard, as runShard
// keeps one, but not the build): a shard saved by a step that ran before the
// job's training ran again (reset, or started over) is of condemned
// checkpoints, and merged with the others, or alone, would give results
// the job's training never had.
func (s *Sweep) reduce(ctx context.Context, j *Job, log io.Writer) error {
	epochs, files, err := s.analysedEpochs(j)
	if err != nil {
		return err
	}
	train, err := s.trainedData(j)
	if err != nil {
		return err
	}
	rep, err := awd.ReadReport(filepath.Join(s.RunDir(j.ID), ResultsFile))
	if err != nil {
		return err
	}
	spec, _ := json.Marshal(j.Spec)
	rep.Config = awd.WithDataSource(spec, train.Source())
	rep.Checkpoints = nil
	for k, e := range epochs {
		model, _, err := nn.LoadCheckpoint(files[k])
		if err != nil {
			return fmt.Errorf("epoch %d: %w", e, err)
		}
		cfg := j.analysisAt(e, epochs)
		var acc *awd.Accumulation
		for i := 1; i <= j.Shards; i++ {
			path := s.shardPath(j.ID, e, i, j.Shards)
			a, err := awd.LoadAccumulation(path)
			if err != nil {
				return fmt.Errorf("epoch %d: %w; run shard %d/%d again (submitting the sweep again does)", e, err, i, j.Shards)
			}
			// Shards of one build merge whichever awd reduces them
			// (Merge checks that they share theirs).
			saved := *a
			saved.Info.Build = awd.BuildID()
			if err := shardOf(&saved, e, model, train, cfg, awd.AccumulateOptions{Shard: i - 1, Shards: j.Shards}); err != nil {
				return fmt.Errorf("epoch %d: shard %d/%d in %s is not an analysis of the checkpoint %s (%v), so it is not merged (a shard step that ran before the job's training ran again saves such a shard); run shard %d/%d again (submitting the sweep again does)",
					e, i, j.Shards, path, files[k], err, i, j.Shards)
			}
			if acc == nil {
				acc = a
			} else if err := acc.Merge(a); err != nil {
				return fmt.Errorf("epoch %d: %w", e, err)
			}
		}
		r, err := awd.Finalize(ctx, acc, nil)
		if err != nil {
			return fmt.Errorf("epoch %d: %w", e, err)
		}
		ck := awd.Checkpoint{Epoch: e, Arrays: awd.ArraysName(e), Analysis: r, File: filepath.Join(runDir, "checkpoints", fmt.Sprintf("epoch_%04d.npz", e)),
			TrainLoss: awd.Float(math.NaN()), TrainAcc: awd.Float(math.NaN()), TestLoss: awd.Float(math.NaN()), TestAcc: awd.Float(math.NaN())}
		for _, l := range rep.Training {
			if l.Epoch == e {
				ck.TrainLoss, ck.TrainAcc, ck.TestLoss, ck.TestAcc = l.TrainLoss, l.TrainAcc, l.TestLoss, l.TestAcc
			}
		}
		if err := awd.WriteArrays(filepath.Join(s.JobDir(j.ID), ck.Arrays), r); err != nil {
			return err
		}
		rep.Checkpoints = append(rep.Checkpoints, ck)
		fmt.Fprintf(log, "epoch %d: %d shards merged: gamma %s, gamma_awd %s\n", e, j.Shards, r.Fits[awd.NameC].Short(), r.Fits[awd.NameCAWD].Short())
	}
	return awd.WriteReport(s.ResultsPath(j), rep)
}

// removeResults removes every result of job j, whatever its shard count
// was when they were written: the shards (of any count) and their
// failures, the reduction's results.json and arrays beside the run, and
// the run's own results.json and arrays. A job's shard count may change
// while it is kept (a resource), so a start over or a reset that removed
// only the current layout's would leave an earlier one's results, from a
// training that no longer exists, to whatever reads them.
func (s *Sweep) removeResults(j *Job) error {
	jd, run := s.JobDir(j.ID), s.RunDir(j.ID)
	files := []string{filepath.Join(jd, ResultsFile), filepath.Join(run, ResultsFile)}
	for _, pat := range []string{filepath.Join(jd, shardsDir, "e*_*_of_*.acc"), filepath.Join(jd, shardsDir, "shard_*_of_*.failed"),
		filepath.Join(jd, shardsDir, "shard_*_of_*.time"),
		filepath.Join(jd, "arrays_epoch*.npz"), filepath.Join(run, "arrays_epoch*.npz")} {
		m, _ := filepath.Glob(pat)
		files = append(files, m...)
	}
	for _, f := range files {
		if err := os.Remove(f); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	return nil
}

// missingShard names the first shard of an analysed epoch of trained job j
// that is not saved, or why the analysed epochs are unknown; "" when every
// shard is saved.
func (s *Sweep) missingShard(j *Job) string {
	if j.Shards <= 1 {
		// Trained as a sharded job's training, its config now unsharded:
		// no shard step exists, and the whole job's run has analyses.
		return fmt.Sprintf("the job was trained for a sharded analysis and the config now has shards: 1; set its shards back, or run `awd sweep reset %s %s` to run it whole", ShellWord(s.Dir), j.ID)
	}
	epochs, _, err := s.analysedEpochs(j)
	if err != nil {
		return err.Error()
	}
	for _, e := range epochs {
		for i := 1; i <= j.Shards; i++ {
			if path := s.shardPath(j.ID, e, i, j.Shards); !exists(path) {
				return fmt.Sprintf("shard %d/%d of epoch %d is not saved (%s): its step has not run, or runs now", i, j.Shards, e, path)
			}
		}
	}
	return ""
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
