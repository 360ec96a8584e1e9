package sweep

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/awd-toolkit/awd/internal/atomicfile"
)

// TablesDir is where Collect writes, inside the sweep folder.
const TablesDir = "tables"

// Collect writes the sweep's tables into its tables/ folder: Table 1
// (table1.md, table1.csv: gamma of C and C_awd), Table 3 (table3.md,
// table3.csv: also C_pair and C_pair2) and gamma over training per
// protocol (gamma_epochs.csv). Jobs that are not done are left out and
// listed. It returns the files written.
func Collect(s *Sweep) ([]string, error) {
	dir := filepath.Join(s.Dir, TablesDir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	es, drop := EntriesFromSweep(s)
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
		t, err := BuildTable(es, drop, tc.covs)
		if err != nil {
			return nil, err
		}
		head := fmt.Sprintf("# %s: sweep %s (%s)\n\ngamma of c_i ~ lambda_i^gamma for %s at the last analysed epoch.\n\n",
			tc.title, s.Manifest.Name, s.Dir, strings.Join(tc.covs, ", "))
		if err := write(tc.name+".md", head+t.Markdown()); err != nil {
			return nil, err
		}
		csv, err := t.CSV()
		if err != nil {
			return nil, err
		}
		if err := write(tc.name+".csv", csv); err != nil {
			return nil, err
		}
	}
	csv, err := SeriesCSV(GammaSeries(es, Table1Covs), Table1Covs)
	if err != nil {
		return nil, err
	}
	if err := write("gamma_epochs.csv", csv); err != nil {
		return nil, err
	}
	return files, nil
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
