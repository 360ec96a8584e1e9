// Command awd trains small networks and measures how SGD's gradient noise
// relates to the curvature of the loss (see README.md). It is a thin shell
// over the library: flags become the configs of packages nn and awd, and
// results are printed.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/awd-toolkit/awd/awd"
	"github.com/awd-toolkit/awd/kernels"
)

// version is set by -ldflags "-X main.version=..." in release builds.
var version = "0.2.0-dev"

var rootCmd = &cobra.Command{
	Use:   "awd",
	Short: "measure how SGD noise covariance relates to loss curvature",
	Long: `awd trains small MLPs and CNNs and, for one weight matrix, computes the SGD
noise covariance C, the Hessian H and the Activity-Weight-Duality prediction,
then fits the power law c_i ~ lambda_i^gamma in H's eigenbasis.

Every flag has one meaning in every command; bad input ends with one line
'awd: ...' and exit status 1. Kernel level: set AWD_KERNELS=generic|avx2|avx512|neon
to force one.`,
	SilenceUsage:  true,
	SilenceErrors: true,
	PersistentPreRunE: func(*cobra.Command, []string) error {
		return kernels.InitError()
	},
}

func main() {
	awd.Tool = "awd " + version
	rootCmd.SetFlagErrorFunc(flagParseError)
	if err := rootCmd.Execute(); err != nil {
		if word, ok := cobraUnknownCommand(err); ok {
			err = unknownCommand(rootCmd, word)
		}
		// The library names the remedies of a refused output folder in its
		// terms (RunOptions.Fresh); here they are flags.
		fmt.Fprintln(os.Stderr, "awd:", oneLine(awd.SayRemedy(err, flagRemedy)))
		os.Exit(1)
	}
}

// oneLine keeps the first line of an error message, so that the CLI's
// promise of one line holds whatever a library wraps, and drops the "awd: "
// of wrapped library errors (the line already starts with it). An
// interrupted command says how to go on.
func oneLine(err error) string {
	if errors.Is(err, context.Canceled) {
		return "interrupted; the output folder is consistent: the same command resumes it"
	}
	s, _, _ := strings.Cut(err.Error(), "\n")
	return strings.ReplaceAll(strings.TrimPrefix(s, "awd: "), ": awd: ", ": ")
}
