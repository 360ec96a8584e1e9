//go:build !unix

package awd

import (
	"os"
	"path/filepath"
)

// lockingFolders says whether lockFolder keeps other processes out.
const lockingFolders = false

// lockFolder only opens the lock file where flock is not available: two
// processes writing one folder are not prevented there.
func lockFolder(dir, command string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, lockFile), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, folderError(NewFolder, "output folder %s cannot be written (%w)", dir, err)
	}
	return f, nil
}

func unlockFolder(f *os.File) error { return f.Close() }
