package bench

import "github.com/awd-toolkit/awd/linalg"

// oursNT is the training forward product X W^T.
func oursNT(x, w, c linalg.Dense) { linalg.Gemm(false, true, 1, x, w, 0, c) }
