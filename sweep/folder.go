package sweep

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/awd-toolkit/awd/awd"
	"github.com/awd-toolkit/awd/internal/atomicfile"
	"github.com/awd-toolkit/awd/nn"
)

// SchemaVersion is the version of sweep.json, job.json and state.json.
const SchemaVersion = 1

// The sweep folder:
//
//	.lock                 held while Prepare writes sweep.json, sweep.yaml and job.json, and WriteSlurm a submission
//	sweep.json            the sweep's name, config file and job list (Manifest)
//	sweep.yaml            a copy of the config as it was last used
//	jobs/<id>/job.json    the job (Job)
//	jobs/<id>/state.json  what its process recorded (JobState)
//	jobs/<id>/job.log     its output, appended by every attempt
//	jobs/<id>/run/        the run's own folder (awd.Run: results.json, arrays, checkpoints)
//	jobs/<id>/shards/     a sharded job's accumulations (shard.go)
//	jobs/<id>/.lock       held by the job's process (.lock-shardI: by shard i's step)
//	slurm/<n>/            the scripts, task lists and Slurm output of submission n
//	tables/               the tables and figures of `awd sweep collect` (tables/.lock: held while they are written;
//	                      tables/figures/.drawn.json: the figures drawn, RecordFigures)
const (
	manifestFile = awd.SweepManifest
	configCopy   = "sweep.yaml"
	jobsDir      = "jobs"
	jobFile      = "job.json"
	stateFile    = "state.json"
	logFile      = "job.log"
	lockFile     = ".lock"
	runDir       = "run"
	// ResultsFile is the run's results JSON inside the job's run folder.
	ResultsFile = "results.json"
)

// Manifest is sweep.json.
type Manifest struct {
	SchemaVersion int      `json:"schema_version"`
	Name          string   `json:"name"`
	Config        string   `json:"config"` // the config file last used, as it was named on the command line
	Jobs          []string `json:"jobs"`   // job ids in grid order
}

// Sweep is a sweep folder and its jobs.
type Sweep struct {
	Dir      string
	Manifest Manifest
	Jobs     []*Job
	// Repaired are the damaged sweep.json and job.json files (not JSON,
	// or without a schema_version) that Prepare wrote anew.
	Repaired []string
	// Unreadable are the jobs whose job.json is missing or damaged
	// (OpenForStatus, for status and collect; Open refuses them).
	Unreadable []Unreadable
}

// JobDir is the folder of job id.
func (s *Sweep) JobDir(id string) string { return filepath.Join(s.Dir, jobsDir, id) }

// Job returns the job with this id.
func (s *Sweep) Job(id string) (*Job, error) {
	for _, j := range s.Jobs {
		if j.ID == id {
			return j, nil
		}
	}
	return nil, fmt.Errorf("sweep %s: no job %q (see `awd sweep status %s`)", s.Dir, id, ShellWord(s.Dir))
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return atomicfile.WriteBytes(path, append(b, '\n'))
}

// readJSON reads a JSON file of this schema version into v.
func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var probe struct {
		SchemaVersion *int `json:"schema_version"`
	}
	if err := json.Unmarshal(b, &probe); err != nil {
		return fmt.Errorf("%s: not valid JSON (%w): %w", path, errDamaged, err)
	}
	if probe.SchemaVersion == nil {
		// Every version of awd writes it: JSON without it ({}, null) was
		// not written by awd.
		return fmt.Errorf("%s: no schema_version (%w)", path, errDamaged)
	}
	if *probe.SchemaVersion != SchemaVersion {
		return fmt.Errorf("%s: schema_version %d, this awd reads %d: the folder was written by another version of awd; use that version, or give the sweep another out", path, *probe.SchemaVersion, SchemaVersion)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// errDamaged marks a file that is not JSON at all (truncated, overwritten)
// or JSON without a schema_version: not a file of another awd version,
// whose schema is refused instead.
var errDamaged = errors.New("damaged")

// jobRecord is job.json.
type jobRecord struct {
	SchemaVersion int `json:"schema_version"`
	*Job
}

// Prepare creates or updates the sweep folder of cfg: the manifest, a copy
// of the config and every job's job.json. A job already in the folder keeps
// its files (and its results); its job.json must describe the same run
// (resources may change). Jobs of an earlier config that the grid no
// longer has stay on disk but leave the manifest.
func Prepare(cfg *Config) (*Sweep, error) {
	jobs, err := cfg.Expand()
	if err != nil {
		return nil, err
	}
	dir := cfg.Dir()
	// The output folder of a command (a run, an analysis) is not a
	// sweep's: the sweep's files would mix with the command's.
	if b, err := os.ReadFile(filepath.Join(dir, awd.OwnerFile)); err == nil {
		var o awd.Owner
		if json.Unmarshal(b, &o) == nil && o.Command != "" {
			return nil, fmt.Errorf("%s holds the output of `awd %s` (%s): choose another out", dir, o.Command, awd.OwnerFile)
		}
		return nil, fmt.Errorf("%s holds the output of an awd command (%s): choose another out", dir, awd.OwnerFile)
	}
	if err := checkForeign(dir, jobs); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Join(dir, jobsDir), 0o755); err != nil {
		return nil, fmt.Errorf("sweep folder: %w", err)
	}
	// The sweep's lock keeps two Prepares apart: what one finds of
	// atomicfile's temporary files of sweep.json, sweep.yaml and job.json
	// (the files only Prepare writes) was left by a killed writer.
	lk, err := lockWait(filepath.Join(dir, lockFile))
	if err != nil {
		return nil, fmt.Errorf("sweep folder: %w", err)
	}
	defer lk.Close()
	atomicfile.RemoveTemporaries(dir, nil)
	// sweep.json and job.json are Prepare's own: a damaged one (not JSON)
	// is written anew, each job checked against its job.json where that
	// reads, and its run against the owner of its run folder.
	s := &Sweep{Dir: dir, Jobs: jobs}
	var old Manifest
	if err := readJSON(filepath.Join(dir, manifestFile), &old); err == nil && old.Name != cfg.Name {
		return nil, fmt.Errorf("%s holds sweep %q, this config is %q: choose another out", dir, old.Name, cfg.Name)
	} else if errors.Is(err, errDamaged) {
		s.Repaired = append(s.Repaired, filepath.Join(dir, manifestFile))
	} else if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	s.Manifest = Manifest{SchemaVersion: SchemaVersion, Name: cfg.Name, Config: cfg.Path()}
	for _, j := range jobs {
		s.Manifest.Jobs = append(s.Manifest.Jobs, j.ID)
		jd := s.JobDir(j.ID)
		if err := os.MkdirAll(jd, 0o755); err != nil {
			return nil, err
		}
		atomicfile.RemoveTemporaries(jd, func(name string) bool { return !isJobRecordTemp(name) })
		path := filepath.Join(jd, jobFile)
		var prev jobRecord
		prev.Job = new(Job)
		if err := readJSON(path, &prev); err == nil {
			// The data's folder is not part of a job (nn.DataSpec.Dir):
			// a sweep moved to a machine that keeps them elsewhere goes on
			// (its runs check the data by content).
			was, now := prev.Job.Spec, j.Spec
			was.Data.Dir, now.Data.Dir = "", ""
			a, _ := json.Marshal(was)
			b, _ := json.Marshal(now)
			if !bytes.Equal(a, b) {
				return nil, fmt.Errorf("job %s: %s describes another run than the config (was the folder copied between sweeps?); move it away to run it anew", j.ID, path)
			}
			// A data folder changed under a job that has run: its run
			// checks the data when it resumes, but a done job never runs
			// again, and its results would share a table cell with runs
			// of other data. Its data are checked here instead.
			if prev.Job.Spec.Data.Dir != j.Spec.Data.Dir {
				if err := s.sameData(j); err != nil {
					return nil, err
				}
			}
		} else if errors.Is(err, errDamaged) {
			s.Repaired = append(s.Repaired, path)
		} else if !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
		if err := writeJSON(path, jobRecord{SchemaVersion, j}); err != nil {
			return nil, err
		}
	}
	if src, err := os.ReadFile(cfg.Path()); err == nil {
		if err := atomicfile.WriteBytes(filepath.Join(dir, configCopy), src); err != nil {
			return nil, err
		}
	}
	if err := writeJSON(filepath.Join(dir, manifestFile), s.Manifest); err != nil {
		return nil, err
	}
	return s, nil
}

// checkForeign refuses an existing folder that holds files but no sweep.json:
// the sweep would write its jobs, tables and Slurm scripts among files that
// are not its own (a home folder, a folder of data). A folder that holds only
// what a first Prepare killed before it wrote sweep.json leaves (its lock,
// sweep.yaml, the folders of these jobs, temporary files) is the sweep's.
func checkForeign(dir string, jobs []*Job) error {
	if _, err := os.Lstat(filepath.Join(dir, manifestFile)); err == nil {
		return nil // the sweep's own folder: Prepare checks its name
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil // a new folder (or one MkdirAll will name the problem of)
	}
	for _, e := range entries {
		if !ownEntry(dir, e, jobs) {
			return fmt.Errorf("out: %s already holds files (%s, ...) and is no sweep's folder (no %s): the sweep would write among them; choose another out, or empty the folder", dir, e.Name(), manifestFile)
		}
	}
	return nil
}

// ownEntry reports whether an entry of a sweep folder without sweep.json is
// one a first Prepare of these jobs writes before sweep.json.
func ownEntry(dir string, e os.DirEntry, jobs []*Job) bool {
	switch name := e.Name(); {
	case name == lockFile || name == configCopy:
		return !e.IsDir()
	case atomicfile.IsTemporary(name) && (strings.HasPrefix(name, "."+configCopy) || strings.HasPrefix(name, "."+manifestFile)):
		return !e.IsDir()
	case name == jobsDir && e.IsDir():
		ids, err := os.ReadDir(filepath.Join(dir, jobsDir))
		if err != nil {
			return false
		}
		for _, id := range ids {
			if !id.IsDir() || !slices.ContainsFunc(jobs, func(j *Job) bool { return j.ID == id.Name() }) {
				return false
			}
		}
		return true
	}
	return false
}

// sameData checks that the data job j's spec gives now are those its run
// folder recorded (awd.Owner.Data), when it has run.
func (s *Sweep) sameData(j *Job) error {
	b, err := os.ReadFile(filepath.Join(s.RunDir(j.ID), awd.OwnerFile))
	if err != nil {
		return nil // not run yet: its run will read the data given now
	}
	var o awd.Owner
	if json.Unmarshal(b, &o) != nil || o.Data == "" || !awd.HoldsWork(s.RunDir(j.ID)) {
		return nil // nothing run on the data recorded (killed before its first file)
	}
	spec, err := j.Spec.Normalized()
	if err != nil {
		return err
	}
	train, test, err := spec.Data.Load()
	if err != nil {
		return fmt.Errorf("job %s: data_dir changed, and its data cannot be read to compare: %w", j.ID, err)
	}
	if fp := nn.Fingerprint(train, test); fp != o.Data {
		return fmt.Errorf("job %s ran on other data than data_dir %q now gives (fingerprint %.12s there, %.12s here): its results would be tabulated with runs of these data; restore data_dir, or run `awd sweep reset %s %s` to run it on them", j.ID, j.Spec.Data.Dir, o.Data, fp, ShellWord(s.Dir), j.ID)
	}
	return nil
}

// isJobRecordTemp reports whether name is a temporary file of job.json,
// which Prepare writes under the sweep's lock (the job's process, under
// the job's lock, writes the folder's other files).
func isJobRecordTemp(name string) bool { return strings.HasPrefix(name, "."+jobFile+".tmp") }

// cleanJob removes the temporary files that killed writers left in job
// id's folder and its shards/: with shard 0 (the whole job, its training or
// its reduction, under the job's lock) all but job.json's and those of
// the shards whose step holds its lock; with shard i > 0 (under shard i's
// lock) only those of shard i's files.
func (s *Sweep) cleanJob(id string, shard int) {
	jd := s.JobDir(id)
	if shard == 0 {
		atomicfile.RemoveTemporaries(jd, isJobRecordTemp)
	}
	atomicfile.RemoveTemporaries(filepath.Join(jd, shardsDir), func(name string) bool {
		var e, i, n int
		if _, err := fmt.Sscanf(name, ".e%d_%d_of_%d.acc.tmp", &e, &i, &n); err != nil {
			return shard != 0 // not a shard's: only the job's step removes it
		}
		if shard != 0 {
			return i != shard
		}
		return locked(filepath.Join(jd, shardLock(i)))
	})
}

// withRemedy adds to the error of a damaged sweep.json or job.json what
// writes it anew.
func withRemedy(err error) error {
	if errors.Is(err, errDamaged) {
		return fmt.Errorf("%w; `awd sweep CONFIG` (the sweep's config file) writes it anew", err)
	}
	return err
}

// Open reads a sweep folder written by Prepare.
func Open(dir string) (*Sweep, error) {
	s, err := open(dir)
	if err != nil {
		return nil, err
	}
	if len(s.Unreadable) > 0 {
		u := s.Unreadable[0]
		return nil, fmt.Errorf("sweep %s: job %s: %w", dir, u.ID, u.Err)
	}
	return s, nil
}

// OpenForStatus reads a sweep folder as Open does, except that a job whose
// job.json is missing or damaged does not fail the whole sweep: it is left
// out of Jobs and listed in Unreadable, so that status shows it (with what
// writes it anew) beside the others, and collect tabulates the others and
// names it.
func OpenForStatus(dir string) (*Sweep, error) { return open(dir) }

// Unreadable is a job of the manifest whose job.json cannot be read.
type Unreadable struct {
	ID   string
	Path string // its job.json
	Err  error  // what is wrong, and what writes it anew
}

func open(dir string) (*Sweep, error) {
	s := &Sweep{Dir: dir}
	if err := readJSON(filepath.Join(dir, manifestFile), &s.Manifest); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%s is not a sweep folder (no %s)", dir, manifestFile)
		}
		return nil, withRemedy(err)
	}
	for _, id := range s.Manifest.Jobs {
		rec := jobRecord{Job: new(Job)}
		path := filepath.Join(s.JobDir(id), jobFile)
		var err error
		if err = readJSON(path, &rec); errors.Is(err, os.ErrNotExist) {
			err = fmt.Errorf("%s is missing; `awd sweep CONFIG` (the sweep's config file) writes it", path)
		} else if err != nil {
			err = withRemedy(err)
		} else if rec.Job.ID != id {
			err = fmt.Errorf("%s names job %q (a copy of another job's record?); remove it, and `awd sweep CONFIG` (the sweep's config file) writes it anew", path, rec.Job.ID)
		}
		if err != nil {
			s.Unreadable = append(s.Unreadable, Unreadable{ID: id, Path: path, Err: err})
			continue
		}
		s.Jobs = append(s.Jobs, rec.Job)
	}
	return s, nil
}

// JobState is state.json: what the job's process last recorded.
type JobState struct {
	SchemaVersion int       `json:"schema_version"`
	State         string    `json:"state"` // running, analysing (with Error: its reduction failed), done, interrupted (stopped by a signal) or failed
	Host          string    `json:"host"`
	PID           int       `json:"pid"`
	Slurm         string    `json:"slurm,omitempty"` // array job and task id, "1234_5", or job id
	Node          string    `json:"node,omitempty"`  // the Slurm node name
	Threads       int       `json:"threads"`
	Build         string    `json:"build"`   // the awd binary: VCS commit ("-dirty" with local changes) or "unknown"
	Go            string    `json:"go"`      // Go version it was built with
	CPU           string    `json:"cpu"`     // CPU model
	Kernels       string    `json:"kernels"` // kernel level in use
	Attempt       int       `json:"attempt"` // 1 for the first start
	Started       time.Time `json:"started"`
	Ended         time.Time `json:"ended,omitzero"`
	Seconds       float64   `json:"seconds,omitempty"`
	// CPUSeconds is the user + system time of the job's process (its
	// steps summed for a sharded job run in one process).
	CPUSeconds float64 `json:"cpu_seconds,omitempty"`
	// Load is the machine's 1-minute load average when the job started
	// and ended: wall times of a shared machine are read with it.
	Load  [2]float64 `json:"load,omitempty"`
	Error string     `json:"error,omitempty"`
	// ResultsSHA256 is the checksum of results.json when the job finished:
	// a done job whose results changed or vanished is run again, from
	// scratch.
	ResultsSHA256 string `json:"results_sha256,omitempty"`
	// Results is the results file ResultsSHA256 is of, relative to the
	// job's folder ("run/results.json", or "results.json" for a sharded
	// job): a done job stays done when only its resources change, its
	// shard count among them. Empty in records of older versions: the
	// job's ResultsPath.
	Results string `json:"results,omitempty"`
	// Restart: this start runs the job from scratch (its results changed
	// after it was done); a start that fails or is killed leaves it set,
	// and the next start starts over again.
	Restart bool `json:"restart,omitempty"`
	// ResetAt is when `awd sweep reset` (Reset) set Restart.
	ResetAt time.Time `json:"reset_at,omitzero"`
}

// Job states.
const (
	StatePending     = "pending"     // never started
	StateRunning     = "running"     // its process holds the job's lock
	StateInterrupted = "interrupted" // started, its process gone without an end (killed): resumes
	StateDone        = "done"
	StateFailed      = "failed"
)

func (s *Sweep) readState(id string) (*JobState, error) {
	var st JobState
	if err := readJSON(filepath.Join(s.JobDir(id), stateFile), &st); err != nil {
		return nil, err
	}
	return &st, nil
}

func (s *Sweep) writeState(id string, st *JobState) error {
	st.SchemaVersion = SchemaVersion
	return writeJSON(filepath.Join(s.JobDir(id), stateFile), st)
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// resultsOf is the results file of job j that its record rec names: the
// one it recorded when it was done (whatever its shard count is now), or
// ResultsPath.
func (s *Sweep) resultsOf(j *Job, rec *JobState) string {
	if rec != nil && rec.State == StateDone && rec.Results != "" {
		return filepath.Join(s.JobDir(j.ID), filepath.FromSlash(rec.Results))
	}
	return s.ResultsPath(j)
}

// Status is one job's state as seen from the sweep folder.
type Status struct {
	Job    *Job
	State  string // one of the State constants
	Detail string // the error of a failed job, why a done job is not, the host of a running one
	Record *JobState
	Log    string // path of the job's log

	// slurmTask is the Slurm task to ask squeue about (checkSlurm): the
	// record of another host says running, and its lock is not visible.
	slurmTask string
}

// Status returns the state of job j: done only when its process recorded
// success and results.json still has the checksum it recorded; running
// when its lock is held, or when the record of another host (whose lock
// may not be visible here) says so and Slurm still holds the task it
// names (squeue; per its record when it names none or squeue cannot
// tell).
func (s *Sweep) Status(j *Job) Status {
	sts := []Status{s.status(j)}
	checkSlurm(sts)
	return sts[0]
}

// status is Status without asking Slurm: the status of a record of another
// host that says running and names a Slurm task is "running (per its
// record)" with slurmTask set, for checkSlurm.
func (s *Sweep) status(j *Job) Status {
	st := Status{Job: j, State: StatePending, Log: filepath.Join(s.JobDir(j.ID), logFile)}
	rec, err := s.readState(j.ID)
	if errors.Is(err, os.ErrNotExist) {
		if locked(filepath.Join(s.JobDir(j.ID), lockFile)) {
			st.State = StateRunning
		}
		return st
	}
	if err != nil {
		st.State, st.Detail = StateFailed, err.Error()
		return st
	}
	st.Record = rec
	switch rec.State {
	case StateDone:
		sum, err := fileSHA256(s.resultsOf(j, rec))
		switch {
		case err != nil:
			st.State, st.Detail = StateInterrupted, "recorded done but "+ResultsFile+" is unreadable ("+err.Error()+"); the next start runs it from scratch"
		case sum != rec.ResultsSHA256:
			st.State, st.Detail = StateInterrupted, "recorded done but "+ResultsFile+" changed since; the next start runs it from scratch"
		default:
			st.State = StateDone
		}
	case StateRunning:
		st.State, st.Detail = StateInterrupted, fmt.Sprintf("process %d on %s ended without a word", rec.PID, rec.Host)
		if locked(filepath.Join(s.JobDir(j.ID), lockFile)) {
			st.State, st.Detail = StateRunning, fmt.Sprintf("process %d on %s", rec.PID, rec.Host)
		} else if host, _ := os.Hostname(); host != rec.Host {
			// Another node's lock may not be visible here: trust its
			// record, unless Slurm no longer has its task (checkSlurm).
			st.State, st.Detail = StateRunning, fmt.Sprintf("process %d on %s (per its record)", rec.PID, rec.Host)
			st.slurmTask = rec.Slurm
		}
	case StateInterrupted:
		what := "resumes it"
		if rec.Restart {
			what = "runs it from scratch"
		}
		st.State, st.Detail = StateInterrupted, fmt.Sprintf("stopped by a signal on %s at %s; the next start %s", rec.Host, rec.Ended.Format(time.RFC3339), what)
		if !rec.ResetAt.IsZero() {
			st.Detail = fmt.Sprintf("reset at %s; the next start runs it from scratch", rec.ResetAt.Format(time.RFC3339))
		}
		if locked(filepath.Join(s.JobDir(j.ID), lockFile)) {
			st.State, st.Detail = StateRunning, ""
		}
	case StateAnalysing:
		st.State, st.Detail = StateAnalysing, "trained; analysis shards or their reduction pending"
		if locked(filepath.Join(s.JobDir(j.ID), lockFile)) {
			st.State = StateRunning
		} else if fails, stopped := s.shardFailures(j); len(fails) > 0 {
			st.State, st.Detail = StateFailed, strings.Join(fails, "\n")
		} else if len(stopped) > 0 {
			st.State, st.Detail = StateInterrupted, strings.Join(stopped, "; ")+"; the next start of the shard (or of the sweep) resumes it"
		} else if rec.Error != "" {
			st.State, st.Detail = StateFailed, "reduction failed: "+rec.Error
		}
	case StateFailed:
		st.State, st.Detail = StateFailed, rec.Error
	default:
		st.State, st.Detail = StateFailed, fmt.Sprintf("%s: unknown state %q", stateFile, rec.State)
	}
	return st
}

// Statuses returns the status of every job, in grid order (asking squeue
// at most once).
func (s *Sweep) Statuses() []Status {
	out := make([]Status, len(s.Jobs))
	for i, j := range s.Jobs {
		out[i] = s.status(j)
	}
	checkSlurm(out)
	return out
}

// checkSlurm asks squeue, once, about the Slurm tasks of the statuses that
// are running per the record of another host: a task Slurm no longer holds
// was stopped or killed before its process could record it, so its job is
// interrupted. When squeue cannot answer the records are trusted.
func checkSlurm(sts []Status) {
	var tasks []string
	for _, st := range sts {
		if st.slurmTask != "" {
			tasks = append(tasks, st.slurmTask)
		}
	}
	if len(tasks) == 0 {
		return
	}
	held, ok := slurmHolds(tasks)
	for i := range sts {
		st := &sts[i]
		task := st.slurmTask
		if task == "" || !ok {
			st.slurmTask = ""
			continue
		}
		st.slurmTask = ""
		r := st.Record
		if state, ok := held[task]; ok {
			st.Detail = fmt.Sprintf("process %d on %s (Slurm task %s %s)", r.PID, r.Host, task, state)
			continue
		}
		st.State, st.Detail = StateInterrupted, fmt.Sprintf("process %d on %s ended without a word: Slurm no longer has its task %s (stopped or killed); the next start resumes it", r.PID, r.Host, task)
	}
}

// Count tallies statuses by state.
func Count(sts []Status) map[string]int {
	m := map[string]int{}
	for _, st := range sts {
		m[st.State]++
	}
	return m
}

// orderedStates lists the states in the order the status table shows them.
var orderedStates = []string{StateDone, StateRunning, StateQueued, StateAnalysing, StateInterrupted, StateFailed, StatePending}
