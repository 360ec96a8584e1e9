//go:build purego || !amd64

package kernels

// No assembly packers: Go packs every panel.

func dpackATPanels(Level, []float64, []float64, int, int, int, float64) int { return 0 }
func spackATPanels(Level, []float32, []float32, int, int, int, float32) int { return 0 }
func dpackAPanels(Level, []float64, []float64, int, int, int, float64) int  { return 0 }
func spackAPanels(Level, []float32, []float32, int, int, int, float32) int  { return 0 }
func dpackBPanels(Level, []float64, []float64, int, int, int) int           { return 0 }
func spackBPanels(Level, []float32, []float32, int, int, int) int           { return 0 }
