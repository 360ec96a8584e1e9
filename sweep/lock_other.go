//go:build !unix

package sweep

import "os"

// lock opens path; without flock there is no protection against two
// processes running one job.
func lock(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
}

func locked(string) bool { return false }

func lockWait(path string) (*os.File, error) { return lock(path) }
