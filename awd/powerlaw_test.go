package awd

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

func TestFitPowerLaw(t *testing.T) {
	cases := []struct {
		name  string
		gamma float64
		noise float64 // std of the log-normal noise
		k     int
	}{
		{"exact/gamma=1", 1, 0, 50},
		{"exact/gamma=1.7", 1.7, 0, 300},
		{"noisy-0.1/gamma=1.3", 1.3, 0.1, 500},
		{"noisy-0.5/gamma=2", 2, 0.5, 1000},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, uint64(tc.k)))
			lambda := make([]float64, tc.k)
			c := make([]float64, tc.k)
			var sxx, mx float64
			for i := range lambda {
				lambda[i] = math.Pow(10, 2-4*float64(i)/float64(tc.k)) // 4 decades
				mx += math.Log(lambda[i]) / float64(tc.k)
			}
			for i := range lambda {
				sxx += (math.Log(lambda[i]) - mx) * (math.Log(lambda[i]) - mx)
				c[i] = 3 * math.Pow(lambda[i], tc.gamma) * math.Exp(tc.noise*rng.NormFloat64())
			}
			f, err := FitPowerLaw(lambda, c)
			if err != nil {
				t.Fatal(err)
			}
			if tc.noise == 0 {
				// Exact data: the slope is exact to the rounding of logs.
				tol := 64 * eps * float64(tc.k)
				if math.Abs(f.Gamma-tc.gamma) > tol || math.Abs(f.Intercept-math.Log(3)) > tol*10 || f.R2 < 1-tol {
					t.Errorf("fit %+v, want gamma %v intercept %v", f, tc.gamma, math.Log(3))
				}
				return
			}
			// The SE must match the closed form noise/sqrt(Sxx) to within the
			// relative sampling error of a variance estimate, and gamma must
			// lie within 4 SE of the truth.
			want := tc.noise / math.Sqrt(sxx)
			if rel := math.Abs(float64(f.SE)-want) / want; rel > 4/math.Sqrt(float64(tc.k)) {
				t.Errorf("SE %v, closed form %v", f.SE, want)
			}
			if math.Abs(f.Gamma-tc.gamma) > 4*float64(f.SE) {
				t.Errorf("gamma %v ± %v, want %v", f.Gamma, f.SE, tc.gamma)
			}
		})
	}
}

func TestFitPowerLawDropsNonPositive(t *testing.T) {
	lambda := []float64{4, 3, 2, 1, 0.5, -0.1, 0.2}
	c := []float64{16, 9, 4, 1, 0, 0.01, 0.04}
	f, err := FitPowerLaw(lambda, c)
	if err != nil {
		t.Fatal(err)
	}
	if f.Used != 5 || f.Dropped != 2 || math.Abs(f.Gamma-2) > 1e-12 {
		t.Errorf("got %+v, want 5 used, 2 dropped, gamma 2", f)
	}
	if _, err := FitPowerLaw([]float64{1, -1}, []float64{1, 1}); err == nil {
		t.Error("a single positive pair must be an error")
	}
	if _, err := FitPowerLaw([]float64{2, 2, 2}, []float64{1, 2, 3}); err == nil {
		t.Error("equal eigenvalues must be an error")
	}
}

func TestSummarize(t *testing.T) {
	s := Summarize([]float64{1, 2, 3, 4, math.NaN()})
	// mean 2.5, sample variance ((1.5^2+0.5^2)*2)/3 = 5/3
	if s.N != 4 || s.Mean != 2.5 || math.Abs(s.Std-math.Sqrt(5.0/3)) > 4*eps {
		t.Errorf("got %+v", s)
	}
	if s := Summarize([]float64{7}); s.Std != 0 || s.Mean != 7 {
		t.Errorf("single value: %+v", s)
	}
}

// TestFitPowerLawNullFloor checks the null floor: NullFloor's closed form,
// and a fit over an exact power law followed by directions of a null space
// (eigenvalues of rounding size, either sign, with rounding-size c_i of
// either sign). FitPowerLawAbove(NullFloor) must return the exact law over
// the range alone and count the null directions, where the fit above 0
// takes the positive noise in.
func TestFitPowerLawNullFloor(t *testing.T) {
	if got, want := NullFloor([]float64{3, -5, 1, math.Inf(1)}, 10), 10*0x1p-52*5.0; got != want {
		t.Errorf("NullFloor %v, want %v", got, want)
	}
	if got := NullFloor(nil, 10); got != 0 {
		t.Errorf("NullFloor of nothing %v", got)
	}
	const rangeN, null, gamma = 40, 12, 1.3
	lambda, c := make([]float64, rangeN+null), make([]float64, rangeN+null)
	for i := range rangeN {
		lambda[i] = math.Pow(float64(i+1), -1.5)
		c[i] = 0.7 * math.Pow(lambda[i], gamma)
	}
	rng := rand.New(rand.NewPCG(3, 1))
	for i := rangeN; i < rangeN+null; i++ {
		lambda[i] = 1e-17 * rng.NormFloat64()
		c[i] = 1e-18 * rng.NormFloat64()
	}
	floor := NullFloor(lambda, 100)
	f, err := FitPowerLawAbove(lambda, c, floor)
	if err != nil {
		t.Fatal(err)
	}
	if f.Used != rangeN || f.Null != null || f.Dropped != null || math.Abs(f.Gamma-gamma) > 1e-12 || math.Abs(f.R2-1) > 1e-12 {
		t.Errorf("fit above the floor: %+v, want gamma %v over %d with %d null", f, gamma, rangeN, null)
	}
	// The premise: above 0 the positive noise pairs enter and move gamma.
	g, err := FitPowerLaw(lambda, c)
	if err != nil {
		t.Fatal(err)
	}
	if g.Used <= rangeN || g.Null != 0 || math.Abs(g.Gamma-gamma) < 1e-3 {
		t.Errorf("premise: fit above 0 %+v", g)
	}
	// Below two points the error names the null space.
	if _, err := FitPowerLawAbove(lambda[rangeN-1:], c[rangeN-1:], floor); err == nil || !strings.Contains(err.Error(), "null") {
		t.Errorf("one point above the floor: %v", err)
	}
}

// TestFitShortTwoPoints: a fit through two points has no standard error,
// and its short form says n/a instead of printing NaN; with three it has
// one, and a failed fit is n/a.
func TestFitShortTwoPoints(t *testing.T) {
	two, err := FitPowerLaw([]float64{4, 1}, []float64{16, 1})
	if err != nil {
		t.Fatal(err)
	}
	if got := two.Short(); got != "2.000 ± n/a" {
		t.Errorf("two points: %q, want %q", got, "2.000 ± n/a")
	}
	three, err := FitPowerLaw([]float64{4, 2, 1}, []float64{16, 5, 1})
	if err != nil {
		t.Fatal(err)
	}
	if got := three.Short(); strings.Contains(got, "n/a") || strings.Contains(got, "NaN") || !strings.Contains(got, " ± ") {
		t.Errorf("three points: %q", got)
	}
	if got := (Fit{Gamma: math.NaN()}).Short(); got != "n/a" {
		t.Errorf("failed fit: %q", got)
	}
}
