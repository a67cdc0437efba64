package main

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/stackhouse/stackhouse/schema"
)

func runStatus(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("status", "status [-config F]\n\n"+
		"Shows, per configured account: the last run and its result, how fresh the data is, and live\n"+
		"row counts per table.", stderr)
	cfgPath := configFlag(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := loadConfigForRead(*cfgPath)
	if err != nil {
		return err
	}
	db, err := openWarehouse(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	runs, err := db.LastRuns(ctx)
	if err != nil {
		return err
	}
	last := map[string]schema.Run{}
	for _, r := range runs {
		last[r.AccountID] = r
	}
	now := time.Now()
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ACCOUNT\tLAST RUN\tMODE\tRESULT\tAGE\tJOBS\tCANDIDATES\tSTAGE EVENTS\tATTACHMENTS\tHIRES\tERROR")
	for _, a := range cfg.Accounts {
		counts, err := db.Counts(ctx, a.Subdomain)
		if err != nil {
			return err
		}
		r, ok := last[a.Subdomain]
		when, age, mode, result := "never", "-", "-", "-"
		if ok {
			when = r.StartedAt.Local().Format("2006-01-02 15:04")
			mode, result = r.Mode, r.Status
			end := r.FinishedAt
			if end.IsZero() {
				end = r.StartedAt
			}
			age = now.Sub(end).Round(time.Second).String()
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%d\t%d\t%d\t%d\t%s\n", a.Subdomain, when, mode, result, age,
			counts["jobs"], counts["candidates"], counts["stage_events"], counts["attachments"], counts["hires"], r.Error)
	}
	return tw.Flush()
}
