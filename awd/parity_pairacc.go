package awd

import (
	"fmt"

	"github.com/awd-toolkit/awd/kernels"
	"github.com/awd-toolkit/awd/linalg"
	"github.com/awd-toolkit/awd/nn"
)

// PairAcc accumulates the matched-pair quantities of a second pair rule,
// beside the State's (which holds those of the first): the sums of sigma^2,
// C_pair (packed Kronecker) and C_pair2 (SYRK), as State.AddPairs does, and
// the code's C_pair2 when Code is set. Accumulations of disjoint samples
// Merge exactly.
type PairAcc struct {
	Rule  string
	M, In int
	Pair2 bool
	Chunk int

	pair  *kron
	pair2 linalg.Dense
	Code  *CodePair2Acc // the code's C_pair2 for this rule's batches (nil: not asked)

	SumDTheta2 float64
	PairCount  int // samples with a partner and a_n != 0
	ZeroA      int // samples with a_n = 0 (no dW_n)

	scratch [3][]float64
}

// NewPairAcc returns an empty accumulator of rule for an m x in layer;
// pair2 adds C_pair2 (d^2 memory), code (may be nil) the code's C_pair2.
func NewPairAcc(rule string, m, in int, pair2 bool, code *CodePair2Acc, chunk int) *PairAcc {
	if chunk <= 0 {
		chunk = DefaultChunk
	}
	p := &PairAcc{Rule: rule, M: m, In: in, Pair2: pair2, Chunk: chunk, pair: newKron(m, in, 1), Code: code}
	if pair2 {
		p.pair2 = linalg.NewDense(m*in, m*in)
	}
	return p
}

func (p *PairAcc) buf(i, r, c int) linalg.Dense {
	if cap(p.scratch[i]) < r*c {
		p.scratch[i] = make([]float64, r*c)
	}
	return linalg.DenseOf(r, c, p.scratch[i][:r*c])
}

// Add adds the samples of ps: w is the layer's weight, row i of da is
// a_partner - a_n of sample i (NaN: no partner) and pos[i] its position in
// the analysis (for Code's batches; may be nil without Code).
func (p *PairAcc) Add(ps *nn.PerSample, w, da linalg.Dense, pos []int) {
	if ps.M != p.M || ps.In != p.In {
		panic(fmt.Sprintf("awd: PairAcc.Add: samples of a %dx%d layer into a %dx%d accumulator", ps.M, ps.In, p.M, p.In))
	}
	dt, pairs, zero := addPairs(ps, w, da, pairTargets{pair: p.pair, pair2: p.pair2, code: p.Code, pos: pos, chunk: p.Chunk, buf: p.buf})
	p.SumDTheta2 += dt
	p.PairCount += pairs
	p.ZeroA += zero
}

// Merge adds the sums of o (the same rule, other samples) into p.
func (p *PairAcc) Merge(o *PairAcc) error {
	if p.Rule != o.Rule || p.M != o.M || p.In != o.In || p.Pair2 != o.Pair2 || (p.Code == nil) != (o.Code == nil) {
		return fmt.Errorf("awd: merge pairs: rule %s %dx%d (pair2 %v, code %v) into %s %dx%d (pair2 %v, code %v)",
			o.Rule, o.M, o.In, o.Pair2, o.Code != nil, p.Rule, p.M, p.In, p.Pair2, p.Code != nil)
	}
	if p.Code != nil {
		if err := p.Code.Merge(o.Code); err != nil {
			return err
		}
	}
	kernels.Daxpy(1, o.pair.g.Data, p.pair.g.Data)
	if p.Pair2 {
		kernels.Daxpy(1, o.pair2.Data, p.pair2.Data)
	}
	p.SumDTheta2 += o.SumDTheta2
	p.PairCount += o.PairCount
	p.ZeroA += o.ZeroA
	return nil
}

// PairMatrices are the pair quantities of one rule, finished for SGD batch
// size B: C_pair = (1/B)(1/Np) sum (H_n dtheta_n)(H_n dtheta_n)^T, C_pair2
// likewise with the Eq. 58 term (empty without Pair2), the code's C_pair2
// (empty without Code), and sigma^2 = (1/Np) sum ||dtheta_n||^2 / d.
type PairMatrices struct {
	CPair, CPair2, CPair2Code linalg.Dense
	Sigma2                    float64
	NPairs                    int
}

// Finish returns the matrices for batch size batch (consuming the C_pair2
// sum). It needs at least one pair.
func (p *PairAcc) Finish(batch int) (*PairMatrices, error) {
	if p.PairCount == 0 {
		return nil, fmt.Errorf("awd: pairs (%s): no matched pair accumulated", p.Rule)
	}
	d := p.M * p.In
	fb, fp := float64(batch), float64(p.PairCount)
	r := &PairMatrices{Sigma2: p.SumDTheta2 / fp / float64(d), NPairs: p.PairCount}
	r.CPair = linalg.NewDense(d, d)
	p.pair.set(r.CPair, 0, 1/(fb*fp))
	if p.Pair2 {
		r.CPair2, p.pair2 = p.pair2, linalg.Dense{}
		linalg.Mirror(linalg.Upper, r.CPair2)
		scale(r.CPair2, 1/(fb*fp))
	}
	if p.Code != nil {
		var err error
		if r.CPair2Code, err = p.Code.Finish(); err != nil {
			return nil, err
		}
	}
	return r, nil
}
