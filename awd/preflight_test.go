package awd

import (
	"testing"

	"github.com/awd-toolkit/awd/linalg"
)

// TestBatchPairs checks that BatchPairs counts the pairs of batches that
// MatchPairs forms, odd class sizes and a dropped tail included.
func TestBatchPairs(t *testing.T) {
	for _, tc := range []struct {
		sizes []int
		batch int
	}{{[]int{50, 50}, 10}, {[]int{7, 13, 4}, 3}, {[]int{31, 30}, 30}, {[]int{31, 30}, 31}, {[]int{5, 5}, 1}} {
		var labels []int
		for c, n := range tc.sizes {
			for range n {
				labels = append(labels, c)
			}
		}
		x := linalg.NewDense(len(labels), 2)
		for i := range labels {
			x.Set(i, 0, float64(i))
		}
		want := 0
		if p, err := MatchPairs(x, labels, tc.batch, 1, true); err == nil {
			want = len(p.Batches) / 2
		}
		if got := BatchPairs(labels, tc.batch); got != want {
			t.Errorf("sizes %v, batch %d: %d batch pairs, MatchPairs forms %d", tc.sizes, tc.batch, got, want)
		}
	}
}
