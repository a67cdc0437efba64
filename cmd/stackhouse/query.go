package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/robfig/cron/v3"
	"golang.org/x/term"

	"github.com/stackhouse/stackhouse/queries"
	"github.com/stackhouse/stackhouse/sync"
)

const queryUsage = `query -list
       stackhouse query NAME [-config F] [-grain G] [-columns C,C] [-limit N] [-account A] [-from YYYY-MM-DD] [-to YYYY-MM-DD] [-as-of YYYY-MM-DD] [-all-jobs] [-format table|csv|json|arrow]

Runs a canned hiring metric against the warehouse (or, while another stackhouse process holds
it, against the published read-only copy), at the metric's default grain (the account for
most) or the one -grain names; -list shows each metric's grains. Dates are calendar dates in
each account's time zone. Needs no account token. -format arrow writes an Arrow IPC stream
that pandas (pyarrow.ipc.open_stream) and polars (pl.read_ipc_stream) read directly.

On a terminal, a table fits it: the first rows (-limit, default 50) and the columns
that fit its width (or $COLUMNS), with a note naming what was left out; -columns picks
columns, -limit 0 shows every row, and -format csv writes everything.`

func queryFlags(fs *flag.FlagSet) action {
	list := fs.Bool("list", false, "list the metrics with their grains and one-line definitions")
	qf := metricFlags(fs)
	grain := fs.String("grain", "", "the level to answer at, e.g. account, department, job (default: the metric's first grain)")
	allJobs := fs.Bool("all-jobs", false, "pipeline_snapshot: count applications on every job, not only open ones")
	format := fs.String("format", "table", "output: table, csv, json or arrow")
	v := &view{}
	fs.Func("columns", "only these `columns`, comma-separated, in this order (e.g. account_id,department,median_days)", func(s string) error {
		for c := range strings.SplitSeq(s, ",") {
			if c = strings.TrimSpace(c); c != "" {
				v.columns = append(v.columns, c)
			}
		}
		if len(v.columns) == 0 {
			return errors.New("no column named")
		}
		return nil
	})
	v.limit = -1
	fs.Func("limit", "at most `N` rows, 0 = all (default: 50 for a table on a terminal, else all)", func(s string) error {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return errors.New("want a number of rows, 0 for all")
		}
		v.limit = n
		return nil
	})
	return func(ctx context.Context, in *invocation) error {
		if *list {
			return listMetrics(in.stdout)
		}
		return query(ctx, in, qf, *format, *grain, *allJobs, v)
	}
}

// view is how much of a result query prints: -columns and -limit.
type view struct {
	columns []string
	limit   int // -1: the default
}

// defaultTableRows is how many rows a table on a terminal shows unless
// -limit says otherwise.
const defaultTableRows = 50

// cut applies the view to res: the columns picked, then for a table the
// rows and columns that fit the screen (width 0: any), writing a note on
// what was left out to note.
func (v *view) cut(res *queries.Result, table bool, width int, tty bool, note io.Writer) (*queries.Result, error) {
	if len(v.columns) > 0 {
		var err error
		if res, err = res.Select(v.columns...); err != nil {
			return nil, &usageError{msg: err.Error(), hint: "-columns takes column names separated by commas"}
		}
	}
	limit := v.limit
	if limit < 0 {
		limit = 0
		if table && tty {
			limit = defaultTableRows
		}
	}
	if !table {
		width = 0
	}
	res, rowsLeft, colsLeft := res.Fit(width, limit)
	if rowsLeft > 0 {
		fmt.Fprintf(note, "note: %s more %s not shown; -limit 0 shows every row, -format csv writes them all\n",
			formatInt(rowsLeft), plural(rowsLeft, "row"))
	}
	if len(colsLeft) > 0 {
		fmt.Fprintf(note, "note: %s wider than the screen not shown (%s); pick columns with -columns, or use -format csv\n",
			plural(len(colsLeft), "column"), strings.Join(colsLeft, ", "))
	}
	return res, nil
}

// screenWidth is the width of the terminal w writes to, else $COLUMNS, else
// 0 (unknown: no limit).
func screenWidth(w io.Writer) int {
	if f, ok := w.(*os.File); ok && isTerminal(w) {
		if cols, _, err := term.GetSize(int(f.Fd())); err == nil && cols > 0 {
			return cols
		}
	}
	n, _ := strconv.Atoi(os.Getenv("COLUMNS"))
	return max(n, 0)
}

// query runs the metric named by the one positional argument at grain (""
// = its default); allJobs is pipeline_snapshot's -all-jobs.
func query(ctx context.Context, in *invocation, qf *metricOptions, format, grain string, allJobs bool, v *view) error {
	stdout, stderr := in.stdout, in.stderr
	if len(in.args) != 1 {
		return &usageError{msg: "query wants one metric name", hint: "stackhouse query -list shows them; e.g. stackhouse query time_to_fill"}
	}
	m, err := queries.Lookup(in.args[0])
	if err != nil {
		return &usageError{msg: err.Error()}
	}
	f, err := queries.ParseFormat(format)
	if err != nil {
		return &usageError{msg: err.Error(), hint: "-format table, csv, json or arrow"}
	}
	p, err := qf.params()
	if err != nil {
		return err
	}
	p.Grain, p.AllJobs = grain, allJobs
	if _, err := m.Query(p.Grain); err != nil {
		return &usageError{msg: err.Error(), hint: "stackhouse query -list shows each metric's grains"}
	}
	if f == queries.FormatArrow && isTerminal(stdout) {
		return &usageError{msg: "-format arrow writes binary", hint: "redirect it: stackhouse query " + m.Name + " -format arrow > " + m.Name + ".arrows"}
	}
	db, closeDB, err := openForRead(ctx, *qf.config, stderr)
	if err != nil {
		return err
	}
	defer closeDB()
	res, err := queries.Run(ctx, db, m, p)
	if err != nil {
		return withHint(err, "stackhouse query -list shows each metric's parameters")
	}
	if res, err = v.cut(res, f == queries.FormatTable, screenWidth(stdout), isTerminal(stdout), stderr); err != nil {
		return err
	}
	return queries.Write(stdout, f, res)
}

func listMetrics(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "METRIC\tGRAINS\tPARAMETERS\tDEFINITION")
	for _, m := range queries.List() {
		grains := strings.Join(m.Grains, ",")
		if grains == "" {
			grains = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", m.Name, grains, strings.Join(m.Params, ","), m.Summary())
	}
	return tw.Flush()
}

type metricOptions struct {
	config, account, from, to, asOf *string
}

func metricFlags(fs *flag.FlagSet) *metricOptions {
	return &metricOptions{
		config:  configFlag(fs),
		account: fs.String("account", "", "only this account (subdomain); default all"),
		from:    fs.String("from", "", "start of the date range, YYYY-MM-DD (inclusive)"),
		to:      fs.String("to", "", "end of the date range, YYYY-MM-DD (inclusive)"),
		asOf:    fs.String("as-of", "", "compute as of the end of this date, ignoring anything later, YYYY-MM-DD (default today)"),
	}
}

func (o *metricOptions) params() (queries.Params, error) {
	var p queries.Params
	p.Account = *o.account
	for _, d := range []struct {
		flag, val string
		dst       *time.Time
	}{{"-from", *o.from, &p.From}, {"-to", *o.to, &p.To}, {"-as-of", *o.asOf, &p.AsOf}} {
		if d.val == "" {
			continue
		}
		t, err := time.Parse("2006-01-02", d.val)
		if err != nil {
			return p, &usageError{msg: fmt.Sprintf("%s %q is not a date", d.flag, d.val), hint: "write dates as YYYY-MM-DD, e.g. " + d.flag + " 2026-01-31"}
		}
		*d.dst = t
	}
	if err := p.Validate(); err != nil {
		return p, &usageError{msg: err.Error(), hint: "-from must be on or before -to"}
	}
	return p, nil
}

// parseInterspersed parses flags that may come before or after positional
// arguments ("query time_to_fill -format csv").
func parseInterspersed(fs *flag.FlagSet, args []string) error {
	var pos []string
	for {
		if err := parseFlags(fs, args); err != nil {
			return err
		}
		if fs.NArg() == 0 {
			break
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
	return fs.Parse(pos) // leaves pos as the positional arguments
}

// openForRead opens what query and report read: the published read-only
// copy, never the live warehouse while a copy is configured, so that a
// reader cannot take the lock a sync or serve needs (a sync starting while
// a query held the live file would fail). Only with warehouse.published_path
// set to "" does it open the live file. It needs no account token.
func openForRead(ctx context.Context, cfgPath string, stderr io.Writer) (*sql.DB, func(), error) {
	cfg, err := loadConfigForRead(cfgPath)
	if err != nil {
		return nil, nil, err
	}
	pub := cfg.Warehouse.PublishedPath
	if pub == "" {
		if !fileExists(cfg.Warehouse.Path) {
			return nil, nil, noWarehouse(cfg)
		}
		db, err := openWarehouse(ctx, cfg, newLogger(stderr, cfg.LogLevel, cfg.LogFormat))
		if err != nil {
			return nil, nil, err
		}
		return db.SQL(), func() { db.Close() }, nil
	}
	info, err := os.Stat(pub)
	if err != nil {
		if fileExists(cfg.Warehouse.Path) {
			return nil, nil, withHint(fmt.Errorf("nothing published yet at %s", pub),
				"the next successful run publishes it, or run 'stackhouse export'")
		}
		return nil, nil, noWarehouse(cfg)
	}
	fmt.Fprintf(stderr, "reading the published copy %s (replaced %s ago)\n", pub, time.Since(info.ModTime()).Round(time.Second))
	return openPublished(cfg)
}

func openPublished(cfg *sync.Config) (*sql.DB, func(), error) {
	db, err := sql.Open("duckdb", cfg.Warehouse.PublishedPath+"?access_mode=read_only")
	if err != nil {
		return nil, nil, err
	}
	if err := db.Ping(); err != nil {
		db.Close()
		return nil, nil, err
	}
	return db, func() { db.Close() }, nil
}

const reportUsage = `report [-config F] [-out report.html] [-account A] [-from D] [-to D] [-as-of D]

Writes one self-contained HTML file (no external URLs; opens offline, prints cleanly): headline
tiles (median time to fill and to hire, open jobs, active applications, hires, offer acceptance),
each compared with the previous period of the same length; time to fill and to hire per month;
hires per month; the funnel; time in stage; why candidates leave; time to fill by department;
source of hire; the pipeline; the oldest open jobs; data freshness. Charts are inline SVG with
their tables folded under them; several accounts get one section each under combined tiles.

The period is -from to -to, by default the 90 days up to -to (else -as-of, else today). A sync
that failed, or a last successful sync older than three intervals of the configured sync schedule
(3 hours with the default hourly sync), is said at the top of the page, in red.`

func reportFlags(fs *flag.FlagSet) action {
	qf := metricFlags(fs)
	out := fs.String("out", "report.html", "the HTML file to write")
	return func(ctx context.Context, in *invocation) error { return report(ctx, in, qf, *out) }
}

// report writes the HTML report of the metrics to out.
func report(ctx context.Context, in *invocation, qf *metricOptions, out string) error {
	if len(in.args) > 0 {
		return &usageError{msg: fmt.Sprintf("unexpected argument %q", in.args[0]), hint: "stackhouse report -out report.html"}
	}
	p, err := qf.params()
	if err != nil {
		return err
	}
	cfg, err := loadConfigForRead(*qf.config)
	if err != nil {
		return err
	}
	db, closeDB, err := openForRead(ctx, *qf.config, in.stderr)
	if err != nil {
		return err
	}
	defer closeDB()
	path, err := writeReport(ctx, db, p, queries.ReportOptions{StaleAfter: staleAfter(cfg.Schedule, time.Now())}, out)
	if err != nil {
		return err
	}
	fmt.Fprintf(in.stdout, "report: %s\n", path)
	return nil
}

// writeReport writes the report next to its final name and renames it into
// place, so a browser never opens half a file.
func writeReport(ctx context.Context, db *sql.DB, p queries.Params, o queries.ReportOptions, out string) (string, error) {
	tmp := out + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return "", err
	}
	if err := queries.Report(ctx, db, p, o, f); err != nil {
		f.Close()
		os.Remove(tmp)
		return "", err
	}
	if err := f.Close(); err != nil {
		return "", err
	}
	if err := os.Rename(tmp, out); err != nil {
		return "", err
	}
	return absPath(out), nil
}

func absPath(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}

// staleAfter is when the report calls an account's data stale: three
// intervals of the configured sync schedule (else the full scan's), so one
// failed run is no alarm and two are; the report's default (3 hours, three
// default hourly syncs) when neither is set. The tail pass is left out: it
// reads only the last pages.
func staleAfter(s sync.ScheduleConfig, now time.Time) time.Duration {
	for _, expr := range []string{s.Sync, s.Full} {
		sched, err := cron.ParseStandard(expr)
		if expr == "" || err != nil {
			continue
		}
		next := sched.Next(now)
		if d := sched.Next(next).Sub(next); d > 0 {
			return 3 * d
		}
	}
	return queries.DefaultStaleAfter
}
