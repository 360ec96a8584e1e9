//go:build purego || !(amd64 || arm64)

package kernels

// Without assembly every level call is the generic kernel's.

func dgemmShape(Level) (mr, nr int) { return 4, 4 }

func sgemmShape(Level) (mr, nr int) { return 4, 4 }

func dgemmMicro(_ Level, kc int, a, b, c []float64, ldc int) {
	dgemmGeneric4x4(kc, a, b, c, ldc)
}

func dgemmMicroStore(_ Level, kc int, a, b, c []float64, ldc int) {
	clearTile(c, ldc, 4, 4)
	dgemmGeneric4x4(kc, a, b, c, ldc)
}

func sgemmMicro(_ Level, kc int, a, b, c []float32, ldc int) {
	sgemmGeneric4x4(kc, a, b, c, ldc)
}

func sgemmMicroStore(_ Level, kc int, a, b, c []float32, ldc int) {
	clearTile(c, ldc, 4, 4)
	sgemmGeneric4x4(kc, a, b, c, ldc)
}

func dsyrkMicroTri(l Level, upper bool, kc int, a, b, c []float64, ldc int, off int) {
	dsyrkTile(l, upper, kc, a, b, c, ldc, off)
}
