package awd

import (
	"errors"
	"math/rand/v2"
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

func TestStateEncodeDecode(t *testing.T) {
	for _, tc := range []struct {
		name      string
		pair2, mb bool
	}{{"plain", false, false}, {"pair2", true, false}, {"mb", false, true}, {"all", true, true}} {
		t.Run(tc.name, func(t *testing.T) {
			st := filledState(t, tc.pair2, tc.mb)
			got, err := decodeState(st.encode())
			if err != nil {
				t.Fatal(err)
			}
			if !statesEqual(st, got) {
				t.Error("decoded state differs from the encoded one")
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
