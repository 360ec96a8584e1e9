package sweep

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
)

// WriteStatus lists every job with its state, attempts, run time and log
// (and its Slurm output when a submission of the sweep ran it), failed
// jobs with their error, then the counts; failedOnly keeps the failed and
// interrupted jobs.
func WriteStatus(w io.Writer, s *Sweep, failedOnly bool) error {
	subs, err := s.Submissions()
	if err != nil {
		return err
	}
	sts := s.Statuses()
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "STATE\tJOB\tATTEMPTS\tSECONDS\tLOG")
	for _, st := range sts {
		if failedOnly && st.State != StateFailed && st.State != StateInterrupted {
			continue
		}
		att, sec := "-", "-"
		log := st.Log
		if r := st.Record; r != nil {
			att = fmt.Sprint(r.Attempt)
			if r.Seconds > 0 {
				sec = fmt.Sprintf("%.0f", r.Seconds)
			}
			if sl := SlurmLog(subs, r.Slurm); sl != "" {
				log += " (Slurm: " + sl + ")"
			}
		}
		if st.State == StatePending {
			log = ""
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", st.State, st.Job.ID, att, sec, log)
		if st.Detail != "" && st.State != StateDone {
			fmt.Fprintf(tw, "\t  %s\t\t\t\n", firstLine(st.Detail))
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	c := Count(sts)
	var parts []string
	states := slices.Clone(orderedStates)
	for _, k := range states {
		if c[k] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", c[k], k))
		}
	}
	fmt.Fprintf(w, "\n%s: %d jobs: %s\n", s.Manifest.Name, len(sts), strings.Join(parts, ", "))
	if c[StateFailed]+c[StateInterrupted] > 0 {
		fmt.Fprintf(w, "run `awd sweep %s` again (or with --slurm) to retry the failed and interrupted jobs\n", s.Manifest.Config)
	}
	if len(subs) > 0 {
		last := subs[len(subs)-1]
		var ids []string
		for _, a := range last.Arrays {
			ids = append(ids, a.ID)
		}
		fmt.Fprintf(w, "last Slurm submission: %s (arrays %s, collect %s)\n", last.Dir, strings.Join(ids, ", "), last.CollectID)
	}
	return nil
}
