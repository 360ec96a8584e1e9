//go:build unix

package awd

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// lockingFolders says whether lockFolder keeps other processes out.
const lockingFolders = true

// lockFolder takes an exclusive flock on dir's lock file, held until
// unlockFolder or the process's end (the kernel drops it when the process
// dies, so a killed run never leaves a stale lock), and writes who holds it.
func lockFolder(dir, command string) (*os.File, error) {
	path := filepath.Join(dir, lockFile)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, folderError(NewFolder, "output folder %s cannot be written (%w)", dir, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		holder, _ := os.ReadFile(path)
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, folderError(Wait, "%w: %s is held by %s", ErrFolderBusy, dir, strings.TrimSpace(string(holder)))
		}
		return nil, fmt.Errorf("output folder %s: lock: %w", dir, err)
	}
	host, _ := os.Hostname()
	f.Truncate(0)
	fmt.Fprintf(f, "awd %s (pid %d on %s, since %s)\n", command, os.Getpid(), host, time.Now().UTC().Format(time.RFC3339))
	f.Sync()
	return f, nil
}

func unlockFolder(f *os.File) error {
	syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	return f.Close()
}
