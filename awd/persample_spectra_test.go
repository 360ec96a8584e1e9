package awd

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/awd-toolkit/awd/nn"
)

// TestSpectraTopOnly: spectra keeping gamma_1 alone hold the same values
// and the same first vectors as the full ones, give bit-identical
// correlations, survive Subset, and are refused by every intervention
// with an error that says why.
func TestSpectraTopOnly(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	m, in, L, N := 4, 5, 3, 300
	ps := synthPerSample(rng, "ce", N, m, in, L, false)
	full, top := NewSampleSpectra(m, in, L), NewSampleSpectraTop(m, in, L)
	full.Append(ps)
	top.Append(ps)
	if top.V != 1 || len(top.G) != N*m || full.V != L || len(full.G) != N*L*m {
		t.Fatalf("V = %d (%d vector numbers), full V = %d (%d)", top.V, len(top.G), full.V, len(full.G))
	}
	// A literal without V keeps every vector, as NewSampleSpectra does.
	lit := &SampleSpectra{M: m, In: in, R: L}
	lit.Append(ps)
	if lit.Kept() != L || !slices.Equal(lit.G, full.G) {
		t.Fatalf("literal: keeps %d, vectors equal %v", lit.Kept(), slices.Equal(lit.G, full.G))
	}
	if !slices.Equal(top.Mu, full.Mu) || !slices.Equal(top.A, full.A) || !slices.Equal(top.Scale, full.Scale) {
		t.Fatal("values, activities or scales differ")
	}
	for s := 0; s < N; s++ {
		if !slices.Equal(top.G[s*m:(s+1)*m], full.G[s*L*m:s*L*m+m]) {
			t.Fatalf("sample %d: gamma_1 %v, full spectra %v", s, top.G[s*m:(s+1)*m], full.G[s*L*m:s*L*m+m])
		}
	}
	u := HaarFrame(m*in, 6, 2)
	l1 := make([]float64, N)
	for s := range l1 {
		l1[s] = full.Lambda1(s)
	}
	if a, b := Correlation(top, l1, u), Correlation(full, l1, u); !slices.Equal(a, b) {
		t.Errorf("correlations %v, full spectra %v", a, b)
	}
	sub := top.Subset([]int{7, 3, 250})
	if sub.V != 1 || !slices.Equal(sub.G[m:2*m], top.G[3*m:4*m]) {
		t.Errorf("Subset: V = %d, vectors %v", sub.V, sub.G)
	}
	if _, err := SuppressAll(top, []string{InterventionRank1}, 3, DefaultSuppression, nil); err == nil || !strings.Contains(err.Error(), "eigenvectors") {
		t.Errorf("SuppressAll: %v", err)
	}
	if _, err := Suppress(top, InterventionRank1, 3, DefaultSuppression); err == nil || !strings.Contains(err.Error(), "eigenvectors") {
		t.Errorf("Suppress: %v", err)
	}
	if _, err := SuppressInBasis(top, HaarFrame(m*in, 3, 1), []string{InterventionNone}, DefaultSuppression); err == nil || !strings.Contains(err.Error(), "eigenvectors") {
		t.Errorf("SuppressInBasis: %v", err)
	}
}

// TestShardsTopOnly: without interventions the accumulation keeps gamma_1
// alone; its shards save, load and merge (also with a shard that holds
// every vector, as files written before V existed do) into the one-pass
// correlations.
func TestShardsTopOnly(t *testing.T) {
	model, sub := trained(t, "ce", 3, 60, 8, 1, 5)
	cfg := smallConfig("ce", 20, 10)
	if !cfg.Correlation || len(cfg.Interventions) > 0 {
		t.Fatal("smallConfig changed: the test wants correlations and no interventions")
	}
	ctx := context.Background()
	one, err := Analyze(ctx, model, sub, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var accs [2]*Accumulation
	for i := range accs {
		acc, err := Accumulate(ctx, model, sub, cfg, AccumulateOptions{Shard: i, Shards: 2})
		if err != nil {
			t.Fatal(err)
		}
		if h := acc.Info.DataSHA256; h == "" || h != nn.DataSHA256(sub) {
			t.Fatalf("shard %d: data hash %q, want %q", i, h, nn.DataSHA256(sub))
		}
		if ss := acc.Spectra; ss.V != 1 || len(ss.G) != ss.N*ss.M {
			t.Fatalf("shard %d: V = %d, %d vector numbers for %d samples", i, ss.V, len(ss.G), ss.N)
		}
		p := filepath.Join(dir, string(rune('a'+i)))
		if err := acc.Save(p); err != nil {
			t.Fatal(err)
		}
		if accs[i], err = LoadAccumulation(p); err != nil {
			t.Fatal(err)
		}
		if got := accs[i].Spectra; got.V != 1 || !slices.Equal(got.G, acc.Spectra.G) || !slices.Equal(got.Mu, acc.Spectra.Mu) {
			t.Fatalf("shard %d: loaded V = %d, vectors or values differ", i, got.V)
		}
	}
	// Shard b as a file with all R vectors: gamma_1 and zero rows.
	ss := accs[1].Spectra
	g := make([]float64, ss.N*ss.R*ss.M)
	for s := 0; s < ss.N; s++ {
		copy(g[s*ss.R*ss.M:], ss.G[s*ss.M:(s+1)*ss.M])
	}
	ss.G, ss.V = g, ss.R
	if err := accs[0].Merge(accs[1]); err != nil {
		t.Fatal(err)
	}
	if v := accs[0].Spectra.V; v != 1 {
		t.Fatalf("merged V = %d, want 1", v)
	}
	got, err := Finalize(ctx, accs[0], nil)
	if err != nil {
		t.Fatal(err)
	}
	if !relClose(got.Arrays.Corr, one.Arrays.Corr, 1e-10) || len(got.Arrays.Corr) == 0 {
		t.Errorf("correlations %v, one pass %v", got.Arrays.Corr, one.Arrays.Corr)
	}
}

// rewriteHeader returns the partial-analysis file data with its version
// and header replaced (edit gets the header's JSON), length and checksum
// made good again.
func rewriteHeader(t *testing.T, data []byte, version uint32, edit func(string) string) []byte {
	t.Helper()
	// magic, version (4 bytes), the header's length (8) and the header.
	at := len(accumMagic) + 4
	n := int(binary.LittleEndian.Uint64(data[at:]))
	js := edit(string(data[at+8 : at+8+n]))
	if js == string(data[at+8:at+8+n]) {
		t.Fatal("the edit changed nothing")
	}
	b := binary.LittleEndian.AppendUint32(append([]byte(nil), data[:at-4]...), version)
	b = binary.LittleEndian.AppendUint64(b, uint64(len(js)))
	b = append(append(b, js...), data[at+8+n:]...)
	sum := sha256.Sum256(b[:len(b)-sha256.Size])
	copy(b[len(b)-sha256.Size:], sum[:])
	return b
}

// TestLoadSpectraVersions: a header that keeps more eigenvectors per
// sample than R is refused; a version 2 file (no spectra_v: all R vectors)
// loads with every vector.
func TestLoadSpectraVersions(t *testing.T) {
	model, sub := trained(t, "ce", 3, 40, 6, 1, 7)
	dir := t.TempDir()
	save := func(cfg Config) (*Accumulation, []byte) {
		t.Helper()
		a, err := Accumulate(context.Background(), model, sub, cfg, AccumulateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, "a")
		if err := a.Save(p); err != nil {
			t.Fatal(err)
		}
		data, _ := os.ReadFile(p)
		return a, data
	}
	load := func(b []byte) (*Accumulation, error) {
		p := filepath.Join(dir, "b")
		os.WriteFile(p, b, 0o644)
		return LoadAccumulation(p)
	}
	_, data := save(smallConfig("ce", 10, 10))
	b := rewriteHeader(t, data, AccumulationVersion, func(js string) string {
		return strings.Replace(js, `"spectra_v":1`, `"spectra_v":11`, 1)
	})
	if _, err := load(b); !errors.Is(err, ErrStateFormat) || !strings.Contains(err.Error(), "keep 11 eigenvectors") {
		t.Errorf("spectra_v 11 of R=10: %v", err)
	}
	cfg := smallConfig("ce", 10, 10)
	cfg.Interventions = []string{InterventionRank1}
	a, data := save(cfg)
	b = rewriteHeader(t, data, 2, func(js string) string {
		return strings.Replace(js, `"spectra_v":10,`, ``, 1)
	})
	got, err := load(b)
	if err != nil {
		t.Fatal(err)
	}
	if ss := got.Spectra; ss.V != 10 || !slices.Equal(ss.G, a.Spectra.G) {
		t.Errorf("version 2: V = %d, vectors equal %v", ss.V, slices.Equal(ss.G, a.Spectra.G))
	}
	next := uint32(AccumulationVersion + 1)
	if _, err := load(rewriteHeader(t, data, next, func(js string) string { return js + " " })); !errors.Is(err, ErrStateFormat) || !strings.Contains(err.Error(), fmt.Sprintf("version %d", next)) {
		t.Errorf("version %d: %v", next, err)
	}
}
