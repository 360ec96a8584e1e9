//go:build unix

package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestReduceSignalWhileLoading: a SIGTERM while awd reduce loads its shards
// ends it with exit status 1 and the interrupted message, not killed by the
// signal. The shard is a FIFO, so that reduce is held in the loading until
// the test writes to it.
func TestReduceSignalWhileLoading(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "shard_1_of_2.acc")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("no FIFO: %v", err)
	}
	cmd, exited, stderr := startUntil(t, []string{"reduce", fifo, "--out", filepath.Join(dir, "red")}, nil, func(string) bool { return true })
	// Opening the FIFO for writing without blocking succeeds once reduce
	// has it open for reading: it is loading the shard.
	var w *os.File
	for start := time.Now(); w == nil; {
		f, err := os.OpenFile(fifo, os.O_WRONLY|syscall.O_NONBLOCK, 0)
		switch {
		case err == nil:
			w = f
		case !errors.Is(err, syscall.ENXIO):
			t.Fatal(err)
		case time.Since(start) > time.Minute:
			t.Fatalf("reduce did not open the shard within a minute:\n%s", stderr.String())
		}
		select {
		case err := <-exited:
			t.Fatalf("reduce exited (%v) before it loaded the shard:\n%s", err, stderr.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
	cmd.Process.Signal(syscall.SIGTERM)
	time.Sleep(200 * time.Millisecond)
	w.WriteString("not a shard")
	w.Close()
	var err error
	select {
	case err = <-exited:
	case <-time.After(time.Minute):
		cmd.Process.Kill()
		t.Fatal("reduce did not end within a minute of the signal")
	}
	lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || len(lines) != 1 || !strings.HasPrefix(lines[0], "awd: interrupted") {
		t.Fatalf("after SIGTERM: %v\n%s", err, stderr.String())
	}
}

// TestStopWhenBlocked: a command blocked where it cannot see the
// cancellation (here opening a data file that is a FIFO nobody writes, as
// a hung network mount would hold it) still ends after Ctrl-C: stopGrace
// later, or at once at a second signal, with exit status 1 and the
// message that the folder resumes.
func TestStopWhenBlocked(t *testing.T) {
	src := strings.TrimPrefix(tinyMNIST(t), "AWD_MNIST_DIR=")
	for _, tc := range []struct {
		name    string
		signals int
		why     string
		within  time.Duration
	}{
		{"grace", 1, "still running " + stopGrace.String() + " after the signal", stopGrace + 20*time.Second},
		{"second-signal", 2, "a second signal", 20 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			data := filepath.Join(dir, "data")
			os.Mkdir(data, 0o755)
			for _, f := range []string{"train-images-idx3-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"} {
				if err := os.Symlink(filepath.Join(src, f), filepath.Join(data, f)); err != nil {
					t.Fatal(err)
				}
			}
			if err := syscall.Mkfifo(filepath.Join(data, "train-labels-idx1-ubyte"), 0o600); err != nil {
				t.Fatal(err)
			}
			cmd, exited, stderr := startUntil(t, []string{"train", "--data-dir", data, "--classes", "3", "--per-class", "20", "--epochs", "1", "--out", filepath.Join(dir, "out")}, nil, func(string) bool { return true })
			time.Sleep(1500 * time.Millisecond) // into the open of the FIFO
			start := time.Now()
			for i := 0; i < tc.signals; i++ {
				cmd.Process.Signal(os.Interrupt)
				time.Sleep(200 * time.Millisecond)
			}
			var err error
			select {
			case err = <-exited:
			case <-time.After(tc.within):
				cmd.Process.Kill()
				t.Fatalf("still running %v after the signal:\n%s", tc.within, stderr.String())
			}
			t.Logf("ended %v after the first signal", time.Since(start))
			if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || !strings.Contains(stderr.String(), "awd: interrupted, exiting at once ("+tc.why+")") {
				t.Fatalf("after SIGINT: %v\n%s", err, stderr.String())
			}
		})
	}
}
