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
	// Data is the fingerprint of the data the folder's run read
	// (nn.Fingerprint, set by CheckData): settings do not name the data,
	// whose folder (data.dir) may move while its content must not change.
	Data string `json:"data_sha256,omitempty"`
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

// SweepManifest is the file that marks a sweep's folder (package sweep
// writes it): no command's output folder may be one.
const SweepManifest = "sweep.json"

// Remedy is what can be done about an output folder that a command refuses
// to resume or to write into (FolderError).
type Remedy int

const (
	// StartOver: the folder cannot be resumed (a damaged or foreign
	// file); a fresh start (RunOptions.Fresh, OpenFolder's fresh) replaces
	// what it holds.
	StartOver Remedy = iota + 1
	// OtherFolder: the folder holds the output of another command, or
	// files of awd without an owner file: use another folder, or start
	// over to replace them.
	OtherFolder
	// SameSettings: the folder holds a run with other settings: resume it
	// with its settings, use another folder, or start over.
	SameSettings
	// SameData: the folder holds a run of other data: give the folder of
	// that run's data, use another folder, or start over.
	SameData
	// NewFolder: a fresh start would remove an input of the command: use
	// another folder.
	NewFolder
	// Wait: another process holds the folder (ErrFolderBusy): wait for it
	// to end, or use another folder.
	Wait
)

// String is the remedy in the library's terms, as FolderError says it.
func (r Remedy) String() string {
	switch r {
	case StartOver:
		return "set RunOptions.Fresh to start over"
	case OtherFolder:
		return "use another output folder, or set RunOptions.Fresh to replace what it holds"
	case SameSettings:
		return "use the same settings to resume, another output folder, or RunOptions.Fresh to start over"
	case SameData:
		return "give the folder of the run's data, another output folder, or RunOptions.Fresh to start over"
	case NewFolder:
		return "use another output folder"
	case Wait:
		return "wait for it to end, or use another output folder"
	}
	return fmt.Sprintf("remedy %d", int(r))
}

// FolderError is the error of an output folder that OpenFolder,
// Folder.CheckData or Run refuses to resume or to write into: Err says
// what the folder holds, Remedy what can be done about it. Its message is
// Err's followed by the remedy in the library's terms ("...; set
// RunOptions.Fresh to start over"). A front end that names the remedies
// otherwise (a command line's flags, a sweep's reset) says them in its own
// terms with SayRemedy, whatever wraps the error.
type FolderError struct {
	Err    error
	Remedy Remedy
}

func (e *FolderError) Error() string { return e.Err.Error() + "; " + e.Remedy.String() }
func (e *FolderError) Unwrap() error { return e.Err }

// folderError is a FolderError of remedy with a formatted message.
func folderError(remedy Remedy, format string, args ...any) error {
	return &FolderError{Err: fmt.Errorf(format, args...), Remedy: remedy}
}

// SayRemedy returns err with the remedy of the FolderError it wraps said
// as say says it (e.g. "use --fresh to start over"), or err itself when it
// wraps none. The result wraps err, so errors.Is and errors.As see what err
// holds; its message is err's, rebuilt along the chain of wrapped errors
// from each wrapper's own words around the error it wraps, with the
// FolderError's text replaced by its Err and the remedy said. So the
// remedy is said wherever the chain wraps the FolderError (twice under
// fmt.Errorf's two %w), never where a wrapper merely quotes the same text,
// and a remedy said before (an earlier SayRemedy) is said again. A wrapper
// whose message does not hold that of the error it wraps keeps its
// message.
func SayRemedy(err error, say func(Remedy) string) error {
	var fe *FolderError
	if !errors.As(err, &fe) {
		return err
	}
	return &remedySaid{err, sayIn(err, say)}
}

// remedySaid is an error whose message says its remedy otherwise.
type remedySaid struct {
	err error
	msg string
}

func (e *remedySaid) Error() string { return e.msg }
func (e *remedySaid) Unwrap() error { return e.err }

// sayIn is the message of err with the remedy of every FolderError it
// wraps said by say: a wrapper's message is its own words around the
// messages of the errors it wraps, each said again by sayIn.
func sayIn(err error, say func(Remedy) string) string {
	switch e := err.(type) {
	case *FolderError:
		return e.Err.Error() + "; " + say(e.Remedy)
	case *remedySaid:
		return sayIn(e.err, say)
	}
	var inner []error
	switch e := err.(type) {
	case interface{ Unwrap() error }:
		if in := e.Unwrap(); in != nil {
			inner = []error{in}
		}
	case interface{ Unwrap() []error }:
		inner = e.Unwrap()
	}
	msg := err.Error()
	// The wrapped messages are found from the end of the wrapper's,
	// last first, so that words of the wrapper that quote one of them
	// (before it, as in "%v: %w") are left as they are.
	end := len(msg)
	var parts []string // the message's pieces, from the end
	for i := len(inner) - 1; i >= 0; i-- {
		if inner[i] == nil {
			continue
		}
		var fe *FolderError
		if !errors.As(inner[i], &fe) {
			continue // nothing to say there: its text stays in the wrapper's words
		}
		text := inner[i].Error()
		at := wrappedAt(msg[:end], text, len(inner) == 1)
		if at < 0 {
			return msg // the wrapper changed the text: keep its words
		}
		parts = append(parts, msg[at+len(text):end], sayIn(inner[i], say))
		end = at
	}
	parts = append(parts, msg[:end])
	var b strings.Builder
	for i := len(parts) - 1; i >= 0; i-- {
		b.WriteString(parts[i])
	}
	return b.String()
}

// wrappedAt is where a wrapper's message msg holds the message text of an
// error it wraps, -1 when nowhere: at its end ("context: %w"), else, for
// the only wrapped error, at its start ("%w (context)"), else at its last
// place.
func wrappedAt(msg, text string, only bool) int {
	switch {
	case strings.HasSuffix(msg, text):
		return len(msg) - len(text)
	case only && strings.HasPrefix(msg, text):
		return 0
	}
	return strings.LastIndex(msg, text)
}

// OpenFolder creates dir if needed, locks it for this process (another
// process holding it is an error naming the holder), and checks that it
// belongs to command with config, or is new. With fresh, the files of the
// folder's previous owner are removed first and the folder gets a new run
// id. Temporary files left by a killed writer are removed. A folder that
// holds awd's files but no owner file (written by an older awd) is refused
// unless fresh. A folder whose owner has done no work yet (it holds no file
// awd writes but the owner file: no checkpoint, log, report, arrays or
// shard) binds nobody to its command or config: it is taken over as a new
// folder, with a new run id, and CheckData to the data. Close releases the
// lock.
//
// inputs are the files the command reads: a fresh start that would remove
// one of them is refused. A refused folder's error is a FolderError, whose
// Remedy says what can be done about it.
func OpenFolder(dir, command string, config any, fresh bool, inputs ...string) (*Folder, error) {
	if dir == "" {
		return nil, errors.New("output folder: no path given")
	}
	cfg, err := json.Marshal(config)
	if err != nil {
		return nil, err
	}
	// A sweep's folder (package sweep) is its own: its runs live in
	// jobs/<id>/run. A fresh start keeps what is not awd's output, so it
	// is no remedy.
	if _, err := os.Stat(filepath.Join(dir, SweepManifest)); err == nil {
		return nil, folderError(NewFolder, "%s is the folder of a sweep (it holds %s)", dir, SweepManifest)
	}
	// A path that is a file, or under one, or where awd may not write:
	// only another folder helps.
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, folderError(NewFolder, "output folder %s cannot be made or used (%v)", dir, err)
	}
	lock, err := lockFolder(dir, command)
	if err != nil {
		return nil, err
	}
	f := &Folder{Dir: dir, lock: lock}
	if fresh {
		if err := checkInputs(dir, inputs); err != nil {
			f.Close()
			return nil, err
		}
	}
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
			return folderError(StartOver, "%s: damaged or from another awd version (%v)", path, err)
		}
		refusal := f.otherOwner(command, cfg)
		if refusal == nil {
			return nil
		}
		if holdsWork(f.Dir) {
			return refusal
		}
		// An owner that has done nothing yet (a start refused or killed
		// before its first file) binds nobody: the folder is taken over
		// as a new one.
	case err != nil && !errors.Is(err, os.ErrNotExist):
		return fmt.Errorf("output folder: %w", err)
	case err != nil && !fresh:
		if old := ownedFiles(f.Dir); len(old) > 0 {
			return folderError(OtherFolder, "%s holds files of another awd run or an older awd (%s) but no %s", f.Dir, old[0], OwnerFile)
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

// otherOwner refuses the folder's owner when it is not command with cfg.
func (f *Folder) otherOwner(command string, cfg []byte) error {
	if f.Owner.Command != command {
		return folderError(OtherFolder, "%s holds the output of `awd %s`", f.Dir, f.Owner.Command)
	}
	if diff := jsonDiff(f.Owner.Config, cfg); diff != "" {
		return folderError(SameSettings, "%s holds %s with other settings (%s)", f.Dir, withArticle(command), diff)
	}
	return nil
}

// HoldsWork reports whether the output folder dir holds work of its owner:
// a folder without any binds no later start (see OpenFolder).
func HoldsWork(dir string) bool { return holdsWork(dir) }

// holdsWork reports whether dir holds work of its owner: a file awd writes
// (a checkpoint, even one half renamed, a report, a log, arrays, a shard,
// a figure) other than the owner file. A folder without any has done
// nothing that its settings or data could be needed to continue.
func holdsWork(dir string) bool {
	for _, name := range ownedFiles(dir) {
		if name != OwnerFile {
			return true
		}
	}
	return false
}

// CheckData checks that the data of this command are those of the run the
// folder holds, by their fingerprint fp (nn.Fingerprint), and records fp
// in a folder that has none yet (a new one, or one an older awd wrote).
// Another folder of the same data (data.dir moved or spelled otherwise) is
// fine; other files where the data were are not, unless the folder holds
// no work yet (see OpenFolder): then fp replaces the fingerprint recorded.
func (f *Folder) CheckData(fp string) error {
	if f.Owner.Data == fp {
		return nil
	}
	if f.Owner.Data == "" || !holdsWork(f.Dir) {
		f.Owner.Data = fp
		js, _ := json.MarshalIndent(f.Owner, "", "  ")
		return atomicfile.WriteBytes(filepath.Join(f.Dir, OwnerFile), append(js, '\n'))
	}
	return folderError(SameData, "%s holds %s of other data than these (fingerprint %.12s there, %.12s here): the files of the data folder changed", f.Dir, withArticle(f.Owner.Command), f.Owner.Data, fp)
}

// withArticle is a command's name with its indefinite article, as the
// folder's messages say it: "an analyze", "a reduce", "a run", "a train".
func withArticle(command string) string {
	if command != "" && strings.ContainsRune("aeiou", rune(command[0])) {
		return "an " + command
	}
	return "a " + command
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

// FolderLock is the lock of a folder that a command writes into without
// owning it as an output folder: the folder of awd plot's figures.
type FolderLock struct{ f *os.File }

// LockFolder takes the lock of dir (which must exist) that OpenFolder
// takes, held until Unlock or the process's end, and records command as
// its holder. Another holder, another process or another LockFolder or
// OpenFolder of this one, is an error that wraps ErrFolderBusy and names
// the holder; it does not wait. Where flock is not available (not unix)
// the lock keeps nobody out.
func LockFolder(dir, command string) (*FolderLock, error) {
	f, err := lockFolder(dir, command)
	if err != nil {
		return nil, err
	}
	return &FolderLock{f}, nil
}

// Unlock releases the lock.
func (l *FolderLock) Unlock() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := unlockFolder(l.f)
	l.f = nil
	return err
}

// Path returns the path of name inside the folder.
func (f *Folder) Path(name ...string) string {
	return filepath.Join(append([]string{f.Dir}, name...)...)
}

// ownedFiles lists the files in dir that awd writes (relative paths, the
// files of checkpoints/ and figures/ included).
func ownedFiles(dir string) []string {
	var out []string
	for _, sub := range []string{"", "checkpoints", "figures"} {
		entries, _ := os.ReadDir(filepath.Join(dir, sub))
		for _, e := range entries {
			if !e.IsDir() && isOwned(sub, e.Name()) {
				out = append(out, filepath.Join(sub, e.Name()))
			}
		}
	}
	return out
}

// ownedPatterns are the names of the files awd writes in an output folder
// (""), in its checkpoints/ and in its figures/ (`awd plot`'s default).
var ownedPatterns = map[string][]string{
	"": {"arrays_epoch*.npz", "final.npz", "final.json", "final.next.npz", "final.next.json", "shard_*_of_*.acc", "*.awdacc",
		"results.json", "metrics.jsonl", OwnerFile},
	"checkpoints": {"epoch_*.npz", "epoch_*.json", "last.npz", "last.json", "last.next.npz", "last.next.json"},
	"figures": {"powerlaw*.png", "powerlaw*.svg", "spectra*.png", "spectra*.svg", "rho*.png", "rho*.svg",
		"suppression*.png", "suppression*.svg", "gamma_epochs*.png", "gamma_epochs*.svg", "gamma_layers*.png", "gamma_layers*.svg",
		FiguresFile},
}

// FiguresFile records, in a folder of figures (`awd plot`), the run whose
// figures it holds and the files drawn (package figures writes it).
const FiguresFile = "awd-figures.json"

// IsFigure reports whether name is that of a figure awd draws (package
// figures) or of FiguresFile.
func IsFigure(name string) bool { return isOwned("figures", name) }

func isOwned(sub, name string) bool {
	for _, p := range ownedPatterns[sub] {
		if ok, _ := filepath.Match(p, name); ok {
			return true
		}
	}
	return false
}

// removeOwned removes what awd wrote in dir, and checkpoints/ and figures/
// when nothing else is left in them (never other files).
func removeOwned(dir string) error {
	for _, name := range ownedFiles(dir) {
		if err := os.Remove(filepath.Join(dir, name)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("fresh start: %w", err)
		}
	}
	for _, sub := range []string{"checkpoints", "figures"} {
		cleanTemporaries(filepath.Join(dir, sub))
		if sub == "figures" {
			removeIdleLock(filepath.Join(dir, sub))
		}
		os.Remove(filepath.Join(dir, sub)) // fails, as it should, when the user keeps files there
	}
	return nil
}

// removeIdleLock removes the lock file that awd plot left in dir (its
// figures/), unless a plot holds it, so that the folder it leaves empty
// can be removed.
func removeIdleLock(dir string) {
	if _, err := os.Stat(filepath.Join(dir, lockFile)); err != nil {
		return
	}
	l, err := lockFolder(dir, "fresh start")
	if err != nil {
		return
	}
	os.Remove(filepath.Join(dir, lockFile))
	unlockFolder(l)
}

// checkInputs refuses a fresh start that would remove one of the command's
// input files.
func checkInputs(dir string, inputs []string) error {
	for _, in := range inputs {
		fi, err := os.Stat(in)
		if err != nil {
			continue
		}
		for _, name := range ownedFiles(dir) {
			if o, err := os.Stat(filepath.Join(dir, name)); err == nil && os.SameFile(fi, o) {
				return folderError(NewFolder, "a fresh start would remove %s, an input of this command", in)
			}
		}
	}
	return nil
}

// cleanTemporaries removes the temporary files of atomicfile left by a
// killed writer.
func cleanTemporaries(dir string) {
	atomicfile.RemoveTemporaries(dir, nil)
}

// jsonDiff names the first path at which two JSON documents differ ("" when
// they are equal), e.g. `train.lr: 0.1 here, 0.05 asked` or
// `data.cifar_std: not set (the default) here, "data" asked` (settingText).
func jsonDiff(a, b []byte) string {
	va, errA := decodeJSON(a)
	vb, errB := decodeJSON(b)
	if errA != nil || errB != nil {
		if bytes.Equal(a, b) {
			return ""
		}
		return "unreadable settings"
	}
	// The data's folder is not part of the settings (nn.DataSpec.Dir):
	// CheckData compares the data themselves.
	for _, v := range []any{va, vb} {
		if m, ok := v.(map[string]any); ok {
			if d, ok := m["data"].(map[string]any); ok {
				delete(d, "dir")
			}
		}
	}
	// A key one side lacks counts as null, as it always has here.
	path, x, y, ok := firstDiff("", va, vb, nil)
	if !ok {
		return ""
	}
	if path == "" {
		path = "settings"
	}
	xs, ys := settingText(x, y), settingText(y, x)
	if strings.HasSuffix(path, ".layer") { // "" is the model's default layer
		for _, v := range []*string{&xs, &ys} {
			if *v == `""` {
				*v = "the default layer"
			}
		}
	}
	return fmt.Sprintf("%s: %s here, %s asked", path, xs, ys)
}

// settingText is the value v of a setting for a message, other being the
// setting's value on the other side. A setting absent (or null) is at its
// default, as configs leave out a setting at its default (omitempty, e.g.
// data.cifar_std for "code"): it reads "none" for a list or object (no
// analysis, no checkpoints), "false (the default)" for a flag and "not set
// (the default)" otherwise, never "null".
func settingText(v, other any) string {
	if v != nil {
		return jsonText(v, "")
	}
	switch other.(type) {
	case map[string]any, []any:
		return "none"
	case bool:
		return "false (the default)"
	}
	return "not set (the default)"
}

// decodeJSON decodes a JSON document keeping numbers as written (json.Number),
// so that a 64-bit seed compares and prints exactly.
func decodeJSON(b []byte) (any, error) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	err := d.Decode(&v)
	return v, err
}

// absentKey can stand, in firstDiff, for a key that one object lacks.
type absentKey struct{}

// firstDiff walks two decoded JSON values, objects key by key (sorted, the
// keys only b has last), and returns the path of the first value in which
// they differ and the two values there, absent standing for a key one
// object lacks (nil: it equals null; absentKey{}: it equals nothing); ok
// is false when they are equal.
func firstDiff(path string, a, b, absent any) (string, any, any, bool) {
	ma, okA := a.(map[string]any)
	mb, okB := b.(map[string]any)
	if okA && okB {
		keys := sortedKeys(ma)
		for _, k := range sortedKeys(mb) {
			if _, ok := ma[k]; !ok {
				keys = append(keys, k)
			}
		}
		for _, k := range keys {
			p := k
			if path != "" {
				p = path + "." + k
			}
			va, inA := ma[k]
			vb, inB := mb[k]
			if !inA {
				va = absent
			}
			if !inB {
				vb = absent
			}
			if q, x, y, ok := firstDiff(p, va, vb, absent); ok {
				return q, x, y, true
			}
		}
		return "", nil, nil, false
	}
	_, absA := a.(absentKey)
	_, absB := b.(absentKey)
	if absA || absB {
		return path, a, b, absA != absB
	}
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return path, a, b, !bytes.Equal(ja, jb)
}

// jsonText is v as (shortened) JSON, or absent for a missing key.
func jsonText(v any, absent string) string {
	if _, ok := v.(absentKey); ok {
		return absent
	}
	b, _ := json.Marshal(v)
	return shorten(b)
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
