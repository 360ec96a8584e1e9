package sweep

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestRecordFigures: a collect removes the figures earlier collects drew
// whose configuration left the sweep, or whose series it now draws under
// another name; it keeps a configuration's figure while the configuration
// has no finished job, every file the sweep did not draw, and everything
// when the collect did not draw all its series.
func TestRecordFigures(t *testing.T) {
	s := prepare(t, minimal)
	dir := filepath.Join(s.Dir, TablesDir, FiguresDir)
	os.MkdirAll(dir, 0o755)
	outside := filepath.Join(s.Dir, TablesDir, "outside.png")
	for _, f := range []string{"a.png", "gone.png", "gone.svg", "idle.png", "renamed.png", "mine.png"} {
		os.WriteFile(filepath.Join(dir, f), nil, 0o644)
	}
	os.WriteFile(outside, nil, 0o644)
	kept, idle, renamed := s.Jobs[0].Protocol, s.Jobs[2].Protocol, s.Jobs[4].Protocol
	first := map[string]string{"a.png": kept, "gone.png": "0ff", "gone.svg": "0ff", "idle.png": idle, "renamed.png": renamed}
	if removed, err := s.RecordFigures(first, true); err != nil || len(removed) != 0 {
		t.Fatalf("first collect: removed %v, %v", removed, err)
	}
	// A record edited to reach outside the figures folder is not followed.
	rec := filepath.Join(dir, figuresRecord)
	var r drawnFigures
	if err := readJSON(rec, &r); err != nil {
		t.Fatal(err)
	}
	r.Figures["../outside.png"] = "0ff"
	writeJSON(rec, r)

	// A collect that stopped halfway removes nothing and forgets nothing.
	os.WriteFile(filepath.Join(dir, "renamed-2.png"), nil, 0o644)
	second := map[string]string{"a.png": kept, "renamed-2.png": renamed}
	if removed, err := s.RecordFigures(second, false); err != nil || len(removed) != 0 {
		t.Fatalf("incomplete collect: removed %v, %v", removed, err)
	}
	removed, err := s.RecordFigures(second, true)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{filepath.Join(dir, "gone.png"), filepath.Join(dir, "gone.svg"), filepath.Join(dir, "renamed.png")}
	if !slices.Equal(removed, want) {
		t.Errorf("removed %v, want %v", removed, want)
	}
	for _, f := range []string{"a.png", "idle.png", "renamed-2.png", "mine.png"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	if _, err := os.Stat(outside); err != nil {
		t.Errorf("a file outside the figures folder: %v", err)
	}
	// idle.png stays recorded: removed once its configuration leaves.
	r = drawnFigures{}
	if err := readJSON(rec, &r); err != nil || r.Figures["idle.png"] != idle {
		t.Errorf("record %v, %v", r.Figures, err)
	}
	// A damaged record names nothing to remove.
	os.WriteFile(rec, []byte("{"), 0o644)
	if removed, err := s.RecordFigures(nil, true); err != nil || len(removed) != 0 {
		t.Errorf("damaged record: removed %v, %v", removed, err)
	}
}
