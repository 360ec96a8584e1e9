package awd

import (
	"encoding/json"
	"math"
	"strconv"
)

// Float is a float64 whose JSON form is null when it is NaN or infinite
// (encoding/json refuses those), and NaN when read back from null. Results
// use it for the quantities that are undefined on degenerate input, such as
// the SE of a two-point fit or the test loss without a test set.
type Float float64

// MarshalJSON implements json.Marshaler.
func (f Float) MarshalJSON() ([]byte, error) {
	v := float64(f)
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return []byte("null"), nil
	}
	return strconv.AppendFloat(nil, v, 'g', -1, 64), nil
}

// UnmarshalJSON implements json.Unmarshaler.
func (f *Float) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*f = Float(math.NaN())
		return nil
	}
	var v float64
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*f = Float(v)
	return nil
}
