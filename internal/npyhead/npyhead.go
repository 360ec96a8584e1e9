// Package npyhead reads the preamble and header of a NumPy .npy array
// (format 1.0 to 3.0): the part that awd's two readers of .npz archives, the
// checkpoints' (nn) and the analysis arrays' (awd), check before they trust
// the data.
package npyhead

import (
	"encoding/binary"
	"fmt"
	"io"
)

// MaxHeader bounds a header's length: numpy's are under 128 bytes for the
// arrays awd reads, and a damaged file may claim gigabytes.
const MaxHeader = 1 << 16

// Read reads the magic, the version and the header length, then the header
// (the dict literal, with numpy's padding) from r. It returns the header
// and the number of bytes before it (10, or 12 for versions 2 and 3).
func Read(r io.Reader) (header []byte, preamble int, err error) {
	var pre [10]byte
	if _, err := io.ReadFull(r, pre[:]); err != nil {
		return nil, 0, fmt.Errorf("truncated .npy header: %w", err)
	}
	if string(pre[:6]) != "\x93NUMPY" {
		return nil, 0, fmt.Errorf("not a .npy array (magic %q)", pre[:6])
	}
	var n int
	switch pre[6] {
	case 1:
		n, preamble = int(binary.LittleEndian.Uint16(pre[8:10])), 10
	case 2, 3:
		var more [2]byte
		if _, err := io.ReadFull(r, more[:]); err != nil {
			return nil, 0, fmt.Errorf("truncated .npy header: %w", err)
		}
		n, preamble = int(binary.LittleEndian.Uint32(append(pre[8:10:10], more[:]...))), 12
	default:
		return nil, 0, fmt.Errorf(".npy version %d.%d", pre[6], pre[7])
	}
	if n > MaxHeader {
		return nil, 0, fmt.Errorf(".npy header of %d bytes", n)
	}
	header = make([]byte, n)
	if _, err := io.ReadFull(r, header); err != nil {
		return nil, 0, fmt.Errorf("truncated .npy header: %w", err)
	}
	return header, preamble, nil
}
