package linalg

import (
	"sync/atomic"
	"testing"
	"time"
)

// TestTeam: every chunk of every job runs exactly once, for single-member
// teams, jobs of one chunk, and when the members have gone to sleep between
// jobs (pauses longer than spinWait) or one chunk holds the others up
// longer than spinWait.
func TestTeam(t *testing.T) {
	for _, n := range []int{0, 1, 2, 5} {
		tm := startTeam(n)
		for job := 0; job < 60; job++ {
			if job%7 == 3 {
				time.Sleep(2 * spinWait)
			}
			chunks := job % 9
			var calls atomic.Int64
			seen := make([]atomic.Int64, chunks)
			tm.run(chunks, func(c int) {
				if job%5 == 1 && c == chunks-1 {
					time.Sleep(2 * spinWait)
				}
				calls.Add(1)
				seen[c].Add(1)
			})
			if int(calls.Load()) != chunks {
				t.Fatalf("team of %d, job %d: %d calls, want %d", n, job, calls.Load(), chunks)
			}
			for c := range seen {
				if k := seen[c].Load(); k != 1 {
					t.Fatalf("team of %d, job %d: chunk %d ran %d times", n, job, c, k)
				}
			}
		}
		tm.close()
	}
}
