package linalg

import (
	"sync/atomic"
	"testing"
)

// TestTeam: every member runs every job exactly once, the caller as member
// 0, across parks and for single-member teams.
func TestTeam(t *testing.T) {
	for _, n := range []int{0, 1, 2, 5} {
		tm := startTeam(n)
		members := max(n, 1)
		for job := 0; job < 50; job++ {
			if job%7 == 3 {
				tm.park()
			}
			var calls atomic.Int64
			seen := make([]int, members)
			tm.run(func(w int) {
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
