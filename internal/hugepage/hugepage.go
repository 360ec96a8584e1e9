// Package hugepage asks the kernel to back large buffers with transparent
// huge pages (2 MiB) where it only does so on request (Linux with
// /sys/kernel/mm/transparent_hugepage/enabled set to "madvise", as on this
// project's development VM and many distributions).
//
// The first touch of fresh memory costs a page fault per 4 KiB page; on
// virtual machines whose memory the host backs lazily that is 3-4 ms per
// MB, measured on the development VM, and the dense analysis faults in
// close to a gigabyte. A huge page is one fault for 2 MiB: 128 MB of fresh
// memory took 0.55 s in 4 KiB pages and 0.35 s (0.04 s when the host had
// the memory backed already) in huge pages there. Buffers that the Go
// runtime has zeroed or reused are already touched; advising them only lets
// the kernel collapse them later.
package hugepage

// minBytes is the smallest buffer worth advising: below a few huge pages
// the rounding to 2 MiB boundaries leaves little, and small buffers are
// usually recycled memory anyway.
const minBytes = 8 << 20

// Make returns make([]T, n), advised when it is large (see Advise).
func Make[T any](n int) []T {
	b := make([]T, n)
	Advise(b)
	return b
}
