package main

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
)

// argCount checks the number of a command's arguments, lo to hi (hi < 0:
// no limit), and says what the command takes and how to call it: cobra's
// own "accepts 1 arg(s), received 0" names neither the argument nor the
// remedy.
func argCount(lo, hi int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		n := len(args)
		if n >= lo && (hi < 0 || n <= hi) {
			return nil
		}
		got := "none given"
		if n > 0 {
			got = fmt.Sprintf("%d given (%s)", n, strings.Join(quoteAll(args), " "))
		}
		usage := "usage: " + cmd.UseLine()
		if cmd.HasAvailableSubCommands() {
			var subs []string
			for _, c := range cmd.Commands() {
				if c.IsAvailableCommand() {
					subs = append(subs, c.Name())
				}
			}
			usage += " or " + cmd.CommandPath() + " COMMAND (" + strings.Join(subs, ", ") + ")"
		}
		// The CLI's line starts with "awd: " already.
		name := strings.TrimPrefix(cmd.CommandPath(), cmd.Root().Name()+" ")
		return fmt.Errorf("%s takes %s, %s; %s (%s --help says more)",
			name, argWant(cmd, lo, hi), got, usage, cmd.CommandPath())
	}
}

// argWant says how many arguments a command takes and what they are, from
// its Use line ("analyze CHECKPOINT.npz" takes one CHECKPOINT.npz).
func argWant(cmd *cobra.Command, lo, hi int) string {
	_, what, _ := strings.Cut(cmd.Use, " ")
	switch {
	case hi == 0:
		return "no arguments"
	case lo == hi && lo == 1:
		return "one argument, " + what
	case lo == hi:
		return fmt.Sprintf("%d arguments, %s", lo, what)
	case hi < 0 && lo == 1:
		return "at least one argument, " + what
	case hi < 0:
		return fmt.Sprintf("at least %d arguments, %s", lo, what)
	case hi == lo+1:
		return fmt.Sprintf("%d or %d arguments, %s", lo, hi, what)
	}
	return fmt.Sprintf("%d to %d arguments, %s", lo, hi, what)
}

func quoteAll(s []string) []string {
	q := make([]string, len(s))
	for i, v := range s {
		q[i] = fmt.Sprintf("%q", v)
	}
	return q
}

// unknownCommand is the error of a word that is no command of cmd: the
// commands there are, and the nearest ones when the word looks like a typo.
func unknownCommand(cmd *cobra.Command, word string) error {
	var subs []string
	for _, c := range cmd.Commands() {
		if c.IsAvailableCommand() {
			subs = append(subs, c.Name())
		}
	}
	if cmd.SuggestionsMinimumDistance <= 0 {
		cmd.SuggestionsMinimumDistance = 2
	}
	msg := fmt.Sprintf("unknown command %q; the commands are %s (%s --help says more)", word, strings.Join(subs, ", "), cmd.CommandPath())
	if near := cmd.SuggestionsFor(word); len(near) > 0 {
		msg = fmt.Sprintf("unknown command %q: did you mean %s? The commands are %s (%s --help says more)", word, strings.Join(near, " or "), strings.Join(subs, ", "), cmd.CommandPath())
	}
	return errors.New(msg)
}

// cobraUnknownCommand recognises cobra's error for an unknown command of
// awd itself (`unknown command "plto" for "awd"`, which cobra raises
// before any command runs) and returns the word.
func cobraUnknownCommand(err error) (string, bool) {
	rest, ok := strings.CutPrefix(err.Error(), "unknown command ")
	if !ok {
		return "", false
	}
	q, err2 := strconv.QuotedPrefix(rest)
	if err2 != nil || !strings.HasPrefix(rest[len(q):], ` for "`+rootCmd.Name()+`"`) {
		return "", false
	}
	word, err2 := strconv.Unquote(q)
	return word, err2 == nil
}
