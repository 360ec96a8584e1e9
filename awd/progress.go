package awd

// Progress receives the progress of the long stages (per-sample pass and
// accumulation, eigensolve, statistics, suppression). awd knows nothing of
// terminals: the CLI implements it with progress bars, tests pass nil.
type Progress interface {
	// Start begins a stage of total steps.
	Start(stage string, total int)
	// Add reports n more steps done.
	Add(n int)
	// Finish ends the current stage.
	Finish()
}

type nopProgress struct{}

func (nopProgress) Start(string, int) {}
func (nopProgress) Add(int)           {}
func (nopProgress) Finish()           {}

func orNop(p Progress) Progress {
	if p == nil {
		return nopProgress{}
	}
	return p
}
