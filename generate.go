//go:build generate

// Package awd's generate.go runs the avo generators in ./asm (a separate
// module, so this module never requires avo). Regenerate with
//
//	go generate -tags generate .
//
// and commit the outputs; CI regenerates them and fails on any diff.
package awd

//go:generate go -C asm run ./gemm -out ../kernels/zgemm_amd64.s -stubs ../kernels/zgemm_amd64.go -pkg kernels
//go:generate go -C asm run ./level1 -out ../kernels/zlevel1_amd64.s -stubs ../kernels/zlevel1_amd64.go -pkg kernels
//go:generate go -C asm run ./symv -out ../kernels/zsymv_amd64.s -stubs ../kernels/zsymv_amd64.go -pkg kernels
//go:generate go -C asm run ./conv -out ../kernels/zconv_amd64.s -stubs ../kernels/zconv_amd64.go -pkg kernels
