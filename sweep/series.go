package sweep

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/awd-toolkit/awd/awd"
)

// Series is gamma over training for one protocol: at every analysed epoch,
// gamma of each covariance as mean ± sample std over the seeds that
// analysed that epoch.
type Series struct {
	Label    string // "mnist mlp CE K=3", with the protocol when two share it
	Protocol string
	Epochs   []int
	Gamma    map[string][]awd.MeanStd // per covariance, one per epoch
}

// GammaSeries returns one Series per protocol of the finished jobs, in
// grid order.
func GammaSeries(f *Finished, covs []string) []Series {
	var out []Series
	index := map[string]int{}
	vals := map[string]map[string]map[int][]float64{} // protocol -> cov -> epoch -> gammas
	for i, rep := range f.Reports {
		j := f.Jobs[i]
		if _, ok := index[j.Protocol]; !ok {
			index[j.Protocol] = len(out)
			out = append(out, Series{Label: fmt.Sprintf("%s %s %s K=%d", j.Spec.Data.Name, j.Spec.Model.Kind, strings.ToUpper(j.Spec.Train.Loss.String()), j.K()),
				Protocol: j.Protocol, Gamma: map[string][]awd.MeanStd{}})
			vals[j.Protocol] = map[string]map[int][]float64{}
		}
		for _, ck := range rep.Checkpoints {
			for _, cov := range covs {
				if f, ok := ck.Analysis.Fits[cov]; ok && !math.IsNaN(f.Gamma) {
					m := vals[j.Protocol][cov]
					if m == nil {
						m = map[int][]float64{}
						vals[j.Protocol][cov] = m
					}
					m[ck.Epoch] = append(m[ck.Epoch], f.Gamma)
				}
			}
		}
	}
	labels := map[string]int{}
	for _, s := range out {
		labels[s.Label]++
	}
	for i := range out {
		s := &out[i]
		if labels[s.Label] > 1 {
			s.Label += " (" + s.Protocol[:6] + ")"
		}
		for _, byEpoch := range vals[s.Protocol] {
			for e := range byEpoch {
				if !slices.Contains(s.Epochs, e) {
					s.Epochs = append(s.Epochs, e)
				}
			}
		}
		slices.Sort(s.Epochs)
		for _, cov := range covs {
			for _, e := range s.Epochs {
				s.Gamma[cov] = append(s.Gamma[cov], awd.Summarize(vals[s.Protocol][cov][e]))
			}
		}
	}
	return out
}

// SeriesCSV writes the series as CSV: one line per protocol and epoch.
func SeriesCSV(series []Series, covs []string) (string, error) {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	h := []string{"series", "protocol", "epoch"}
	for _, c := range covs {
		p := "gamma_" + strings.ReplaceAll(c, "_", "")
		h = append(h, p+"_mean", p+"_std", p+"_n")
	}
	w.Write(h)
	num := func(v float64) string {
		if math.IsNaN(v) {
			return ""
		}
		return strconv.FormatFloat(v, 'f', 4, 64)
	}
	for _, s := range series {
		for i, e := range s.Epochs {
			rec := []string{s.Label, s.Protocol, strconv.Itoa(e)}
			for _, c := range covs {
				m := s.Gamma[c][i]
				std := num(m.Std)
				if m.N < 2 {
					std = ""
				}
				rec = append(rec, num(m.Mean), std, strconv.Itoa(m.N))
			}
			w.Write(rec)
		}
	}
	w.Flush()
	return b.String(), w.Error()
}
