// Command stackhouse keeps an analytics warehouse of ApplicantStack hiring
// data: it syncs accounts into DuckDB, publishes Parquet and a read-only
// copy for BI tools, and answers hiring questions with canned SQL.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"
	_ "time/tzdata" // account time zones work on machines without tzdata

	"github.com/stackhouse/stackhouse/queries"
	"github.com/stackhouse/stackhouse/sync"
)

// command is one subcommand. run parses its flags, declared by flags, and
// then calls the action flags returned.
type command struct {
	name    string
	summary string
	usage   string // after "Usage: stackhouse ": synopsis, a blank line, what it does
	flags   func(fs *flag.FlagSet) action
	// config adds -config: the action gets the loaded configuration.
	config bool
	// readOnly loads that configuration for a command that only reads the
	// warehouse (loadConfigForRead): no account token or webhook secret,
	// nor the variables and files they name, is needed.
	readOnly bool
	// interspersed lets flags follow positional arguments
	// ("query time_to_fill -format csv").
	interspersed bool
	// noArgs refuses positional arguments.
	noArgs bool
}

// action is a command's body, run once its flags are parsed.
type action func(ctx context.Context, in *invocation) error

// invocation is what an action works with.
type invocation struct {
	args   []string     // positional arguments
	cfg    *sync.Config // the configuration, for commands that take -config
	stdout io.Writer
	stderr io.Writer
}

func commands() []command {
	return []command{
		{name: "sync", summary: "incremental sync of every (or one) account", usage: syncUsage, flags: syncFlags, config: true},
		{name: "backfill", summary: "one-shot, resumable full load with a progress bar", usage: backfillUsage, flags: backfillFlags, config: true},
		{name: "export", summary: "publish Parquet and the read-only database now", usage: exportUsage, flags: exportFlags, config: true, readOnly: true},
		{name: "lake", summary: "write a DuckDB file of views over the Parquet tree (all shards)", usage: lakeUsage, flags: lakeFlags},
		{name: "status", summary: "last run, freshness and row counts per account", usage: statusUsage, flags: statusFlags, config: true, readOnly: true},
		{name: "query", summary: "run a canned hiring metric (query -list shows them)", usage: queryUsage, flags: queryFlags, interspersed: true},
		{name: "report", summary: "write a self-contained HTML report with charts", usage: reportUsage, flags: reportFlags},
		{name: "serve", summary: "daemon: scheduled syncs, webhooks, health and metrics", usage: serveUsage, flags: serveFlags, config: true, noArgs: true},
		{name: "demo", summary: "run everything against the built-in fake ApplicantStack", usage: demoUsage, flags: demoFlags},
		{name: "api", summary: "raw API passthrough for debugging: api GET /api/jobs/1", usage: apiUsage, flags: apiFlags},
		{name: "fake-api", summary: "run the fake ApplicantStack server standalone", usage: fakeAPIUsage, flags: fakeAPIFlags, noArgs: true},
		{name: "version", summary: "print the version, Go, DuckDB and schema versions", usage: "version", flags: versionFlags},
	}
}

// invoke parses the command's flags, loads the configuration when it takes
// one, and runs it.
func (c command) invoke(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags(c.name, c.usage, stderr)
	var cfgPath *string
	if c.config {
		cfgPath = configFlag(fs)
	}
	act := c.flags(fs)
	parse := parseFlags
	if c.interspersed {
		parse = parseInterspersed
	}
	if err := parse(fs, args); err != nil {
		return err
	}
	if c.noArgs && fs.NArg() > 0 {
		return &usageError{msg: fmt.Sprintf("%s: unexpected argument %q", c.name, fs.Arg(0)), hint: "run 'stackhouse " + c.name + " -h' for the flags"}
	}
	if lv := os.Getenv("LOG_LEVEL"); lv != "" {
		if _, err := sync.ParseLogLevel(lv); err != nil {
			return fmt.Errorf("LOG_LEVEL: %w", err)
		}
	}
	in := &invocation{args: fs.Args(), stdout: stdout, stderr: stderr}
	if cfgPath != nil {
		load := loadConfig
		if c.readOnly {
			load = loadConfigForRead
		}
		cfg, err := load(*cfgPath)
		if err != nil {
			return err
		}
		in.cfg = cfg
	}
	return act(ctx, in)
}

// usageError makes main print the command's usage hint after the error.
type usageError struct{ msg, hint string }

func (e *usageError) Error() string { return e.msg }

// hintError carries a suggestion that main prints as "hint: …".
type hintError struct {
	err  error
	hint string
}

func (e *hintError) Error() string { return e.err.Error() }
func (e *hintError) Unwrap() error { return e.err }

func withHint(err error, hint string) error {
	if err == nil {
		return nil
	}
	return &hintError{err, hint}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go keepGCHeadroom(ctx, 100*time.Millisecond)
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// run dispatches a command and returns the process exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		printHelp(stderr)
		return 2
	}
	name := args[0]
	switch name {
	case "help", "-h", "-help", "--help":
		if len(args) > 1 {
			return run(ctx, []string{args[1], "-h"}, stdout, stderr)
		}
		printHelp(stdout)
		return 0
	case "-version", "--version":
		name = "version"
	}
	for _, c := range commands() {
		if c.name != name {
			continue
		}
		err := c.invoke(ctx, args[1:], stdout, stderr)
		switch {
		case err == nil:
			return 0
		case errors.Is(err, flag.ErrHelp):
			return 0
		case errors.Is(err, errFlagParse):
			return 2
		}
		fmt.Fprintf(stderr, "error: %v\n", err)
		var he *hintError
		if errors.As(err, &he) && he.hint != "" {
			fmt.Fprintf(stderr, "hint: %s\n", he.hint)
		}
		var ue *usageError
		if errors.As(err, &ue) {
			if ue.hint != "" {
				fmt.Fprintf(stderr, "hint: %s\n", ue.hint)
			}
			return 2
		}
		return 1
	}
	fmt.Fprintf(stderr, "error: unknown command %q\n", name)
	if s := closest(name); s != "" {
		fmt.Fprintf(stderr, "hint: did you mean %q? Run 'stackhouse help' for the list.\n", s)
	} else {
		fmt.Fprintln(stderr, "hint: run 'stackhouse help' for the list of commands.")
	}
	return 2
}

func printHelp(w io.Writer) {
	fmt.Fprint(w, `stackhouse keeps an analytics warehouse of ApplicantStack hiring data.

Usage:
  stackhouse <command> [flags]

Commands:
`)
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, `
Start here:
  stackhouse demo                      see it all work against a built-in fake account
  stackhouse sync -config stackhouse.yaml
  stackhouse query -list

Run 'stackhouse <command> -h' for a command's flags.
`)
}

func closest(name string) string {
	best, bestD := "", 3
	for _, c := range commands() {
		if d := queries.EditDistance(name, c.name); d < bestD {
			best, bestD = c.name, d
		}
	}
	return best
}

var errFlagParse = errors.New("flag parse error")

// newFlags returns a flag set whose errors are printed once, by the flag
// package, with the command's usage.
func newFlags(name, usage string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: stackhouse %s\n\n", usage)
		n := 0
		fs.VisitAll(func(*flag.Flag) { n++ })
		if n > 0 {
			fmt.Fprintln(stderr, "Flags:")
			fs.PrintDefaults()
		}
	}
	return fs
}

// parseFlags parses args and maps flag errors to errFlagParse (already
// printed) or flag.ErrHelp.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errFlagParse
	}
	return nil
}
