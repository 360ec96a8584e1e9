//go:build unix

package sweep

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestLockWhileLookedAt: a job's process that takes the job's lock while
// another process looks whether it is held (locked, as every status does
// for the jobs that have not started) gets the lock once the look is
// over, instead of taking its job for one that another process runs and
// leaving it undone.
func TestLockWhileLookedAt(t *testing.T) {
	path := filepath.Join(t.TempDir(), ".lock")
	look, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer look.Close()
	// A look holds the lock for an instant, as locked does.
	if err := syscall.Flock(int(look.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		t.Fatal(err)
	}
	go func() {
		time.Sleep(30 * time.Millisecond)
		syscall.Flock(int(look.Fd()), syscall.LOCK_UN)
	}()
	f, err := lock(path)
	if err != nil {
		t.Fatalf("lock during a look: %v", err)
	}
	// Held by a job (this one), the lock is refused after the grace.
	t0 := time.Now()
	if g, err := lock(path); err != errLocked {
		if g != nil {
			g.Close()
		}
		t.Errorf("lock while held: %v, want errLocked", err)
	}
	if d := time.Since(t0); d < lockGrace || d > lockGrace+2*time.Second {
		t.Errorf("refused after %v, want after the grace of %v", d, lockGrace)
	}
	f.Close()
}
