package sweep

import (
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
