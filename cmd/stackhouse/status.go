package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/stackhouse/stackhouse/schema"
	"github.com/stackhouse/stackhouse/sync"
	"github.com/stackhouse/stackhouse/warehouse"
)

const statusUsage = `status [-config F]

Shows, per configured account: the last run and its result, how fresh the data is, live
row counts per table, the attachments the last run left for the next one to fetch (FILES
PENDING: the file host failed, or a blob was missing or damaged) and its error or warning;
then the last publish (Parquet, upload, and the read-only copy: replaced, or kept until when:
a copy is made at most every copy_interval and every 20x the last copy's time). A run whose process was killed shows
as interrupted once the next run of its account starts.

status never opens the live warehouse, so it cannot hold up a sync or serve: it reads the
status the writing process records next to the warehouse file (<warehouse>.status.json)
when a run starts and ends, after each batch and merge, and after each publish.`

func statusFlags(*flag.FlagSet) action { return status }

// status prints each configured account's last run, its age and the live
// row counts, as the writer last recorded them.
func status(ctx context.Context, in *invocation) error {
	cfg := in.cfg
	st, err := warehouse.ReadStatus(cfg.Warehouse.Path)
	if errors.Is(err, warehouse.ErrNoStatus) {
		if !fileExists(cfg.Warehouse.Path) {
			return noWarehouse(cfg)
		}
		return withHint(fmt.Errorf("no status recorded for %s yet", cfg.Warehouse.Path),
			"the next run (stackhouse sync, or serve) records it; status never opens the live warehouse")
	}
	if err != nil {
		return err
	}
	last := map[string]schema.Run{}
	for _, r := range st.Runs {
		last[r.AccountID] = r
	}
	now := time.Now()
	fmt.Fprintf(in.stdout, "as of %s (%s ago), recorded by the writing process in %s\n\n",
		st.WrittenAt.Local().Format("2006-01-02 15:04:05"), now.Sub(st.WrittenAt).Round(time.Second), warehouse.StatusPath(cfg.Warehouse.Path))
	tw := tabwriter.NewWriter(in.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ACCOUNT\tLAST RUN\tMODE\tRESULT\tAGE\tJOBS\tCANDIDATES\tSTAGE EVENTS\tATTACHMENTS\tFILES PENDING\tHIRES\tERROR")
	for _, a := range cfg.Accounts {
		counts := st.Counts[a.Subdomain]
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
		note := r.Error
		if r.Warning != "" {
			note = strings.TrimPrefix(note+"; ", "; ") + "warning: " + r.Warning
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%s\n", a.Subdomain, when, mode, result, age,
			counts["jobs"], counts["candidates"], counts["stage_events"], counts["attachments"], r.FilesPending, counts["hires"], note)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(in.stdout)
	fmt.Fprintln(in.stdout, publishLine("last publish", st.LastPublish, now))
	if st.LastPublish.Error != "" {
		fmt.Fprintln(in.stdout, publishLine("last successful publish", st.LastOK, now))
	}
	return nil
}

// publishLine says when a publish finished, how long it took and what it
// wrote, or that there was none.
func publishLine(what string, r warehouse.PublishRecord, now time.Time) string {
	if r.FinishedAt.IsZero() {
		return what + ": never"
	}
	line := fmt.Sprintf("%s: %s (%s ago), took %s, %d Parquet files and %.1f MB written",
		what, r.FinishedAt.Local().Format("2006-01-02 15:04:05"), now.Sub(r.FinishedAt).Round(time.Second),
		r.Took.Round(time.Millisecond), r.Stats.Files, float64(r.Stats.Bytes)/1e6)
	if r.Remote != "" {
		line += fmt.Sprintf(", %d objects and %.1f MB uploaded to %s", r.Stats.Uploaded, float64(r.Stats.UploadedBytes)/1e6, r.Remote)
	}
	switch {
	case r.Stats.Copied:
		line += fmt.Sprintf("; read-only copy replaced in %s", r.Stats.CopyTook.Round(time.Millisecond))
	case r.Stats.CopyStale:
		line += fmt.Sprintf("; read-only copy kept until %s (copy_interval, or 20× the last copy's time)",
			r.Stats.CopyDue.Local().Format("15:04:05"))
	}
	if r.Error != "" {
		line += "; FAILED: " + r.Error
	}
	return line
}

// noWarehouse is the error of a reading command run before any run made
// the warehouse.
func noWarehouse(cfg *sync.Config) error {
	return withHint(fmt.Errorf("no warehouse at %s", cfg.Warehouse.Path), "run 'stackhouse backfill' first (or 'stackhouse demo' to try it)")
}
