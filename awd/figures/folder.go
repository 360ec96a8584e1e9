package figures

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/awd-toolkit/awd/awd"
	"github.com/awd-toolkit/awd/internal/atomicfile"
)

// A folder of figures holds those of one run, as awd.FiguresFile records:
// figures of two runs side by side would read as one set. Only the files
// the record lists (or, in a folder without one, files named as awd's
// figures) are ever removed.

// recordSchema is the version of awd.FiguresFile.
const recordSchema = 1

// record is the content of awd.FiguresFile.
type record struct {
	Schema  int    `json:"schema"`
	RunID   string `json:"run_id,omitempty"` // the report's run id
	Results string `json:"results"`          // the results file drawn (absolute path)
	Tool    string `json:"tool"`
	// Files are the figures drawn, by name in the folder.
	Files []string `json:"files"`
}

// sameRun reports whether the record is of the report rep read from the
// results file abs: by its run id, or by the file when it has none.
func (r *record) sameRun(rep *awd.Report, abs string) bool {
	if r.RunID != "" || rep.RunID != "" {
		return r.RunID == rep.RunID
	}
	return r.Results == abs
}

// claim checks that dir holds no figures but those of the run of rep (at
// abs) and returns the figures of that run's earlier plot. Unless fresh,
// figures of another run, a damaged record, or figures without a record
// (an older awd) are refused with an awd.FolderError; with fresh they are
// removed. Figures without a record in the folder figures/ beside the
// results file are the run's own (its folder holds one run).
func claim(dir string, rep *awd.Report, abs string, fresh bool) (earlier []string, err error) {
	path := filepath.Join(dir, awd.FiguresFile)
	b, err := os.ReadFile(path)
	var rec record
	switch {
	case err == nil && (json.Unmarshal(b, &rec) != nil || rec.Schema != recordSchema):
		if !fresh {
			return nil, &awd.FolderError{Err: fmt.Errorf("%s: damaged or from another awd version", path), Remedy: awd.StartOver}
		}
		return nil, removeFigures(dir, figureFiles(dir))
	case err == nil && rec.sameRun(rep, abs):
		return rec.Files, nil
	case err == nil:
		if !fresh {
			other := rec.Results
			if rec.RunID != "" {
				other += ", run " + rec.RunID
			}
			return nil, &awd.FolderError{Err: fmt.Errorf("%s holds the figures of another run (%s)", dir, other), Remedy: awd.OtherFolder}
		}
		return nil, removeFigures(dir, append(rec.Files, awd.FiguresFile))
	case !errors.Is(err, os.ErrNotExist):
		return nil, fmt.Errorf("figures: %w", err)
	}
	old := figureFiles(dir)
	if beside(dir, abs) {
		// figures/ beside the results file, plot's default: a run folder
		// holds one run, so its figures without a record (drawn by an
		// older awd) are this run's.
		return old, nil
	}
	if len(old) > 0 && !fresh {
		return nil, &awd.FolderError{Err: fmt.Errorf("%s holds figures (%s) but no %s saying of which run", dir, old[0], awd.FiguresFile), Remedy: awd.OtherFolder}
	}
	return nil, removeFigures(dir, old)
}

// beside reports whether dir is the folder figures/ beside the results
// file abs.
func beside(dir, abs string) bool {
	d, err := filepath.Abs(dir)
	return err == nil && d == filepath.Join(filepath.Dir(abs), "figures")
}

// figureFiles lists the files in dir named as awd's figures.
func figureFiles(dir string) []string {
	var out []string
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if !e.IsDir() && awd.IsFigure(e.Name()) {
			out = append(out, e.Name())
		}
	}
	return out
}

// removeFigures removes the named files of dir; one already gone is fine.
func removeFigures(dir string, names []string) error {
	for _, n := range names {
		// Only awd's figures in the folder itself, whatever a record
		// lists.
		if n != filepath.Base(n) || !awd.IsFigure(n) {
			continue
		}
		if err := os.Remove(filepath.Join(dir, n)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("figures: %w", err)
		}
	}
	return nil
}

// settle removes the figures of the earlier plot of the same run that this
// plot did not draw again (drawn is complete: nothing failed) and records
// what the folder holds. After a failed plot the earlier figures not drawn
// again stay, and stay recorded.
func settle(dir string, rep *awd.Report, abs string, earlier, drawn []string, complete bool) error {
	names := make([]string, len(drawn))
	for i, f := range drawn {
		names[i] = filepath.Base(f)
	}
	var stale []string
	for _, n := range earlier {
		if !slices.Contains(names, n) {
			stale = append(stale, n)
		}
	}
	if complete {
		if err := removeFigures(dir, stale); err != nil {
			return err
		}
	} else {
		names = append(names, stale...)
	}
	js, _ := json.MarshalIndent(record{Schema: recordSchema, RunID: rep.RunID, Results: abs, Tool: awd.Tool, Files: names}, "", "  ")
	return atomicfile.WriteBytes(filepath.Join(dir, awd.FiguresFile), append(js, '\n'))
}
