// Command awd trains small networks and measures how SGD's gradient noise
// relates to the curvature of the loss (see README.md).
package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/awd-toolkit/awd/kernels"
)

// version is set by -ldflags "-X main.version=..." in release builds.
var version = "0.1.0-dev"

var rootCmd = &cobra.Command{
	Use:   "awd",
	Short: "measure how SGD noise covariance relates to loss curvature",
	Long: `awd trains small MLPs and CNNs and, for one weight matrix, computes the SGD
noise covariance C, the Hessian H and the Activity-Weight-Duality prediction,
then fits the power law c_i ~ lambda_i^gamma in H's eigenbasis.

Kernel level: set AWD_KERNELS=generic|avx2|avx512|neon to force one.`,
	SilenceUsage:  true,
	SilenceErrors: true,
	PersistentPreRunE: func(*cobra.Command, []string) error {
		return kernels.InitError()
	},
}

func main() {
	if err := rootCmd.Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "awd:", err)
		os.Exit(1)
	}
}
