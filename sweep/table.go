package sweep

import (
	"path/filepath"

	"github.com/awd-toolkit/awd/awd"
)

// Finished is the results of a sweep's finished jobs, for awd.MakeTable and
// GammaSeries: the reports, their jobs, and a note for every job left out
// (not finished, or results unreadable) with the reason.
type Finished struct {
	Reports []*awd.Report
	Jobs    []*Job
	Notes   []string
}

// IDs are the job ids of the reports, the names awd.MakeTable gives them.
func (f *Finished) IDs() []string {
	ids := make([]string, len(f.Jobs))
	for i, j := range f.Jobs {
		ids[i] = j.ID
	}
	return ids
}

// Finished reads the results of the jobs that are done. A job whose
// job.json cannot be read (Sweep.Unreadable) is left out with a note, as a
// job whose state.json cannot be read is.
func (s *Sweep) Finished() *Finished {
	f := &Finished{}
	for _, st := range s.allStatuses() {
		j := st.Job
		if st.State != StateDone {
			reason := st.State
			if st.Detail != "" {
				reason += ": " + firstLine(st.Detail)
			}
			f.Notes = append(f.Notes, j.ID+": "+reason+", left out")
			continue
		}
		rep, err := awd.ReadReport(s.resultsOf(j, st.Record))
		if err != nil {
			f.Notes = append(f.Notes, j.ID+": "+err.Error()+", left out")
			continue
		}
		f.Reports = append(f.Reports, rep)
		f.Jobs = append(f.Jobs, j)
	}
	return f
}

// RunDir is the folder awd.Run writes job id's run into.
func (s *Sweep) RunDir(id string) string { return filepath.Join(s.JobDir(id), runDir) }

// ResultsPath is job j's results.json: its run's, or for a sharded job
// the one its reduction writes beside the run.
func (s *Sweep) ResultsPath(j *Job) string {
	if j.Shards > 1 {
		return filepath.Join(s.JobDir(j.ID), ResultsFile)
	}
	return filepath.Join(s.RunDir(j.ID), ResultsFile)
}
