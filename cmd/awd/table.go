package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/awd-toolkit/awd/awd"
)

func init() {
	var covs string
	var csvOut bool
	table := &cobra.Command{
		Use:   "table RESULTS.json...",
		Short: "Table 1 / Table 3 of the paper from several results files (seeds)",
		Long: `table groups the last analysed epoch of each results file by its whole
protocol (data, classes, samples, model, widths, head, loss, training and
analysis settings: everything but the seeds) and prints, for MSE and CE, gamma
of each covariance as mean ± sample std over the files of a group, with n.
Files that cannot be used (no analysis, a failed fit) are listed, not
dropped silently. Table 1 is --covs C,C_awd (the default); Table 3 adds the
pair covariances: --covs C,C_awd,C_pair,C_pair2.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cs := strings.Split(covs, ",")
			for _, c := range cs {
				if !awd.IsCovariance(c) {
					return fmt.Errorf("--covs %s: unknown covariance %q (known: %s)", covs, c, strings.Join(awd.CovarianceNames, ", "))
				}
			}
			var reps []*awd.Report
			for _, p := range args {
				r, err := awd.ReadReport(p)
				if err != nil {
					return err
				}
				reps = append(reps, r)
			}
			t := awd.MakeTable(reps, args, cs)
			if csvOut {
				s, err := t.CSV()
				if err != nil {
					return err
				}
				fmt.Fprint(cmd.OutOrStdout(), s)
			} else {
				fmt.Fprint(cmd.OutOrStdout(), t.Markdown())
			}
			for _, n := range t.Notes {
				fmt.Fprintln(cmd.ErrOrStderr(), "note:", n)
			}
			return nil
		},
	}
	table.Flags().StringVar(&covs, "covs", "C,C_awd", "covariances (C, C_awd, C_pair, C_pair2, C_mb, M2)")
	table.Flags().BoolVar(&csvOut, "csv", false, "CSV instead of Markdown")
	rootCmd.AddCommand(table)
}
