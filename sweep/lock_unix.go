//go:build unix

package sweep

import (
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"
)

// lockGrace is how long lock tries again when the lock is held: locked
// takes the lock for an instant to see whether it is free, and a job that
// started in that instant would otherwise take its job for running in
// another process and leave it undone (a Slurm task exits 0 then).
var lockGrace = 500 * time.Millisecond

// lock takes an exclusive advisory lock on path (created if missing),
// held until the returned file is closed or the process ends, so that a
// killed job never leaves a stale lock. A lock held longer than lockGrace
// is errLocked.
func lock(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	deadline := time.Now().Add(lockGrace)
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return f, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		if time.Now().After(deadline) {
			f.Close()
			return nil, errLocked
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// locked reports whether another process holds the lock on path.
func locked(path string) bool {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return false
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		return errors.Is(err, syscall.EWOULDBLOCK)
	}
	syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	return false
}

// lockWait is lock, waiting for another holder to release it.
func lockWait(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return f, nil
}
