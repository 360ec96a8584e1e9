package awd

import (
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/awd-toolkit/awd/linalg"
)

// filledState returns a small state with every sum in use.
func filledState(t testing.TB, pair2, mb bool) *State {
	rng := rand.New(rand.NewPCG(21, 22))
	const n, m, in, l = 12, 3, 4, 5
	ps := randomPerSample(rng, n, m, in, l, "mse")
	st := NewState(m, in, StateOptions{Pair2: pair2, Chunk: 5})
	st.Add(ps)
	a := linalg.DenseOf(n, in, ps.A)
	st.AddPairs(ps, randomW(rng, m, in), PartnerDiff(a, randomPartner(rng, n)))
	if mb {
		st.AddMinibatches(ps, [][]int{{0, 1, 2}, {3, 4, 5}, {6, 7, 8}})
	}
	return st
}

func statesEqual(a, b *State) bool {
	return a.M == b.M && a.In == b.In && a.Opt == b.Opt && a.Count == b.Count &&
		a.PairCount == b.PairCount && a.ZeroA == b.ZeroA && a.Batches == b.Batches &&
		reflect.DeepEqual(a.kron.g, b.kron.g) && reflect.DeepEqual(a.pair.g, b.pair.g) &&
		reflect.DeepEqual(a.pair2, b.pair2) && reflect.DeepEqual(a.mb, b.mb) &&
		reflect.DeepEqual(a.SumG, b.SumG) && reflect.DeepEqual(a.SumGB, b.SumGB) &&
		a.SumDTheta2 == b.SumDTheta2 && a.LocMax == b.LocMax
}

func TestStateSaveLoad(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name      string
		pair2, mb bool
	}{{"plain", false, false}, {"pair2", true, false}, {"mb", false, true}, {"all", true, true}} {
		t.Run(tc.name, func(t *testing.T) {
			st := filledState(t, tc.pair2, tc.mb)
			path := filepath.Join(dir, tc.name+".state")
			if err := st.Save(path); err != nil {
				t.Fatal(err)
			}
			got, err := LoadState(path)
			if err != nil {
				t.Fatal(err)
			}
			if !statesEqual(st, got) {
				t.Error("loaded state differs from the saved one")
			}
			entries, _ := os.ReadDir(dir)
			for _, e := range entries {
				if filepath.Ext(e.Name()) != ".state" {
					t.Errorf("temporary file %s left behind", e.Name())
				}
			}
		})
	}
}

func TestStateLoadRejects(t *testing.T) {
	good := filledState(t, true, true).encode()
	flip := func(i int) []byte {
		b := append([]byte(nil), good...)
		b[i] ^= 1
		return b
	}
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"truncated", good[:len(good)-1]},
		{"extended", append(append([]byte(nil), good...), 0)},
		{"magic", flip(0)},
		{"version", flip(8)},
		{"layer", flip(12)},
		{"pair2-flag", flip(12 + 16)},
		{"payload", flip(len(good) / 2)},
		{"checksum", flip(len(good) - 1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := decodeState(tc.data); !errors.Is(err, ErrStateFormat) {
				t.Errorf("error %v, want ErrStateFormat", err)
			}
		})
	}
	if err := filledState(t, false, false).Save(filepath.Join(t.TempDir(), "no", "such", "dir", "x.state")); err == nil {
		t.Error("save into a missing folder succeeded")
	}
	if _, err := LoadState(filepath.Join(t.TempDir(), "missing.state")); err == nil {
		t.Error("load of a missing file succeeded")
	}
}

// FuzzPartialState feeds the state reader arbitrary bytes: it must return an
// error or a state that encodes back to the same bytes, never panic or
// allocate beyond the input's size.
func FuzzPartialState(f *testing.F) {
	for _, st := range []*State{filledState(f, false, false), filledState(f, true, true)} {
		b := st.encode()
		f.Add(b)
		f.Add(b[:len(b)/2])
	}
	one := NewState(1, 1, StateOptions{Chunk: 1})
	f.Add(one.encode())
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := decodeState(data)
		if err != nil {
			return
		}
		if string(s.encode()) != string(data) {
			t.Error("decoded state does not encode back to its bytes")
		}
	})
}
