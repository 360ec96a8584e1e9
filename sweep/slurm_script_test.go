package sweep

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// sbatchArgument reads an #SBATCH line's argument as sbatch does
// (_get_argument of Slurm's src/sbatch/opt.c): up to a blank or an
// unquoted '#', quotes (' or ") grouping, a backslash escaping the next
// character.
func sbatchArgument(line string) string {
	var b strings.Builder
	escape, quote := false, rune(0)
	for _, r := range strings.TrimLeft(line, " \t") {
		switch {
		case escape:
			escape = false
		case r == '\\':
			escape = true
			continue
		case quote != 0:
			if r == quote {
				quote = 0
				continue
			}
		case r == '"' || r == '\'':
			quote = r
			continue
		case r == '#' || r == ' ' || r == '\t':
			return b.String()
		}
		b.WriteRune(r)
	}
	return b.String()
}

// TestSbatchOutputEscaped: a sweep folder whose path holds a blank, quotes,
// '#', a backslash or '%' reaches sbatch's --output whole, its '%' doubled
// (the line was written unquoted: sbatch cut it at the blank).
func TestSbatchOutputEscaped(t *testing.T) {
	dir := `/tmp/sp ace/it's #1 "x" \ 50%`
	line := "#SBATCH --output=" + sbatchOutput(dir, "array1-%A_%a.out")
	arg := sbatchArgument(strings.TrimPrefix(line, "#SBATCH "))
	if want := "--output=" + strings.ReplaceAll(dir, "%", "%%") + "/array1-%A_%a.out"; arg != want {
		t.Errorf("sbatch reads %q from %q, want %q", arg, line, want)
	}
}

// TestSbatchOptionsQuoted: the partition and the sbatch options of the
// sweep file reach sbatch whole, a value with a blank, '#', a quote or a
// backslash quoted (written as given, sbatch cut "--comment=two words" to
// --comment=two); an option with such a character before its '=' (or
// none) is refused by Load, naming it.
func TestSbatchOptionsQuoted(t *testing.T) {
	s := prepare(t, minimal)
	opts := []string{`--comment=two words # "quoted" it's a\b`, "--exclusive", "--account=lab"}
	sub, err := WriteSlurm(s, s.Jobs, SlurmOptions{Awd: "/usr/bin/awd", Partition: "gpu a#b", Sbatch: opts})
	if err != nil {
		t.Fatal(err)
	}
	for _, script := range []string{sub.Arrays[0].Script, sub.Collect} {
		b, err := os.ReadFile(script)
		if err != nil {
			t.Fatal(err)
		}
		var args []string
		for _, line := range strings.Split(string(b), "\n") {
			if rest, ok := strings.CutPrefix(line, "#SBATCH "); ok {
				args = append(args, sbatchArgument(rest))
			}
		}
		for _, want := range append([]string{"--partition=gpu a#b"}, opts...) {
			if !slices.Contains(args, want) {
				t.Errorf("%s: sbatch reads no %q (it reads %q)", script, want, args)
			}
		}
	}

	for _, bad := range []string{"--comment two words", "--comment#x=1"} {
		src := minimal + fmt.Sprintf("slurm: {sbatch: [%q]}\n", bad)
		_, err := Parse("s.yaml", []byte(strings.TrimLeft(src, "\n")))
		if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("s.yaml:12: sbatch: %q: write the option as one --name=value", bad)) {
			t.Errorf("sbatch option %q: %v", bad, err)
		}
	}
}

// TestSuggestedCommandsRun: the commands that the tables' provenance and
// the status give to be run name a sweep folder and config file whose
// paths hold a blank or a quote as one word each (they were written
// unquoted, and a pasted command split them).
func TestSuggestedCommandsRun(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "my cfg")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	s, err := prepareAt(filepath.Join(dir, "s.yaml"), strings.Replace(minimal, "out: out", `out: "out dir/it's"`, 1))
	if err != nil {
		t.Fatal(err)
	}
	failing := func(context.Context, *Job, string, bool, io.Writer) error { return errors.New("boom") }
	if err := RunJob(context.Background(), s, s.Jobs[0].ID, failing); err == nil {
		t.Fatal("the failing job succeeded")
	}
	var status strings.Builder
	if err := WriteStatus(&status, s, false); err != nil {
		t.Fatal(err)
	}
	cmds := regexp.MustCompile("`(awd [^`]*)`").FindAllStringSubmatch(Provenance(s)+status.String(), -1)
	if len(cmds) != 4 {
		t.Fatalf("%d commands in the provenance and the status, want 4: %q", len(cmds), cmds)
	}
	for _, c := range cmds {
		out, err := exec.Command("bash", "-c", "set -- "+c[1]+"\nprintf '%s\\n' \"$@\"").Output()
		if err != nil {
			t.Fatalf("bash reads %s: %v", c[1], err)
		}
		words := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
		if !slices.Contains(words, s.Dir) && !slices.Contains(words, s.Manifest.Config) {
			t.Errorf("%s: the shell reads the words %q, none of them the sweep folder %q or its config %q", c[1], words, s.Dir, s.Manifest.Config)
		}
	}
}
