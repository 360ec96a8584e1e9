package npyhead

import (
	"bytes"
	"encoding/binary"
	"strings"
	"testing"
)

// TestRead reads the preambles numpy writes (version 1.0 with a 16-bit
// header length, 2.0 with a 32-bit one) and refuses a wrong magic, an
// unknown version, a header longer than MaxHeader and a truncated one.
func TestRead(t *testing.T) {
	dict := "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }   \n"
	v1 := append([]byte("\x93NUMPY\x01\x00"), binary.LittleEndian.AppendUint16(nil, uint16(len(dict)))...)
	v2 := append([]byte("\x93NUMPY\x02\x00"), binary.LittleEndian.AppendUint32(nil, uint32(len(dict)))...)
	for _, tc := range []struct {
		pre  []byte
		want int
	}{{v1, 10}, {v2, 12}} {
		h, pre, err := Read(bytes.NewReader(append(append([]byte{}, tc.pre...), dict+"data"...)))
		if err != nil || string(h) != dict || pre != tc.want {
			t.Errorf("version %d: header %q, preamble %d, %v", tc.pre[6], h, pre, err)
		}
	}
	long := append([]byte("\x93NUMPY\x02\x00"), binary.LittleEndian.AppendUint32(nil, MaxHeader+1)...)
	for name, tc := range map[string]struct {
		b    []byte
		want string
	}{
		"magic":     {[]byte("PK\x03\x04abcdefgh"), "not a .npy array"},
		"version":   {[]byte("\x93NUMPY\x04\x00\x10\x00"), ".npy version 4.0"},
		"long":      {long, ".npy header of"},
		"truncated": {append(v1, dict[:5]...), "truncated .npy header"},
		"empty":     {nil, "truncated .npy header"},
	} {
		if _, _, err := Read(bytes.NewReader(tc.b)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", name, err, tc.want)
		}
	}
}
