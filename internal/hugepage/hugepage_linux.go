package hugepage

import (
	"syscall"
	"unsafe"
)

const hugeSize = 2 << 20

// Advise asks for transparent huge pages under the 2 MiB-aligned part of
// b when b holds at least minBytes (madvise MADV_HUGEPAGE; errors, such as
// a kernel without THP, are ignored: the advice is only a hint).
func Advise[T any](b []T) {
	if len(b) == 0 {
		return
	}
	var zero T
	size := uintptr(len(b)) * unsafe.Sizeof(zero)
	if size < minBytes {
		return
	}
	p := uintptr(unsafe.Pointer(&b[0]))
	start := (p + hugeSize - 1) &^ (hugeSize - 1)
	end := (p + size) &^ (hugeSize - 1)
	if end > start {
		syscall.Syscall(syscall.SYS_MADVISE, start, end-start, madvHugepage)
	}
}

const madvHugepage = 14 // MADV_HUGEPAGE
