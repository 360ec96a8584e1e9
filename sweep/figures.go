package sweep

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
)

// FiguresDir is the folder of the figures drawn with the tables (inside
// the sweep's tables/ folder).
const FiguresDir = "figures"

// figuresRecord is the file, in FiguresDir, that lists the figures the
// sweep drew and the protocol of each: only these are ever removed.
const figuresRecord = ".drawn.json"

// drawnFigures is figuresRecord.
type drawnFigures struct {
	SchemaVersion int               `json:"schema_version"`
	Figures       map[string]string `json:"figures"` // file name in FiguresDir -> protocol of its series
}

// RecordFigures records the figures a collect drew (file names in
// tables/figures/, each with the protocol of its series) and, when the
// collect drew every series (complete), removes the figures that earlier
// collects drew and this one did not redraw, where they no longer belong to
// a configuration of the sweep: their protocol is no job's (the sweep file
// was edited), or its series is drawn now under another name. A figure of a
// configuration that has no finished job now is kept; a file the sweep
// never drew is never touched. A sweep with jobs whose job.json cannot be
// read (Sweep.Unreadable) is never complete: their configurations are
// unknown, so a figure of theirs would read as gone from the sweep. It
// returns the files removed. Call it under LockTables.
func (s *Sweep) RecordFigures(drawn map[string]string, complete bool) (removed []string, err error) {
	complete = complete && len(s.Unreadable) == 0
	dir := filepath.Join(s.Dir, TablesDir, FiguresDir)
	path := filepath.Join(dir, figuresRecord)
	var old drawnFigures
	// A record that does not read (damaged, of another version) names
	// nothing to remove: the figures it named stay.
	if err := readJSON(path, &old); err != nil && !errors.Is(err, os.ErrNotExist) {
		old.Figures = nil
	}
	rec := drawnFigures{SchemaVersion: SchemaVersion, Figures: map[string]string{}}
	for name, p := range drawn {
		rec.Figures[name] = p
	}
	inSweep, drawnNow := map[string]bool{}, map[string]bool{}
	for _, j := range s.Jobs {
		inSweep[j.Protocol] = true
	}
	for _, p := range drawn {
		drawnNow[p] = true
	}
	names := make([]string, 0, len(old.Figures))
	for name := range old.Figures {
		names = append(names, name)
	}
	sort.Strings(names)
	var errs []error
	for _, name := range names {
		p := old.Figures[name]
		// Only plain names in the figures folder: a record edited by hand
		// never reaches beyond it.
		if _, ok := drawn[name]; ok || name != filepath.Base(name) || name == "." || name == ".." || name == figuresRecord {
			continue
		}
		if !complete || inSweep[p] && !drawnNow[p] {
			rec.Figures[name] = p
			continue
		}
		f := filepath.Join(dir, name)
		if err := os.Remove(f); err == nil {
			removed = append(removed, f)
		} else if !errors.Is(err, os.ErrNotExist) {
			rec.Figures[name] = p // still there: removed by the next collect
			errs = append(errs, fmt.Errorf("stale figure: %w", err))
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return removed, err
	}
	if err := writeJSON(path, rec); err != nil {
		errs = append(errs, err)
	}
	return removed, errors.Join(errs...)
}
