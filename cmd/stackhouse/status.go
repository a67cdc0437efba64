package main

import (
	"context"
	"flag"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/stackhouse/stackhouse/schema"
)

const statusUsage = `status [-config F]

Shows, per configured account: the last run and its result, how fresh the data is, and live
row counts per table.`

func statusFlags(*flag.FlagSet) action { return status }

// status prints each configured account's last run, its age and the live
// row counts.
func status(ctx context.Context, in *invocation) error {
	cfg := in.cfg
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
	tw := tabwriter.NewWriter(in.stdout, 0, 0, 2, ' ', 0)
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
