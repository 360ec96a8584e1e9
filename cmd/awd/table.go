package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/awd-toolkit/awd/awd"
	"github.com/awd-toolkit/awd/sweep"
)

func init() {
	var o options
	table := &cobra.Command{
		Use:   "table SWEEP | RESULTS.json...",
		Short: "Table 1 / Table 3 of the paper from a sweep or from results files (seeds)",
		Long: `table groups the last analysed epoch of each results file by its whole
protocol (data, classes, samples, model, widths, head, loss, training and
analysis settings: everything but the seeds) and prints, for MSE and CE, gamma
of each covariance as mean ± sample std over the files of a group, with n.
Runs of two protocols are never averaged: when several share a data set,
model and K, each gets a row and the protocol column names every setting in
which its protocol differs from another row's (in Markdown and CSV).
Runs that read other files under one data set's name are never averaged:
when two runs of a protocol record other fingerprints of the whole
training set their subsets were drawn from (config.data_source_sha256 of
awd run, awd analyze and awd reduce), whatever subsets they drew, or,
where one does not record it, two that draw the same subset record other
fingerprints of the data read (the owner file of a run's folder beside its
results.json, or the samples' hash of awd analyze and awd reduce), its runs
are split by training set (protocol column data_source, with the folders
that hold it, data_dir), those that record none by data folder (data_dir),
and said in a note. Runs whose training sets agree share a row, from any
folder.
Settings that cannot change a result do not split rows: the layer left to
the model's default and the same layer named, the other layers of
'analyze --layers' (a layer of it is that layer analysed alone with
--matrix-free), or a bootstrap's settings (a bootstrap changes no gamma),
except with --ci its replicates and groups, which change the bootstrap SE
that --ci shows, or the suppression experiments (--suppress and its
parameters, on by default in awd run, off in awd analyze), which change no
number of the table. The network and training of a run's results (model,
train, seed) and those awd analyze and awd reduce record of the checkpoint
(origin) are compared as one. A run given twice (the same file, a copy,
one checkpoint analysed twice, or a run's checkpoint analysed again: same
protocol, seeds and checkpoint, or training set, or data folder where that
is not recorded) counts once; the others
are listed as left out.
Files that cannot be used (no analysis, a failed fit) are listed, not
dropped silently. A file of 'awd analyze --layers' gives a row per layer;
a table of more than one layer has a layer column (Markdown and CSV).

SWEEP is a sweep folder or sweep file (awd sweep): the table of its finished
jobs, the others listed as left out. Otherwise the arguments are results.json
files of awd run, awd analyze or awd reduce. A cell of one run has no std
(blank in the CSV).

Table 1 is gamma of C and C_awd (the default, --table 1); Table 3 adds the
pair covariances C_pair and C_pair2 (--table 3); --covs chooses any of
C, C_awd, C_pair, C_pair2, C_mb, M2.`,
		Args: argCount(1, -1),
		RunE: func(cmd *cobra.Command, args []string) error { return tableCommand(cmd, &o, args) },
	}
	addFlags(table, &o, nil, "table", "covs", "csv", "ci")
	rootCmd.AddCommand(table)
}

// tableCommand is `awd table`.
func tableCommand(cmd *cobra.Command, o *options, args []string) error {
	covs := sweep.Table1Covs
	if o.table == "3" {
		covs = sweep.Table3Covs
	}
	if o.covs != "" {
		covs = strings.Split(o.covs, ",")
	}
	var reps []*awd.Report
	names, notes := args, []string(nil)
	if fi, err := os.Stat(args[0]); len(args) == 1 && err == nil && (fi.IsDir() || !strings.HasSuffix(args[0], ".json")) {
		// A job whose job.json does not read is left out with a note, as
		// one that has not finished is.
		s, err := openSweepWith(sweep.OpenForStatus, args[0], cmd.ErrOrStderr())
		if err != nil {
			if !fi.IsDir() {
				return fmt.Errorf("table reads a sweep folder or sweep file, or results .json files: %w", err)
			}
			return err
		}
		f := s.Finished()
		reps, names, notes = f.Reports, f.IDs(), f.Notes
	} else {
		for _, p := range args {
			fi, err := os.Stat(p)
			switch {
			case errors.Is(err, os.ErrNotExist):
				return fmt.Errorf("%s does not exist: table reads one sweep folder or sweep file (given alone), or results .json files (the results.json that awd run, train, analyze or reduce wrote)", p)
			case err == nil && fi.IsDir():
				return fmt.Errorf("%s is a folder: table reads one sweep (given alone) or results .json files", p)
			}
			r, err := awd.ReadReport(p)
			if err != nil {
				return err
			}
			reps = append(reps, r)
		}
	}
	tabulate := awd.MakeTable
	if o.ci {
		tabulate = awd.MakeTableCI
	}
	t := tabulate(reps, names, covs)
	if len(t.Rows) == 0 {
		// An empty table with exit status 0 reads as success.
		why := "none of them holds an analysed checkpoint (results of awd train alone have none)"
		if len(reps) == 0 {
			why = "no job of the sweep has finished yet"
		}
		for _, n := range append(notes, t.Notes...) {
			fmt.Fprintln(cmd.ErrOrStderr(), "note:", n)
		}
		return fmt.Errorf("nothing to tabulate: %s", why)
	}
	if o.csv {
		s, err := t.CSV()
		if err != nil {
			return err
		}
		fmt.Fprint(cmd.OutOrStdout(), s)
	} else {
		fmt.Fprint(cmd.OutOrStdout(), t.Markdown())
	}
	for _, n := range append(notes, t.Notes...) {
		fmt.Fprintln(cmd.ErrOrStderr(), "note:", n)
	}
	return nil
}
