package kernels

// The FMA peak loop: `awd bench` reports every kernel's speed as a fraction
// of what this loop reaches on the same machine in the same run.

// peakLoop (peak_amd64.go, peak_arm64.go, peak_other.go) runs the level's
// loop and returns its flops per trip.

// PeakLoop runs iters trips of the current level's FMA peak loop (independent
// multiply-adds on registers, no memory traffic) and returns the number of
// floating-point operations it performed (2 per multiply-add and lane). Time
// it to get the machine's peak rate in flop/s; at the generic level it is a
// scalar Go loop.
func PeakLoop(iters int) (flops float64) {
	if iters <= 0 {
		return 0
	}
	perTrip := peakLoop(current, iters)
	return float64(iters) * float64(perTrip)
}

// peakGenericChains independent scalar chains s = s*x + y (a multiply and an
// add each: Go does not fuse them on amd64) hide the latency.
const (
	peakGenericChains = 8
	peakGenericUnroll = 4
	peakGenericFlops  = 2 * peakGenericChains * peakGenericUnroll
)

// peakSink keeps the compiler from deleting the generic loop.
var peakSink float64

func peakGeneric(iters int) {
	// x and y are not constants to the compiler, so it cannot fold the chains.
	x, y := 1+peakSink*0, peakSink*0
	var s0, s1, s2, s3, s4, s5, s6, s7 float64
	for it := 0; it < iters; it++ {
		for u := 0; u < peakGenericUnroll; u++ {
			s0 = s0*x + y
			s1 = s1*x + y
			s2 = s2*x + y
			s3 = s3*x + y
			s4 = s4*x + y
			s5 = s5*x + y
			s6 = s6*x + y
			s7 = s7*x + y
		}
	}
	peakSink = s0 + s1 + s2 + s3 + s4 + s5 + s6 + s7
}
