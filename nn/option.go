package nn

import "fmt"

// OptionError is a bad value of a named option: a field of DataSpec,
// ModelSpec, TrainConfig or of the analysis config, named as the CLI flag
// that sets it ("per-class", "lr", "k"), so that callers can point at the
// flag.
type OptionError struct {
	Option string // e.g. "k"
	Value  string // the value given, as text
	Reason string // what is wrong and what is allowed
}

func (e *OptionError) Error() string { return e.Option + "=" + e.Value + ": " + e.Reason }

// BadOption returns an *OptionError for option with value v.
func BadOption(option string, v any, format string, args ...any) error {
	return &OptionError{Option: option, Value: fmt.Sprint(v), Reason: fmt.Sprintf(format, args...)}
}
