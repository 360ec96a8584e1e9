package sweep

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/awd-toolkit/awd/awd"
	"github.com/awd-toolkit/awd/nn"
)

// DataSpec is the balanced subset a job trains and analyses on: the data
// set, the classes, P samples per class drawn with Seed, and the output
// head (0: all 10 logits; K: K logits, labels 0..K-1).
type DataSpec struct {
	Name     string `json:"name"`
	Dir      string `json:"dir,omitempty"` // where the files are on this machine: not part of the protocol
	Classes  []int  `json:"classes"`
	PerClass int    `json:"per_class"`
	Head     int    `json:"head"`
	Seed     uint64 `json:"seed"`
}

// Spec is one training-and-analysis run: everything that determines its
// results. It is written as JSON in the job's folder (job.json) and run by
// the job's own process.
type Spec struct {
	Data      DataSpec       `json:"data"`
	Model     string         `json:"model"`
	Widths    []int          `json:"widths,omitempty"`
	InitSeed  uint64         `json:"init_seed"`
	Train     nn.TrainConfig `json:"train"`
	AnalyzeAt []int          `json:"analyze_at"`
	Analysis  awd.Config     `json:"analysis"`
}

// Job is one grid point and seed of a sweep.
type Job struct {
	ID       string `json:"id"`       // <data>-<model>-<loss>-K<K>-s<seed>-<protocol[:6]>
	Cell     int    `json:"cell"`     // index of the config's cell it comes from
	Protocol string `json:"protocol"` // SHA-256 of the spec without its seeds (ProtocolOf)
	Seed     uint64 `json:"seed"`
	Spec     Spec   `json:"spec"`

	Threads int    `json:"threads"` // GOMAXPROCS and linalg threads of the job's process
	Memory  string `json:"memory"`  // Slurm --mem
	Time    string `json:"time"`    // Slurm --time
	Shards  int    `json:"shards"`  // analysis shards per analysed epoch (1: none)

	// SeedSubset and SeedPairs record whether the seed drew the subset and
	// the analysis' batches and pairs (they are part of the protocol).
	SeedSubset bool `json:"seed_subset"`
	SeedPairs  bool `json:"seed_pairs"`
}

// K is the number of classes of the job's subset.
func (j *Job) K() int { return len(j.Spec.Data.Classes) }

// ProtocolOf returns the protocol of a spec: its canonical JSON with every
// seed the sweep varies set to zero and the machine-specific data folder
// dropped, and the SHA-256 of that JSON in hex. Two runs of one protocol
// differ only in their seeds; the tables average over them and never over
// two protocols.
func ProtocolOf(s Spec, seedSubset, seedPairs bool) (canonical []byte, hash string) {
	s.InitSeed, s.Train.Seed, s.Data.Dir = 0, 0, ""
	s.Train.StartEpoch, s.Train.OnBatch = 0, nil
	if seedSubset {
		s.Data.Seed = 0
	}
	if seedPairs {
		s.Analysis.Seed, s.Analysis.Suppression.Seed = 0, 0
	}
	b, err := json.Marshal(struct {
		Spec       Spec `json:"spec"`
		SeedSubset bool `json:"seed_subset"`
		SeedPairs  bool `json:"seed_pairs"`
	}{s, seedSubset, seedPairs})
	if err != nil {
		panic(fmt.Sprintf("sweep: protocol of %+v: %v", s, err)) // every field is a plain value
	}
	sum := sha256.Sum256(b)
	return b, hex.EncodeToString(sum[:])
}

// jobID names a job by what a reader looks for first, and the protocol.
func jobID(s Spec, seed uint64, protocol string) string {
	return fmt.Sprintf("%s-%s-%s-K%d-s%d-%s", s.Data.Name, s.Model, s.Train.Loss, len(s.Data.Classes), seed, protocol[:6])
}
