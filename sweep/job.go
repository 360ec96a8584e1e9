package sweep

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/awd-toolkit/awd/awd"
)

// Job is one grid point and seed of a sweep.
type Job struct {
	ID       string        `json:"id"`       // <data>-<model>-<loss>-K<K>-s<seed>-<protocol[:6]>
	Cell     int           `json:"cell"`     // index of the config's cell it comes from
	Protocol string        `json:"protocol"` // SHA-256 of the spec without its seeds (ProtocolOf)
	Seed     uint64        `json:"seed"`
	Spec     awd.RunConfig `json:"spec"` // the run, executed by awd.Run in the job's run/ folder

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
func ProtocolOf(s awd.RunConfig, seedSubset, seedPairs bool) (canonical []byte, hash string) {
	s.Seed, s.Train.Seed, s.Data.Dir = 0, 0, ""
	s.Train.StartEpoch, s.Train.OnBatch, s.Train.PrevFullAcc = 0, nil, nil
	if seedSubset {
		s.Data.Seed = 0
	}
	if seedPairs && s.Analysis != nil {
		an := *s.Analysis
		an.Seed, an.Suppression.Seed = 0, 0
		s.Analysis = &an
	}
	b, err := json.Marshal(struct {
		Spec       awd.RunConfig `json:"spec"`
		SeedSubset bool          `json:"seed_subset"`
		SeedPairs  bool          `json:"seed_pairs"`
	}{s, seedSubset, seedPairs})
	if err != nil {
		panic(fmt.Sprintf("sweep: protocol of %+v: %v", s, err)) // every field is a plain value
	}
	sum := sha256.Sum256(b)
	return b, hex.EncodeToString(sum[:])
}

// jobID names a job by what a reader looks for first, and the protocol.
func jobID(s awd.RunConfig, seed uint64, protocol string) string {
	return fmt.Sprintf("%s-%s-%s-K%d-s%d-%s", s.Data.Name, s.Model.Kind, s.Train.Loss, len(s.Data.Classes), seed, protocol[:6])
}
