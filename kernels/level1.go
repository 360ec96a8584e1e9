package kernels

// Level-1 kernels. The unit-stride forms take slices and work on len(x)
// elements; y must be at least as long. The Inc forms take positive strides.
// ddot, daxpy, dscal and drot (level1_amd64.go, level1_arm64.go,
// level1_other.go) call the current level's kernel.

// Ddot returns sum_i x[i]*y[i] over i < len(x).
func Ddot(x, y []float64) float64 {
	if len(y) < len(x) {
		panic("kernels: Ddot: len(y) < len(x)")
	}
	return ddot(current, x, y[:len(x)])
}

// Daxpy computes y[i] += alpha*x[i] for i < len(x).
func Daxpy(alpha float64, x, y []float64) {
	if len(y) < len(x) {
		panic("kernels: Daxpy: len(y) < len(x)")
	}
	daxpy(current, alpha, x, y[:len(x)])
}

// Dscal computes x[i] *= alpha.
func Dscal(alpha float64, x []float64) { dscal(current, alpha, x) }

// Drot applies the plane rotation (c, s) to the pairs (x[i], y[i]):
// x[i], y[i] = c*x[i] + s*y[i], c*y[i] - s*x[i].
func Drot(x, y []float64, c, s float64) {
	if len(y) < len(x) {
		panic("kernels: Drot: len(y) < len(x)")
	}
	drot(current, x, y[:len(x)], c, s)
}

// DdotInc returns sum_i x[i*incX]*y[i*incY] over i < n.
func DdotInc(n int, x []float64, incX int, y []float64, incY int) float64 {
	if incX == 1 && incY == 1 {
		return Ddot(x[:n], y[:n])
	}
	var s float64
	for i := 0; i < n; i++ {
		s += x[i*incX] * y[i*incY]
	}
	return s
}

// DaxpyInc computes y[i*incY] += alpha*x[i*incX] for i < n.
func DaxpyInc(n int, alpha float64, x []float64, incX int, y []float64, incY int) {
	if incX == 1 && incY == 1 {
		Daxpy(alpha, x[:n], y[:n])
		return
	}
	for i := 0; i < n; i++ {
		y[i*incY] += alpha * x[i*incX]
	}
}

// DrotInc applies the plane rotation (c, s) to n strided pairs.
func DrotInc(n int, x []float64, incX int, y []float64, incY int, c, s float64) {
	if incX == 1 && incY == 1 {
		Drot(x[:n], y[:n], c, s)
		return
	}
	for i := 0; i < n; i++ {
		xi, yi := x[i*incX], y[i*incY]
		x[i*incX] = c*xi + s*yi
		y[i*incY] = c*yi - s*xi
	}
}

func ddotGeneric(x, y []float64) float64 {
	var s float64
	for i, v := range x {
		s += v * y[i]
	}
	return s
}

func daxpyGeneric(alpha float64, x, y []float64) {
	for i, v := range x {
		y[i] += alpha * v
	}
}

func dscalGeneric(alpha float64, x []float64) {
	for i := range x {
		x[i] *= alpha
	}
}

func drotGeneric(x, y []float64, c, s float64) {
	for i, xi := range x {
		yi := y[i]
		x[i] = c*xi + s*yi
		y[i] = c*yi - s*xi
	}
}
