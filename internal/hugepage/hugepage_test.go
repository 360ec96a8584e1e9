package hugepage

import "testing"

// TestMake: Make returns a zeroed slice of the length asked, small or
// large, and Advise takes empty, small and unaligned slices (a hint never
// fails).
func TestMake(t *testing.T) {
	for _, n := range []int{0, 1, 1000, minBytes/8 + 3, 3 * minBytes / 8} {
		b := Make[float64](n)
		if len(b) != n {
			t.Fatalf("len %d, want %d", len(b), n)
		}
		for i, v := range b {
			if v != 0 {
				t.Fatalf("n=%d: b[%d] = %v", n, i, v)
			}
		}
		for i := range b {
			b[i] = float64(i)
		}
		if n > 1 {
			Advise(b[1:]) // unaligned start
		}
	}
	Advise([]byte(nil))
	Advise(make([]int32, 5))
}
