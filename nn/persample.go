package nn

import "fmt"

// PerSample holds the exact per-sample quantities of docs/math.md section 3 for the
// layer under study (W is M x In) and a block of N samples, in float64,
// row-major, sample-major:
//
//	A[s*In+i]         a_s, the layer's input activity
//	Delta[s*M+p]      delta_s = dl_s/dz_s
//	J[s*L*M+k*M+p]    J_s = do/dz (L x M), the ReLU masks after z included
//	Lambda[s*L*L+..]  Lambda_s = d2 l_s/do^2 (L x L)
//
// Gamma_s = J_s^T Lambda_s J_s (M x M) is kept factored, so that nothing of
// size M x M per sample is stored; Gamma computes it on request.
type PerSample struct {
	N, M, In, L int

	A      []float64
	Delta  []float64
	J      []float64
	Lambda []float64

	Loss  []float64 // l_s
	Pred  []int     // argmax of the logits
	Label []int     // y_s as used by the loss (relabelled when the head is K)
}

// Gamma writes Gamma_s = J_s^T Lambda_s J_s into dst (M x M, row-major) and
// returns it; dst is allocated when nil. Cost O(L^2 M + L M^2).
func (ps *PerSample) Gamma(s int, dst []float64) []float64 {
	m, l := ps.M, ps.L
	if s < 0 || s >= ps.N {
		panic(fmt.Sprintf("nn: PerSample.Gamma: sample %d of %d", s, ps.N))
	}
	if dst == nil {
		dst = make([]float64, m*m)
	}
	j := ps.J[s*l*m : (s+1)*l*m]
	lam := ps.Lambda[s*l*l : (s+1)*l*l]
	lj := make([]float64, l*m) // Lambda J
	for a := 0; a < l; a++ {
		row := lj[a*m : (a+1)*m]
		for b := 0; b < l; b++ {
			v := lam[a*l+b]
			if v == 0 {
				continue
			}
			jb := j[b*m : (b+1)*m]
			for p := range row {
				row[p] += v * jb[p]
			}
		}
	}
	clear(dst[:m*m])
	for a := 0; a < l; a++ {
		ja, la := j[a*m:(a+1)*m], lj[a*m:(a+1)*m]
		for p, jp := range ja {
			if jp == 0 {
				continue
			}
			row := dst[p*m : (p+1)*m]
			for q, v := range la {
				row[q] += jp * v
			}
		}
	}
	return dst
}
