// Package linalg is awd's dense linear algebra: a row-major Dense type with
// views, GEMM and SYRK built the Goto/BLIS way on the micro-kernels of
// package kernels, and symmetric eigensolvers (full, top-k subset, and
// matrix-free Lanczos).
//
// Manners follow gonum: row-major storage with an explicit stride, views
// without copies, shape mismatches panic with the shapes in the message
// (they are programmer errors), numerical failures are returned errors.
package linalg
