package awd

import (
	"fmt"
	"math"
	"strings"

	"github.com/awd-toolkit/awd/nn"
)

// mfPlan is the memory plan of the matrix-free analysis of one layer.
type mfPlan struct {
	info       nn.LayerInfo
	n, l, k    int
	mc         MatFreeConfig
	jacobian   string
	estimate   bool    // k_eff's ||X||_F^2 estimated (formed Jacobian)
	exactFlops float64 // the exact ||X||_F^2 is computed when it costs at most this
	cache      int64   // bytes of a formed J kept between applications (jacobianCache)
}

// exactFrobFlops bounds the cost of an exact ||X||_F^2 (about 20 s here):
// above it k_eff is estimated.
const exactFrobFlops = 4e12

func newMFPlan(model *nn.Model, layer string, n int, cfg Config) mfPlan {
	info, _ := model.LayerInfo(layer) // checked by the caller
	p := mfPlan{info: info, n: n, l: model.Arch.Outputs, k: cfg.K, exactFlops: exactFrobFlops}
	p.mc = cfg.MatFree.withDefaults(cfg.K, info.D())
	switch {
	case !info.Conv:
		p.jacobian = "kronecker"
	case info.Explicit:
		p.jacobian = "stored"
	default:
		p.jacobian, p.estimate = "formed", true
	}
	if !p.estimate {
		r := float64(n * p.l)
		c := float64(info.D())
		if p.jacobian == "kronecker" {
			c = float64(info.Out)
		}
		p.estimate = 2*r*r*c > p.exactFlops
	}
	return p
}

// factorBytes is the per-sample storage of nn.LayerSamples for this layer
// plus the shared G, Lambda, Loss, Pred and Label (counted per layer, a
// slight overestimate for several layers).
func (p mfPlan) factorBytes() int64 {
	l := int64(p.l)
	return 8 * int64(p.n) * (int64(p.info.Stored(p.l)) + l + l*l + 3)
}

// chunkBytes is the scratch of one operator application with b vectors.
func (p mfPlan) chunkBytes(b int) int64 {
	ls := &nn.LayerSamples{LayerInfo: p.info, N: p.n, L: p.l}
	if p.jacobian == "kronecker" {
		return (&kronJac{ls: ls}).chunkBytes(b)
	}
	if p.jacobian == "stored" {
		ls.J = []float64{}
	}
	return (&explicitJac{ls: ls, f32: p.mc.JacobianFloat32 && ls.J == nil}).chunkBytes(b)
}

// workBytes is the peak memory of the analysis of this layer beyond the
// factors: MatFree's Grams and pairs, then the larger of the eigensolve
// (Lanczos basis n x (m + b), images and scratch) and the statistics (the
// basis still holding U, the Haar frame, F = J U and J R, X R when k_eff is
// estimated, a forward pass with k vectors).
func (p mfPlan) workBytes() int64 {
	d, n, l, k := int64(p.info.D()), int64(p.n), int64(p.l), int64(p.k)
	b, m := int64(p.mc.Block), int64(p.mc.Basis)
	mf := 8 * n * (l*l + l + 2)
	if !p.info.Conv {
		mf += 8 * n * int64(p.info.In)
	}
	basis := 8 * d * (m + b)
	lanczos := basis + 8*(2*d*b+3*m*m) + p.chunkBytes(int(b))
	cols := min(int(k), forwardCols)
	if p.jacobian != "kronecker" {
		cols = int(k) // Forward takes every column at once
	}
	stats := basis + 8*3*n*l*k + p.chunkBytes(cols)
	if m+b < 2*k {
		stats += 8 * d * k // the Haar frame does not fit in the basis's buffer
	}
	if p.estimate {
		stats += 8*d*k + p.chunkBytes(int(k))
	}
	return mf + max(lanczos, stats)
}

// matFreeNeed returns the peak memory of the matrix-free analysis of the
// layers on n samples, or the error of matFreeMemoryError when it exceeds
// the budget.
func matFreeNeed(model *nn.Model, layers []string, n int, cfg Config) (int64, error) {
	plans := make([]mfPlan, len(layers))
	var factors int64
	for i, name := range layers {
		plans[i] = newMFPlan(model, name, n, cfg)
		factors += plans[i].factorBytes()
	}
	var need int64
	for i := range plans {
		need = max(need, factors+plans[i].workBytes())
	}
	if budget := MemoryBudget(cfg.Memory); need > budget {
		return need, matFreeMemoryError(layers, plans, factors, need, budget)
	}
	return need, nil
}

// jacobianCache returns the bytes a formed Jacobian of the plan may keep
// between operator applications (see explicitJac): all of J (8 N L d
// bytes, 4 N L d with JacobianFloat32) when it fits, else 90% of the room beyond need (the analysis's
// own peak) in the budget and in the memory available now (MemAvailable,
// which counts other processes; avail 0: not known); nothing when the
// budget is unknown or the Jacobian is not formed. Keeping J saves forming
// it again in every application: on the CNN's convolution layers forming
// is 40-75% of an application's flops.
func (p mfPlan) jacobianCache(need, budget, avail int64) int64 {
	if avail > 0 {
		budget = min(budget, avail)
	}
	if p.jacobian != "formed" || budget == math.MaxInt64 || need >= budget {
		return 0
	}
	size := int64(8)
	if p.mc.JacobianFloat32 {
		size = 4
	}
	full := size * int64(p.n) * int64(p.l) * int64(p.info.D())
	return min(full, (budget-need)/10*9)
}

// matFreeFits checks, before any work, that the matrix-free analysis of the
// layers fits the memory budget for n samples (an upper bound on those
// that enter the AWD batches).
func matFreeFits(model *nn.Model, layers []string, n int, cfg Config) error {
	if err := noBootstrap(cfg, "it is matrix-free"); err != nil {
		return err
	}
	_, err := matFreeNeed(model, layers, n, cfg)
	return err
}

// noBootstrap refuses a bootstrap asked of a matrix-free analysis (why
// says why it is one): its groups' sums are d x d matrices, which that
// path never forms. A note in the results was all it got.
func noBootstrap(cfg Config, why string) error {
	if cfg.boot() {
		return nn.BadOption("bootstrap", cfg.Extras.Bootstrap, "needs the dense path (d x d sums per group), and this analysis cannot take it: %s", why)
	}
	return nil
}

// matFreeMemoryError says how much the analysis needs, the budget and the
// largest k that fits.
func matFreeMemoryError(layers []string, plans []mfPlan, factors, need, budget int64) error {
	largest := 0
	for k := plans[0].k - 1; k >= 2; k-- {
		ok := true
		for _, p := range plans {
			q := p
			q.k = k
			q.mc = MatFreeConfig{Tol: p.mc.Tol, JacobianFloat32: p.mc.JacobianFloat32}.withDefaults(k, p.info.D())
			if factors+q.workBytes() > budget {
				ok = false
				break
			}
		}
		if ok {
			largest = k
			break
		}
	}
	worst := plans[0]
	for _, p := range plans {
		if factors+p.workBytes() > factors+worst.workBytes() {
			worst = p
		}
	}
	// N is the samples given: the estimate is made before the balanced
	// batches are formed, which may leave a few out, so it is an upper bound.
	msg := fmt.Sprintf("matrix-free analysis of %s with k=%d on the N=%d samples given needs about %s (per-sample factors %s, Lanczos basis %d x %d of layer %s), more than the memory budget of %s (%s)",
		strings.Join(layers, ", "), worst.k, worst.n, FormatBytes(need), FormatBytes(factors), worst.info.D(), worst.mc.Basis+worst.mc.Block, worst.info.Layer, FormatBytes(budget), budgetHint)
	if largest >= 2 {
		return fmt.Errorf("%s; the largest k that fits is %d", msg, largest)
	}
	fewer := "use fewer samples (--per-class, or a smaller data set)"
	if len(layers) > 1 {
		fewer += " or fewer layers"
	}
	return fmt.Errorf("%s; no k >= 2 fits: %s", msg, fewer)
}
