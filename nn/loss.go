package nn

import (
	"fmt"
	"math"
	"strings"
)

// Loss is a per-sample loss on the logits o (length L) and the label y.
// A batch loss is the mean over the batch.
type Loss int

const (
	// CE is the cross-entropy -log p_y, p = softmax(o).
	CE Loss = iota
	// MSE is MSE-after-softmax, (1/L) sum_k (p_k - e_y,k)^2, PyTorch's
	// MSELoss on softmax outputs.
	MSE
)

func (l Loss) String() string {
	switch l {
	case CE:
		return "ce"
	case MSE:
		return "mse"
	}
	return fmt.Sprintf("Loss(%d)", int(l))
}

// check refuses a Loss other than CE and MSE (a conversion of any int),
// before the workers that would panic on it start.
func (l Loss) check(op string) error {
	if l != CE && l != MSE {
		return fmt.Errorf("%s: unknown loss %v (want CE or MSE)", op, l)
	}
	return nil
}

// MarshalJSON writes the loss as "ce" or "mse".
func (l Loss) MarshalJSON() ([]byte, error) {
	if l != CE && l != MSE {
		return nil, fmt.Errorf("nn: cannot marshal %v", l)
	}
	return []byte(`"` + l.String() + `"`), nil
}

// UnmarshalJSON reads "ce" or "mse" (or the numbers 0 and 1).
func (l *Loss) UnmarshalJSON(b []byte) error {
	switch s := string(b); s {
	case "0", "1":
		*l = Loss(s[0] - '0')
		return nil
	default:
		v, err := ParseLoss(strings.Trim(s, `"`))
		*l = v
		return err
	}
}

// ParseLoss reads "ce" or "mse".
func ParseLoss(s string) (Loss, error) {
	switch s {
	case "ce", "CE":
		return CE, nil
	case "mse", "MSE":
		return MSE, nil
	}
	return 0, fmt.Errorf("unknown loss %q (want ce or mse)", s)
}

// softmax writes p = softmax(o) in float64.
func softmax[T float32 | float64](o []T, p []float64) {
	mx := math.Inf(-1)
	for _, v := range o {
		mx = max(mx, float64(v))
	}
	var s float64
	for k, v := range o {
		e := math.Exp(float64(v) - mx)
		p[k] = e
		s += e
	}
	for k := range p {
		p[k] /= s
	}
}

// eval computes, for one sample with softmax p (length L) and label y, the
// loss and (when g is not nil) g = dl/do. For CE g = p - e_y; for MSE
// g = (2/L) S r with S = diag(p) - p p^T and r = p - e_y.
func (l Loss) eval(o []float64, p []float64, y int, g []float64) float64 {
	switch l {
	case CE:
		// log-sum-exp form keeps -log p_y accurate when p_y underflows.
		mx := math.Inf(-1)
		for _, v := range o {
			mx = max(mx, v)
		}
		var s float64
		for _, v := range o {
			s += math.Exp(v - mx)
		}
		if g != nil {
			for k := range g {
				g[k] = p[k]
			}
			g[y]--
		}
		return mx + math.Log(s) - o[y]
	case MSE:
		L := float64(len(p))
		var loss, pr float64
		for k, pk := range p {
			r := pk
			if k == y {
				r--
			}
			loss += r * r
			pr += pk * r
		}
		if g != nil {
			// (S r)_k = p_k r_k - p_k (p . r)
			for k, pk := range p {
				r := pk
				if k == y {
					r--
				}
				g[k] = 2 / L * (pk*r - pk*pr)
			}
		}
		return loss / L
	}
	panic("nn: unknown loss")
}

// lambda writes Lambda = d2 l/do^2 (L x L, row-major) for one sample: for CE
// diag(p) - p p^T; for MSE (2/L) [S^T S + sum_k r_k D2p_k] with
// D2p_k[i][j] = p_k [(1{k=i} - p_i)(1{k=j} - p_j) - p_i (1{i=j} - p_j)].
func (l Loss) lambda(p []float64, y int, dst []float64) {
	L := len(p)
	switch l {
	case CE:
		for i := 0; i < L; i++ {
			for j := 0; j < L; j++ {
				v := -p[i] * p[j]
				if i == j {
					v += p[i]
				}
				dst[i*L+j] = v
			}
		}
	case MSE:
		s := func(i, j int) float64 { // S[i][j]
			v := -p[i] * p[j]
			if i == j {
				v += p[i]
			}
			return v
		}
		ind := func(b bool) float64 {
			if b {
				return 1
			}
			return 0
		}
		for i := 0; i < L; i++ {
			for j := 0; j < L; j++ {
				var v float64
				for k := 0; k < L; k++ {
					v += s(k, i) * s(k, j)
					r := p[k] - ind(k == y)
					d2 := p[k] * ((ind(k == i)-p[i])*(ind(k == j)-p[j]) - p[i]*(ind(i == j)-p[j]))
					v += r * d2
				}
				dst[i*L+j] = 2 / float64(L) * v
			}
		}
	default:
		panic("nn: unknown loss")
	}
}
