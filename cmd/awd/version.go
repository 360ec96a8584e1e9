package main

import (
	"fmt"
	"runtime"

	"github.com/spf13/cobra"

	"github.com/awd-toolkit/awd/kernels"
)

func init() {
	rootCmd.AddCommand(&cobra.Command{
		Use:   "version",
		Short: "print the version, Go version, CPU and kernel level",
		Args:  cobra.NoArgs,
		Run: func(cmd *cobra.Command, _ []string) {
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "awd %s\n", version)
			fmt.Fprintf(w, "go: %s %s/%s\n", runtime.Version(), runtime.GOOS, runtime.GOARCH)
			fmt.Fprintf(w, "cpu: %s\n", kernels.CPUName())
			fmt.Fprintf(w, "kernels: %s (available: %v)\n", kernels.Current(), kernels.Available())
		},
	})
}
