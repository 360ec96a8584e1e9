package sweep

import (
	"fmt"
	"os"
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
