package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/awd-toolkit/awd/awd"
)

// shardFixture trains a small MLP (fc2 12x12, d = 144) for the shard tests
// and returns its folder.
func shardFixture(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	_, se, code := awdCmd(t, "train", "--classes", "3", "--per-class", "100", "--widths", "12,12", "--batch", "10", "--epochs", "2", "--checkpoints", "1", "--out", filepath.Join(dir, "t"), "--quiet")
	if code != 0 {
		t.Fatalf("train: exit %d\n%s", code, se)
	}
	return dir
}

// sameAnalysis compares two results files: every fit's gamma, the spectrum
// and every array of c_i to rel relative.
func sameAnalysis(t *testing.T, a, b string, rel float64) {
	t.Helper()
	ra, err := awd.ReadReport(a)
	if err != nil {
		t.Fatal(err)
	}
	rb, err := awd.ReadReport(b)
	if err != nil {
		t.Fatal(err)
	}
	x, y := ra.Checkpoints[0].Analysis, rb.Checkpoints[0].Analysis
	if x.N != y.N || x.Spectrum.Pairs != y.Spectrum.Pairs || ra.Checkpoints[0].Epoch != rb.Checkpoints[0].Epoch {
		t.Errorf("samples %d vs %d, pairs %d vs %d, epoch %d vs %d", x.N, y.N, x.Spectrum.Pairs, y.Spectrum.Pairs, ra.Checkpoints[0].Epoch, rb.Checkpoints[0].Epoch)
	}
	near := func(what string, u, v float64) {
		if math.Abs(u-v) > rel*math.Max(math.Abs(u), math.Abs(v)) {
			t.Errorf("%s: %.17g vs %.17g (relative %.2g)", what, u, v, math.Abs(u-v)/math.Abs(u))
		}
	}
	for name, f := range x.Fits {
		near("gamma("+name+")", f.Gamma, y.Fits[name].Gamma)
	}
	near("lambda_1", x.Spectrum.Lambda1, y.Spectrum.Lambda1)
	near("sigma2", float64(x.Spectrum.Sigma2), float64(y.Spectrum.Sigma2))
	// The alignment reads every eigenvector of H, down to the smallest
	// eigenvalues above its null floor, which rounding turns most: it
	// agrees to about 1e-7 (before H's null space was left out, the
	// arbitrary basis there moved rbar by 6-24%).
	if len(x.Alignment) != len(y.Alignment) {
		t.Fatalf("%d alignments vs %d", len(x.Alignment), len(y.Alignment))
	}
	for i, al := range x.Alignment {
		bl := y.Alignment[i]
		if al.Of != bl.Of || al.Null != bl.Null || al.M != bl.M {
			t.Errorf("alignment %d: %s with %d null directions and %d pairs vs %s, %d, %d", i, al.Of, al.Null, al.M, bl.Of, bl.Null, bl.M)
		}
		if math.Abs(al.RBar-bl.RBar) > 1e-5*math.Abs(bl.RBar) {
			t.Errorf("alignment of %s: rbar %.17g vs %.17g", al.Of, al.RBar, bl.RBar)
		}
	}
	names := []string{"H_eigenvalues", "c_C", "c_Cawd", "c_Cpair", "c_Cpair2", "c_Cmb", "s_i"}
	aa, err := awd.ReadArrays(filepath.Join(filepath.Dir(a), ra.Checkpoints[0].Arrays), names...)
	if err != nil {
		t.Fatal(err)
	}
	ab, err := awd.ReadArrays(filepath.Join(filepath.Dir(b), rb.Checkpoints[0].Arrays), names...)
	if err != nil {
		t.Fatal(err)
	}
	// c_i = u_i^T X u_i carries rounding of the size of ||X||: compare the
	// arrays normwise, each element to rel times the array's largest.
	for _, n := range names {
		if len(aa[n]) == 0 || len(aa[n]) != len(ab[n]) {
			t.Fatalf("array %s: %d vs %d values", n, len(aa[n]), len(ab[n]))
		}
		scale := 0.0
		for _, v := range aa[n] {
			scale = math.Max(scale, math.Abs(v))
		}
		for i := range aa[n] {
			if d := math.Abs(aa[n][i] - ab[n][i]); d > rel*scale {
				t.Errorf("%s[%d]: %.17g vs %.17g (%.2g of the largest)", n, i, aa[n][i], ab[n][i], d/scale)
			}
		}
	}
}

// TestCLIShardReduce checks that three shards merged by awd reduce give
// the unsharded analysis to 1e-12 relative, in any order, and that reduce
// refuses missing, repeated and foreign shards with one clear line.
func TestCLIShardReduce(t *testing.T) {
	dir := shardFixture(t)
	ck := filepath.Join(dir, "t", "final.npz")
	p := func(s ...string) string { return filepath.Join(append([]string{dir}, s...)...) }
	if _, se, code := awdCmd(t, "analyze", ck, "--k", "30", "--out", p("full"), "--quiet"); code != 0 {
		t.Fatalf("analyze: %s", se)
	}
	for i := 1; i <= 3; i++ {
		so, se, code := awdCmd(t, "analyze", ck, "--k", "30", "--shard", fmt.Sprintf("%d/3", i), "--out", p(fmt.Sprint("s", i)), "--quiet")
		if code != 0 || !strings.Contains(so, fmt.Sprintf("shard %d of 3: 100 samples", i)) {
			t.Fatalf("shard %d: exit %d\n%s%s", i, code, so, se)
		}
	}
	s1, s2, s3 := p("s1", "shard_1_of_3.acc"), p("s2", "shard_2_of_3.acc"), p("s3", "shard_3_of_3.acc")
	if _, se, code := awdCmd(t, "reduce", s3, s1, s2, "--out", p("red"), "--quiet"); code != 0 {
		t.Fatalf("reduce: exit %d\n%s", code, se)
	}
	sameAnalysis(t, p("full", "results.json"), p("red", "results.json"), 1e-12)
	// For awd table the reduce and the unsharded analysis of one
	// checkpoint are one protocol and one run (by the weights' and the
	// samples' hashes), not two replicates nor two rows.
	so, se, code := awdCmd(t, "table", p("full", "results.json"), p("red", "results.json"))
	if code != 0 || strings.Count(so, "| mnist |") != 1 || strings.Contains(so, "(2)") || !strings.Contains(se, "the same run as") {
		t.Errorf("table of the analysis and the reduce: exit %d\n%s%s", code, so, se)
	}

	if testing.Short() {
		return // the refusals below analyse two more shards; the full run checks them
	}
	// A shard of another analysis (k = 31) and one of another checkpoint.
	if _, se, code := awdCmd(t, "analyze", ck, "--k", "31", "--shard", "2/3", "--out", p("k31"), "--quiet"); code != 0 {
		t.Fatal(se)
	}
	if _, se, code := awdCmd(t, "analyze", p("t", "checkpoints", "epoch_0001.npz"), "--k", "30", "--shard", "2/3", "--out", p("e1"), "--quiet"); code != 0 {
		t.Fatal(se)
	}
	// The whole analysis as its one shard: shard 1 of 1, not shard 1 of 3.
	if _, se, code := awdCmd(t, "analyze", ck, "--k", "30", "--shard", "1/1", "--out", p("one"), "--quiet"); code != 0 {
		t.Fatal(se)
	}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"missing", []string{s1, s3}, "missing shard(s) 2 of 3 (given: 1, 3)"},
		{"twice", []string{s1, s2, s2, s3}, "shard 2 of 3 given twice"},
		{"other-k", []string{s1, p("k31", "shard_2_of_3.acc"), s3}, "the shards are of different analyses (config.k: 30 vs 31): merge only the shards of one analysis"},
		{"other-weights", []string{s1, p("e1", "shard_2_of_3.acc"), s3}, "the shards are of different analyses (epoch: 2 vs 1)"},
		{"not-a-shard", []string{s1, ck}, "not a valid awd state file"},
		{"other-count", []string{p("one", "shard_1_of_1.acc"), s1}, "is a shard of 3, " + p("one", "shard_1_of_1.acc") + " of 1: not one analysis"},
		{"memory", []string{s1, s2, s3, "--mem", "1MiB"}, "more than the memory budget of 1.0 MiB"},
		{"bad-flag", []string{"--shard", "4/3"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"reduce"}, tc.args...)
			want := tc.want
			if tc.name == "bad-flag" {
				args, want = []string{"analyze", ck, "--shard", "4/3", "--out", p("bad")}, `--shard "4/3": want i/n with 1 <= i <= n`
			}
			_, se, code := awdCmd(t, append(args, "--out", p("x-"+tc.name))...)
			lines := strings.Split(strings.TrimSpace(se), "\n")
			if code != 1 || len(lines) != 1 || !strings.HasPrefix(lines[0], "awd: ") || !strings.Contains(se, want) {
				t.Errorf("exit %d:\n%s\nwant one awd: line with %q", code, se, want)
			}
		})
	}

	// Settings only the finish reads may differ (here the bootstrap's
	// groups without the bootstrap, and the goodness-of-fit replicates):
	// the reduce uses the first shard's, says so, and equals the reduce of
	// shards made alike.
	if _, se, code := awdCmd(t, "analyze", ck, "--k", "30", "--shard", "2/3", "--bootstrap-groups", "5", "--ml-reps", "3", "--out", p("ml"), "--quiet"); code != 0 {
		t.Fatal(se)
	}
	_, se, code = awdCmd(t, "reduce", s1, p("ml", "shard_2_of_3.acc"), s3, "--out", p("red-ml"), "--quiet")
	if code != 0 || !strings.Contains(se, "differ in settings only the finish reads (extras.bootstrap_shards: 20 vs 5)") {
		t.Fatalf("reduce with other finish-only settings: exit %d\n%s", code, se)
	}
	rep, err := awd.ReadReport(p("red-ml", "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	var info awd.AccumulationInfo
	if err := json.Unmarshal(rep.Config, &info); err != nil || info.Config.Extras.MLReps != 100 || info.Config.Extras.BootstrapShards != 20 {
		t.Errorf("the reduce's config is not the first shard's (%v): %+v", err, info.Config.Extras)
	}
	sameAnalysis(t, p("red", "results.json"), p("red-ml", "results.json"), 1e-12)
}

// TestCLIShardFolder: the shard an analyze folder holds is recorded as
// i/n however --shard spells it, and a second shard into the same --out is
// refused with one line saying that each shard needs its own --out, with
// --fresh too (it would delete the first shard); once the first shard's
// file is gone, the folder is taken over.
func TestCLIShardFolder(t *testing.T) {
	dir := shardFixture(t)
	ck, out := filepath.Join(dir, "t", "final.npz"), filepath.Join(dir, "s")
	for _, shard := range []string{"01/02", "1/2", "1 /2"} {
		if _, se, code := awdCmd(t, "analyze", ck, "--k", "30", "--shard", shard, "--out", out, "--quiet"); code != 0 {
			t.Fatalf("--shard %q: exit %d\n%s", shard, code, se)
		}
	}
	b, err := os.ReadFile(filepath.Join(out, awd.OwnerFile))
	if err != nil {
		t.Fatal(err)
	}
	var owner awd.Owner
	var an analysisOwner
	if err := json.Unmarshal(b, &owner); err != nil || json.Unmarshal(owner.Config, &an) != nil || an.Shard != "1/2" {
		t.Errorf("recorded shard %q (%v), want 1/2", an.Shard, err)
	}
	first := filepath.Join(out, "shard_1_of_2.acc")
	for _, fresh := range []bool{false, true} {
		args := []string{"analyze", ck, "--k", "30", "--shard", "2/2", "--out", out}
		if fresh {
			args = append(args, "--fresh")
		}
		_, se, code := awdCmd(t, args...)
		want := fmt.Sprintf("awd: --shard 2/2: %s holds shard 1/2 (shard_1_of_2.acc); each shard needs its own --out (e.g. --out %s-2): --fresh would delete that shard\n", out, out)
		if code != 1 || se != want {
			t.Errorf("fresh %v: exit %d\n%s\nwant\n%s", fresh, code, se, want)
		}
		if _, err := os.Stat(first); err != nil {
			t.Fatalf("fresh %v: the first shard is gone: %v", fresh, err)
		}
	}
	// Without the first shard's file there is nothing to lose: the folder
	// of a shard that saved nothing binds nobody.
	os.Remove(first)
	if _, se, code := awdCmd(t, "analyze", ck, "--k", "30", "--shard", "2/2", "--out", out, "--quiet"); code != 0 {
		t.Errorf("the folder of shard 1/2 without its file: exit %d\n%s", code, se)
	}
	if _, err := os.Stat(filepath.Join(out, "shard_2_of_2.acc")); err != nil {
		t.Error(err)
	}
}

// TestCLIReduceFolderOfAnotherReduce: a reduce into a folder that holds
// the reduce of another analysis, or of this one from other shards, is
// refused with one line that says which, in the terms of the shards (not
// a field of the folder's config such as "counts"), and names the remedies;
// --fresh replaces it.
func TestCLIReduceFolderOfAnotherReduce(t *testing.T) {
	dir := shardFixture(t)
	ck := filepath.Join(dir, "t", "final.npz")
	p := func(s ...string) string { return filepath.Join(append([]string{dir}, s...)...) }
	for _, a := range [][]string{{"k30", "30", "1/1"}, {"k31", "31", "1/1"}, {"h1", "30", "1/2"}, {"h2", "30", "2/2"}} {
		if _, se, code := awdCmd(t, "analyze", ck, "--k", a[1], "--shard", a[2], "--out", p(a[0]), "--quiet"); code != 0 {
			t.Fatalf("analyze %v: exit %d\n%s", a, code, se)
		}
	}
	red := p("red")
	for _, c := range []struct {
		name  string
		shard []string
		want  string
	}{
		{"other-analysis", []string{p("k31", "shard_1_of_1.acc")}, "holds the reduce of another analysis (config.k: 30 vs 31, there vs here)"},
		{"other-shards", []string{p("h1", "shard_1_of_2.acc"), p("h2", "shard_2_of_2.acc")}, "holds the reduce of this analysis from 1 shard, these are 2 shards"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, se, code := awdCmd(t, "reduce", p("k30", "shard_1_of_1.acc"), "--out", red, "--fresh", "--quiet"); code != 0 {
				t.Fatalf("reduce: exit %d\n%s", code, se)
			}
			_, se, code := awdCmd(t, append(append([]string{"reduce"}, c.shard...), "--out", red, "--quiet")...)
			want := "awd: " + red + " " + c.want + "; use another --out, or --fresh to replace what it holds\n"
			if code != 1 || se != want || strings.Contains(se, "counts") {
				t.Errorf("exit %d:\n%s\nwant\n%s", code, se, want)
			}
			if _, se, code := awdCmd(t, append(append([]string{"reduce"}, c.shard...), "--out", red, "--fresh", "--quiet")...); code != 0 {
				t.Errorf("--fresh: exit %d\n%s", code, se)
			}
		})
	}
}

// TestCLIReduceDataSource: the shards of one analysis must read the same
// training files, as they must analyse the same samples: a shard that
// drew the same samples from files that differ elsewhere (an image of a
// class not analysed) is refused, naming data_source_sha256; shards that
// read the same files from two folders merge, and the reduce records the
// files' fingerprint as awd analyze does.
func TestCLIReduceDataSource(t *testing.T) {
	own, moved, other := tinyCopy(t), tinyCopy(t), tinyCopy(t)
	labels, _ := os.ReadFile(filepath.Join(other, "train-labels-idx1-ubyte"))
	i := bytes.IndexByte(labels[8:], 9)
	img := filepath.Join(other, "train-images-idx3-ubyte")
	b, _ := os.ReadFile(img)
	b[16+i*28*28+400] ^= 0xff
	os.WriteFile(img, b, 0o644)
	dir := t.TempDir()
	p := func(s ...string) string { return filepath.Join(append([]string{dir}, s...)...) }
	if _, se, code := awdCmd(t, "train", "--data-dir", own, "--classes", "3", "--per-class", "20", "--widths", "8,8", "--batch", "10", "--epochs", "1", "--quiet", "--out", p("t")); code != 0 {
		t.Fatalf("train: exit %d: %s", code, se)
	}
	ck := p("t", "final.npz")
	an := []string{"--k", "10", "--corr-k", "5", "--ml-reps", "0", "--quiet"}
	for _, s := range []struct{ out, data, shard string }{{"a", own, "1/2"}, {"b", moved, "2/2"}, {"c", other, "2/2"}, {"full", own, ""}} {
		args := append([]string{"analyze", ck, "--data-dir", s.data, "--out", p(s.out)}, an...)
		if s.shard != "" {
			args = append(args, "--shard", s.shard)
		}
		if _, se, code := awdCmd(t, args...); code != 0 {
			t.Fatalf("analyze --shard %q of %s: exit %d: %s", s.shard, s.data, code, se)
		}
	}
	_, se, code := awdCmd(t, "reduce", p("a", "shard_1_of_2.acc"), p("c", "shard_2_of_2.acc"), "--out", p("x"), "--quiet")
	if code != 1 || !strings.Contains(se, "the shards are of different analyses (data_source_sha256: ") {
		t.Errorf("shards of other training files: exit %d, %q; want a refusal naming data_source_sha256", code, se)
	}
	if _, se, code := awdCmd(t, "reduce", p("a", "shard_1_of_2.acc"), p("b", "shard_2_of_2.acc"), "--out", p("red"), "--quiet"); code != 0 {
		t.Fatalf("shards of the same files in two folders: exit %d: %s", code, se)
	}
	source := func(path string) string {
		t.Helper()
		rep, err := awd.ReadReport(path)
		if err != nil {
			t.Fatal(err)
		}
		var cfg struct {
			Source string `json:"data_source_sha256"`
		}
		json.Unmarshal(rep.Config, &cfg)
		return cfg.Source
	}
	if r, a := source(p("red", "results.json")), source(p("full", "results.json")); r == "" || r != a {
		t.Errorf("data_source_sha256: reduce %q, analyze %q; want the same fingerprint in both", r, a)
	}
}
