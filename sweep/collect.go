package sweep

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/awd-toolkit/awd/awd"
	"github.com/awd-toolkit/awd/internal/atomicfile"
)

// TablesDir is where Collect writes, inside the sweep folder.
const TablesDir = "tables"

// Table1Covs and Table3Covs are the covariances of the paper's tables:
// Table 3 adds the pair covariances (Eq. 13 before isotropy, Eq. 58).
var (
	Table1Covs = []string{awd.NameC, awd.NameCAWD}
	Table3Covs = []string{awd.NameC, awd.NameCAWD, awd.NameCPair, awd.NameCPair2}
)

// TableMarkdown is awd.MakeTable of the finished jobs (grouped by their
// whole protocol) as Markdown, followed by what was left out and why.
func TableMarkdown(f *Finished, covs []string) string {
	t := awd.MakeTable(f.Reports, f.IDs(), covs)
	var b strings.Builder
	b.WriteString(t.Markdown())
	b.WriteString("\nCells: mean ± sample std over the seeds (n runs). Runs are grouped by their whole protocol (every setting but the seeds); the protocol column, when present, names what tells rows of one data set, model and K apart.\n")
	if notes := append(slices.Clone(f.Notes), t.Notes...); len(notes) > 0 {
		fmt.Fprintf(&b, "\nLeft out (%d):\n\n", len(notes))
		for _, n := range notes {
			fmt.Fprintf(&b, "- %s\n", n)
		}
	}
	return b.String()
}

// tablesLock is held, inside tables/, by the process writing the tables
// and their figures (LockTables).
const tablesLock = ".lock"

// LockTables takes the lock of the sweep's tables/ folder (waiting for
// another collect to finish) and removes the temporary files that a killed
// collect left in tables/ and tables/figures/. Collect and the figures
// drawn after it run under it; release it with the returned function.
func (s *Sweep) LockTables() (release func(), err error) {
	dir := filepath.Join(s.Dir, TablesDir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	lk, err := lockWait(filepath.Join(dir, tablesLock))
	if err != nil {
		return nil, fmt.Errorf("tables: %w", err)
	}
	atomicfile.RemoveTemporaries(dir, nil)
	atomicfile.RemoveTemporaries(filepath.Join(dir, "figures"), nil)
	return func() { lk.Close() }, nil
}

// Collect writes the sweep's tables into its tables/ folder: Table 1
// (table1.md, table1.csv: gamma of C and C_awd), Table 3 (table3.md,
// table3.csv: also C_pair and C_pair2) and gamma over training per
// protocol (gamma_epochs.csv). Jobs that are not done are left out and
// listed (a job whose job.json cannot be read, in Sweep.Unreadable of
// OpenForStatus, among them); the Markdown files end with Provenance. It
// returns the files written and the series, for the figures. Where another
// process may collect the same sweep, call it under LockTables.
func Collect(s *Sweep) ([]string, []Series, error) {
	dir := filepath.Join(s.Dir, TablesDir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, nil, err
	}
	f := s.Finished()
	prov := Provenance(s)
	var files []string
	write := func(name, content string) error {
		path := filepath.Join(dir, name)
		files = append(files, path)
		return atomicfile.WriteBytes(path, []byte(content))
	}
	for _, tc := range []struct {
		name, title string
		covs        []string
	}{
		{"table1", "Table 1", Table1Covs},
		{"table3", "Table 3", Table3Covs},
	} {
		head := fmt.Sprintf("# %s: sweep %s\n\ngamma of c_i ~ lambda_i^gamma for %s at the last analysed epoch.\n\n",
			tc.title, s.Manifest.Name, strings.Join(tc.covs, ", "))
		if err := write(tc.name+".md", head+TableMarkdown(f, tc.covs)+"\n"+prov); err != nil {
			return nil, nil, err
		}
		csv, err := awd.MakeTable(f.Reports, f.IDs(), tc.covs).CSV()
		if err != nil {
			return nil, nil, err
		}
		if err := write(tc.name+".csv", csv); err != nil {
			return nil, nil, err
		}
	}
	series := GammaSeries(f, Table1Covs)
	csv, err := SeriesCSV(series, Table1Covs)
	if err != nil {
		return nil, nil, err
	}
	if err := write("gamma_epochs.csv", csv); err != nil {
		return nil, nil, err
	}
	return files, series, nil
}

// TaskFromEnv returns the job of this Slurm array task: line
// SLURM_ARRAY_TASK_ID + 1 of the task list.
func TaskFromEnv(tasks string) (string, error) {
	v := os.Getenv("SLURM_ARRAY_TASK_ID")
	var i int
	if _, err := fmt.Sscan(v, &i); err != nil || v == "" {
		return "", fmt.Errorf("--tasks %s: SLURM_ARRAY_TASK_ID is %q, not a task index (is this a Slurm array task?)", tasks, v)
	}
	return TaskJob(tasks, i)
}

// Provenance describes how a sweep's results were made, for the table
// files: the commands, the builds, CPUs and kernel levels of the finished
// jobs, the wall time per cell (protocol) and the cells still missing
// seeds (and the jobs whose job.json cannot be read, whose cell is
// unknown).
func Provenance(s *Sweep) string {
	var b strings.Builder
	fmt.Fprintf(&b, "## How these numbers were made\n\n")
	fmt.Fprintf(&b, "Commands: `awd sweep %s` (each job: `awd sweep run-job %s JOB`), then `awd sweep collect %s`.\n",
		ShellWord(s.Manifest.Config), ShellWord(s.Dir), ShellWord(s.Dir))
	fmt.Fprintf(&b, "The sweep folder keeps the config used (sweep.yaml) and each job's job.json, state.json and job.log.\n\n")
	sts := s.Statuses()
	set := func(get func(*JobState) string) string {
		var vs []string
		for _, st := range sts {
			if st.State == StateDone && st.Record != nil && !slices.Contains(vs, get(st.Record)) {
				vs = append(vs, get(st.Record))
			}
		}
		slices.Sort(vs)
		if len(vs) == 0 {
			return "-"
		}
		return strings.Join(vs, "; ")
	}
	c := Count(sts)
	fmt.Fprintf(&b, "- jobs: %d of %d done\n", c[StateDone], len(sts)+len(s.Unreadable))
	fmt.Fprintf(&b, "- awd built from commit: %s (%s)\n", set(func(r *JobState) string { return r.Build }), set(func(r *JobState) string { return r.Go }))
	fmt.Fprintf(&b, "- CPU: %s; kernel level: %s; threads per job: %s\n", set(func(r *JobState) string { return r.CPU }),
		set(func(r *JobState) string { return r.Kernels }), set(func(r *JobState) string { return fmt.Sprint(r.Threads) }))
	fmt.Fprintf(&b, "- hosts: %s\n\n", set(func(r *JobState) string {
		if r.Node != "" {
			return r.Host + " (Slurm node " + r.Node + ")"
		}
		return r.Host
	}))

	type cell struct {
		label        string
		jobs         []Status
		seconds, cpu []float64
	}
	var loads []float64
	var cells []*cell
	byProto := map[string]*cell{}
	for _, st := range sts {
		j := st.Job
		cl := byProto[j.Protocol]
		if cl == nil {
			cl = &cell{label: fmt.Sprintf("%s %s %s K=%d (P=%d, B=%d, epochs=%d, k=%d)", j.Spec.Data.Name, j.Spec.Model.Kind,
				strings.ToUpper(j.Spec.Train.Loss.String()), j.K(), j.Spec.Data.PerClass, j.Spec.Train.Batch, j.Spec.Train.Epochs, j.Spec.Analysis.K)}
			byProto[j.Protocol] = cl
			cells = append(cells, cl)
		}
		cl.jobs = append(cl.jobs, st)
		if st.State == StateDone && st.Record != nil {
			cl.seconds = append(cl.seconds, st.Record.Seconds)
			cl.cpu = append(cl.cpu, st.Record.CPUSeconds)
			if st.Record.Load[0] > 0 {
				loads = append(loads, st.Record.Load[0], st.Record.Load[1])
			}
		}
	}
	fmt.Fprintf(&b, "Wall time per cell (seconds per job: train, checkpoints and every analysis) and the CPU seconds of the job's process")
	if len(loads) > 0 {
		fmt.Fprintf(&b, "; the machine's load average was %.1f to %.1f at the jobs' starts and ends, so the wall times are those of a shared machine", slices.Min(loads), slices.Max(loads))
	}
	fmt.Fprintf(&b, ":\n\n| cell | jobs done | mean wall s | min | max | mean CPU s |\n|---|---|---|---|---|---|\n")
	for _, cl := range cells {
		if len(cl.seconds) == 0 {
			fmt.Fprintf(&b, "| %s | 0/%d | – | – | – | – |\n", cl.label, len(cl.jobs))
			continue
		}
		fmt.Fprintf(&b, "| %s | %d/%d | %.0f | %.0f | %.0f | %.0f |\n", cl.label, len(cl.seconds), len(cl.jobs),
			mean(cl.seconds), slices.Min(cl.seconds), slices.Max(cl.seconds), mean(cl.cpu))
	}
	var missing []string
	for _, cl := range cells {
		var notDone []string
		for _, st := range cl.jobs {
			if st.State != StateDone {
				notDone = append(notDone, st.Job.ID+" ("+st.State+")")
			}
		}
		if len(notDone) > 0 {
			missing = append(missing, fmt.Sprintf("- %s: %d of %d seeds missing: %s", cl.label, len(notDone), len(cl.jobs), strings.Join(notDone, ", ")))
		}
	}
	for _, u := range s.Unreadable {
		missing = append(missing, fmt.Sprintf("- job %s (cell unknown): %s", u.ID, firstLine(u.Err.Error())))
	}
	if len(missing) == 0 {
		fmt.Fprintf(&b, "\nMissing: none; every cell has all its seeds.\n")
	} else {
		fmt.Fprintf(&b, "\nMissing (the cells above average only the seeds done):\n\n%s\n", strings.Join(missing, "\n"))
	}
	return b.String()
}

func mean(xs []float64) float64 {
	s := 0.0
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}
