package main

import (
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/awd-toolkit/awd/awd"
	"github.com/awd-toolkit/awd/awd/figures"
)

const plotHelp = `plot reads a results.json written by 'awd run' or 'awd analyze' and the
.npz arrays beside it, and draws, per analysed epoch E:

  powerlaw_eE   c_i against lambda_i on log-log axes for C (blue) and C_awd
                (red), each with its least-squares line (slope gamma); the
                dashed lines are the Thm 5.1 bounds on C_awd,
                (sigma^2/B) lambda^2 below and (sigma^2/B) lambda_loc_max lambda
                above (the latter only when every H_n is PSD, as for CE).
                Points on a straight line = a power law; a slope between 1
                and 2 = the superlinear relation of the paper (Fig. 2).
  spectra_eE    lambda_i of H and c_i of C against i.
  rho_eE        |rho_ij| of C in H's top eigenbasis (left) and in a random
                orthonormal frame (right), white 0 through yellow to red 1: a
                pale left panel with a red diagonal means C is nearly diagonal in H's
                eigenbasis; the right panel shows the chance level (Fig. 1).
  suppression_eE  s'_i against lambda'_i after each intervention (Fig. 3):
                'mean' forces gamma = 1, 'rank1' should change little.

and, when more than one epoch was analysed, gamma_epochs: gamma of C and
C_awd (± SE) over training. A figure that cannot be drawn (no positive
values for a log axis, arrays missing) is skipped with a note; a file that
cannot be written (read-only or full disk) ends the command with an error.

The folder of figures holds those of one run: awd-figures.json records
which (its run id and results file) and the figures drawn. A folder with
another run's figures, or with figures but no record (an older awd), is
refused: use another --out, or --fresh to remove those figures first. (The
default folder, figures/ beside the results file, is the run's own: its
figures without a record are taken as this run's.)
Drawing the same run again removes its earlier figures that it does not
draw again. Files that plot did not write are never removed. A plot locks
its folder while it draws: a second plot into the same folder at the same
time is refused, naming the one that holds it.`

func init() {
	var out string
	var o options
	cmd := &cobra.Command{
		Use:   "plot RESULTS.json",
		Short: "draw the figures (PNG and SVG) of a results file",
		Long:  plotHelp,
		Args:  argCount(1, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			rep, err := awd.ReadReport(args[0])
			if err != nil {
				return err
			}
			if len(rep.Checkpoints) == 0 {
				return fmt.Errorf("%s has no analysed epoch: nothing to plot", args[0])
			}
			if out == "" {
				out = filepath.Join(filepath.Dir(args[0]), "figures")
			}
			files, notes, err := figures.Draw(rep, args[0], out, o.fresh)
			for _, f := range files {
				fmt.Fprintln(cmd.OutOrStdout(), f)
			}
			for _, n := range notes {
				fmt.Fprintln(cmd.ErrOrStderr(), "note:", n)
			}
			if err == nil && len(files) == 0 {
				// Exit status 0 with nothing drawn reads as success.
				return fmt.Errorf("%s: no figure drawn (the notes above say why)", args[0])
			}
			return err
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "folder for the figures (default: figures/ beside the results file)")
	addFlags(cmd, &o, nil, "fresh")
	rootCmd.AddCommand(cmd)
}
