package awd

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/awd-toolkit/awd/internal/atomicfile"
)

// An output folder belongs to one command and one configuration. Its owner
// file says which; a lock held for the life of the process keeps a second
// process out; and only the files awd itself writes there are ever removed
// (by a fresh start) or cleaned (temporary files left by a kill).

// OwnerFile is the name of the owner file in every output folder.
const OwnerFile = "awd-owner.json"

// lockFile is held (flock) by the process that has the folder open.
const lockFile = ".awd.lock"

// OwnerSchema is the version of the owner file.
const OwnerSchema = 1

// Owner is the content of OwnerFile.
type Owner struct {
	Schema  int             `json:"schema"`
	Command string          `json:"command"` // "run", "train", "analyze"
	RunID   string          `json:"run_id"`  // random, recorded in every checkpoint and report written here
	Created time.Time       `json:"created"`
	Tool    string          `json:"tool"`
	Config  json.RawMessage `json:"config"`
}

// Folder is an output folder opened for writing: locked, owned, clean.
type Folder struct {
	Dir   string
	Owner Owner
	lock  *os.File
}

// ErrFolderBusy is wrapped by OpenFolder's error when another process holds
// the folder.
var ErrFolderBusy = errors.New("output folder in use")

// OpenFolder creates dir if needed, locks it for this process (another
// process holding it is an error naming the holder), and checks that it
// belongs to command with config, or is new. With fresh, the files of the
// folder's previous owner are removed first and the folder gets a new run
// id. Temporary files left by a killed writer are removed. A folder that
// holds awd's files but no owner file (written by an older awd) is refused
// unless fresh. Close releases the lock.
func OpenFolder(dir, command string, config any, fresh bool) (*Folder, error) {
	cfg, err := json.Marshal(config)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("output folder: %w", err)
	}
	lock, err := lockFolder(dir, command)
	if err != nil {
		return nil, err
	}
	f := &Folder{Dir: dir, lock: lock}
	if err := f.claim(command, cfg, fresh); err != nil {
		f.Close()
		return nil, err
	}
	cleanTemporaries(dir)
	cleanTemporaries(filepath.Join(dir, "checkpoints"))
	return f, nil
}

// claim reads the owner file and checks it against command and cfg, or
// (new folder, or fresh) writes a new one.
func (f *Folder) claim(command string, cfg []byte, fresh bool) error {
	path := filepath.Join(f.Dir, OwnerFile)
	b, err := os.ReadFile(path)
	switch {
	case err == nil && !fresh:
		if err := json.Unmarshal(b, &f.Owner); err != nil || f.Owner.Schema != OwnerSchema {
			return fmt.Errorf("%s: damaged or from another awd version (%v); use --fresh to start over", path, err)
		}
		if f.Owner.Command != command {
			return fmt.Errorf("%s holds the output of `awd %s`; use another --out (or --fresh to replace it)", f.Dir, f.Owner.Command)
		}
		if diff := jsonDiff(f.Owner.Config, cfg); diff != "" {
			return fmt.Errorf("%s holds a %s with other settings (%s); use the same flags to resume, another --out, or --fresh", f.Dir, command, diff)
		}
		return nil
	case err != nil && !errors.Is(err, os.ErrNotExist):
		return fmt.Errorf("output folder: %w", err)
	case err != nil && !fresh:
		if old := ownedFiles(f.Dir); len(old) > 0 {
			return fmt.Errorf("%s holds files of another awd run or an older awd (%s) but no %s; use another --out, or --fresh to replace them", f.Dir, old[0], OwnerFile)
		}
	}
	if fresh {
		if err := removeOwned(f.Dir); err != nil {
			return err
		}
	}
	var id [8]byte
	rand.Read(id[:])
	f.Owner = Owner{Schema: OwnerSchema, Command: command, RunID: hex.EncodeToString(id[:]), Created: time.Now().UTC(), Tool: Tool, Config: cfg}
	js, _ := json.MarshalIndent(f.Owner, "", "  ")
	return atomicfile.WriteBytes(path, append(js, '\n'))
}

// Tool names this awd in owner files and reports ("awd <version>"); the
// CLI sets it from its version.
var Tool = "awd"

// Close releases the folder's lock.
func (f *Folder) Close() error {
	if f.lock == nil {
		return nil
	}
	err := unlockFolder(f.lock)
	f.lock = nil
	return err
}

// Path returns the path of name inside the folder.
func (f *Folder) Path(name ...string) string {
	return filepath.Join(append([]string{f.Dir}, name...)...)
}

// ownedFiles lists the files and folders in dir that awd writes.
func ownedFiles(dir string) []string {
	entries, _ := os.ReadDir(dir)
	var out []string
	for _, e := range entries {
		if isOwned(e.Name()) {
			out = append(out, e.Name())
		}
	}
	return out
}

func isOwned(name string) bool {
	for _, p := range []string{"arrays_epoch*.npz", "final.npz", "final.json", "final.next.npz", "final.next.json", "shard_*_of_*.acc", "*.awdacc"} {
		if ok, _ := filepath.Match(p, name); ok {
			return true
		}
	}
	return slices.Contains([]string{"results.json", "metrics.jsonl", "checkpoints", "figures", OwnerFile}, name)
}

// removeOwned removes what awd wrote in dir (never other files).
func removeOwned(dir string) error {
	for _, name := range ownedFiles(dir) {
		if err := os.RemoveAll(filepath.Join(dir, name)); err != nil {
			return fmt.Errorf("--fresh: %w", err)
		}
	}
	return nil
}

// cleanTemporaries removes the temporary files of atomicfile (".name.tmp*")
// left by a killed writer.
func cleanTemporaries(dir string) {
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if n := e.Name(); strings.HasPrefix(n, ".") && strings.Contains(n, ".tmp") && !e.IsDir() {
			os.Remove(filepath.Join(dir, n))
		}
	}
}

// jsonDiff names the first path at which two JSON documents differ ("" when
// they are equal), e.g. `train.lr: 0.1 vs 0.05`.
func jsonDiff(a, b []byte) string {
	var va, vb any
	if json.Unmarshal(a, &va) != nil || json.Unmarshal(b, &vb) != nil {
		if bytes.Equal(a, b) {
			return ""
		}
		return "unreadable settings"
	}
	return valueDiff("", va, vb)
}

func valueDiff(path string, a, b any) string {
	ma, okA := a.(map[string]any)
	mb, okB := b.(map[string]any)
	if okA && okB {
		keys := sortedKeys(ma)
		for k := range mb {
			if _, ok := ma[k]; !ok {
				keys = append(keys, k)
			}
		}
		for _, k := range keys {
			p := k
			if path != "" {
				p = path + "." + k
			}
			if d := valueDiff(p, ma[k], mb[k]); d != "" {
				return d
			}
		}
		return ""
	}
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	if bytes.Equal(ja, jb) {
		return ""
	}
	if path == "" {
		path = "settings"
	}
	return fmt.Sprintf("%s: %s here, %s asked", path, shorten(ja), shorten(jb))
}

// FileSHA256 returns the hex SHA-256 of a file's content.
func FileSHA256(path string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:]), nil
}
