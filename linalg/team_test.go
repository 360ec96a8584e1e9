package linalg

import (
	"sync/atomic"
	"testing"
	"time"
)

// TestTeam: every member runs every job exactly once, the caller as member
// 0, for single-member teams, and when the members have gone to sleep
// between jobs (pauses longer than spinWait) or the caller waits longer than
// spinWait for them.
func TestTeam(t *testing.T) {
	for _, n := range []int{0, 1, 2, 5} {
		tm := startTeam(n)
		members := max(n, 1)
		for job := 0; job < 50; job++ {
			if job%7 == 3 {
				time.Sleep(2 * spinWait)
			}
			var calls atomic.Int64
			seen := make([]int, members)
			tm.run(func(w int) {
				if job%5 == 1 && w == members-1 {
					time.Sleep(2 * spinWait)
				}
				calls.Add(1)
				seen[w]++
			})
			if int(calls.Load()) != members {
				t.Fatalf("n=%d job %d: %d calls, want %d", n, job, calls.Load(), members)
			}
			for w, c := range seen {
				if c != 1 {
					t.Fatalf("n=%d job %d: member %d ran %d times", n, job, w, c)
				}
			}
		}
		tm.close()
	}
}
