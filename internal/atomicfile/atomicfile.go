// Package atomicfile writes files so that a reader never sees a partial one
// and a killed writer leaves the old file in place: the content goes to a
// temporary file in the same folder, is synced, and is renamed over the
// target. Checkpoints, accumulated states, results and figures all use it.
package atomicfile

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
)

// Write writes the output of fill to path atomically. On any error the
// temporary file is removed and path is left as it was.
func Write(path string, fill func(io.Writer) error) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		// Name the folder, not the temporary file the caller never asked for.
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = &os.PathError{Op: "create a file in", Path: dir, Err: pe.Err}
		}
		return fmt.Errorf("write %s: %w", path, noRoom(dir, err))
	}
	tmp := f.Name()
	defer os.Remove(tmp) // a no-op after the rename
	err = fill(f)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp, 0o644) // CreateTemp makes 0600 files
	}
	if err == nil {
		err = Rename(tmp, path)
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, noRoom(dir, err))
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync() // best effort: not every file system syncs folders
		d.Close()
	}
	return nil
}

// noRoom rewords err when the device of dir is full or the quota on it is
// spent: the temporary file's name in err means nothing to the user, and
// what helps is room there. The old file is kept, as on any error, so a
// command started again goes on from what it had written.
func noRoom(dir string, err error) error {
	for _, full := range []syscall.Errno{syscall.ENOSPC, syscall.EDQUOT} {
		if errors.Is(err, full) {
			return &noRoomError{dir: dir, err: full}
		}
	}
	return err
}

type noRoomError struct {
	dir string
	err syscall.Errno
}

func (e *noRoomError) Error() string {
	return fmt.Sprintf("%v in %s: free space there (or write elsewhere), then run the command again: the files it wrote before are kept", e.err, e.dir)
}

func (e *noRoomError) Unwrap() error { return e.err }

// WriteBytes writes data to path atomically.
func WriteBytes(path string, data []byte) error {
	return Write(path, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// Rename renames old to path: the commit step of every atomic write, and of
// the staged checkpoints of package nn.
//
// For the fault-injection tests, AWD_FAULT_AT=n makes the process exit with
// status 3 just before its n-th rename, as a kill -9 would at that point
// (the tests run the CLI with it set, once for every n, and check that the
// next start resumes to the same result).
func Rename(old, path string) error {
	if faultAt > 0 && renames.Add(1) == faultAt {
		os.Exit(3)
	}
	return os.Rename(old, path)
}

var (
	faultAt, _ = strconv.ParseInt(os.Getenv("AWD_FAULT_AT"), 10, 64)
	renames    atomic.Int64
)

// IsTemporary reports whether name is the name of one of Write's temporary
// files (".<base>.tmp<digits>").
func IsTemporary(name string) bool {
	i := strings.LastIndex(name, ".tmp")
	if len(name) < 2 || name[0] != '.' || i < 2 || i+4 == len(name) {
		return false
	}
	for _, c := range name[i+4:] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// RemoveTemporaries removes the temporary files of Write in dir (not in
// its subfolders) that a killed writer left, except those for which skip
// returns true (nil: none). Call it only while no other process may be
// writing the same files in dir.
func RemoveTemporaries(dir string, skip func(name string) bool) {
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if n := e.Name(); !e.IsDir() && IsTemporary(n) && (skip == nil || !skip(n)) {
			os.Remove(filepath.Join(dir, n))
		}
	}
}
