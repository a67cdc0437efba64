package queries

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"math/big"
	"reflect"
	"slices"
	"strings"
	"time"

	duckdb "github.com/duckdb/duckdb-go/v2"
)

// dateLayout is how dates are bound and printed.
const dateLayout = "2006-01-02"

// Params are the values a metric's named parameters are bound to, and the
// grain it answers at. The zero value means all accounts, all time, as of
// today (in each account's time zone), at the metric's default grain.
type Params struct {
	// Account limits the metric to one ApplicantStack account (subdomain);
	// "" means all accounts.
	Account string
	// From and To bound the metric's natural date (hire date, application
	// date, ...) inclusively, as local dates of each account; a zero time
	// leaves that side open. Only the calendar date counts, read in the
	// time's own location.
	From, To time.Time
	// AsOf is the date the metric is computed at: everything after the end
	// of that day (in each account's zone) is ignored. Zero means today in
	// each account's zone, evaluated by the database.
	AsOf time.Time
	// Grain is the level the metric answers at (Metric.Grains); "" means
	// its default.
	Grain string
	// AllJobs makes pipeline_snapshot count applications on every job, not
	// only on jobs open at as_of.
	AllJobs bool
}

// Validate reports parameters that cannot make sense for any metric: From
// after To.
func (p Params) Validate() error {
	if !p.From.IsZero() && !p.To.IsZero() && day(p.From) > day(p.To) {
		return fmt.Errorf("queries: from %s is after to %s", day(p.From), day(p.To))
	}
	return nil
}

// check validates p for m: Validate, plus an error naming any parameter set
// that m does not use, so a silently ignored filter cannot mislead.
func (p Params) check(m Metric) error {
	if err := p.Validate(); err != nil {
		return err
	}
	set := map[string]bool{
		ParamAccount: p.Account != "",
		ParamFrom:    !p.From.IsZero(),
		ParamTo:      !p.To.IsZero(),
		ParamAsOf:    !p.AsOf.IsZero(),
		ParamAllJobs: p.AllJobs,
	}
	for _, name := range knownParams {
		if set[name] && !m.Takes(name) {
			return fmt.Errorf("queries: %s does not take %s (it takes %s)", m.Name, name, strings.Join(m.Params, ", "))
		}
	}
	_, err := m.Query(p.Grain)
	return err
}

// forMetric returns p with the parameters m does not use cleared, for
// callers such as Report that apply one Params to several metrics.
func (p Params) forMetric(m Metric) Params {
	if !m.Takes(ParamAccount) {
		p.Account = ""
	}
	if !m.Takes(ParamFrom) {
		p.From = time.Time{}
	}
	if !m.Takes(ParamTo) {
		p.To = time.Time{}
	}
	if !m.Takes(ParamAsOf) {
		p.AsOf = time.Time{}
	}
	if !m.Takes(ParamAllJobs) {
		p.AllJobs = false
	}
	if !slices.Contains(m.Grains, p.Grain) {
		p.Grain = ""
	}
	return p
}

// args binds every parameter of the params CTE; unset ones are NULL. Dates
// are bound as text and cast to DATE in SQL, so no time zone conversion
// can move them.
func (p Params) args() []any {
	date := func(t time.Time) any {
		if t.IsZero() {
			return nil
		}
		return day(t)
	}
	var account, allJobs any
	if p.Account != "" {
		account = p.Account
	}
	if p.AllJobs {
		allJobs = true
	}
	return []any{
		sql.Named(ParamAccount, account),
		sql.Named(ParamFrom, date(p.From)),
		sql.Named(ParamTo, date(p.To)),
		sql.Named(ParamAsOf, date(p.AsOf)),
		sql.Named(ParamAllJobs, allJobs),
	}
}

func day(t time.Time) string { return t.Format(dateLayout) }

// Result is a metric's answer. Types holds each column's DuckDB type name
// (VARCHAR, BIGINT, DOUBLE, DATE, TIMESTAMPTZ, ...). Row values are nil,
// string, int64, float64, bool or time.Time (in UTC; a DATE is midnight
// UTC); DECIMAL and HUGEINT arrive as float64 and int64.
type Result struct {
	Columns []string
	Types   []string
	Rows    [][]any
}

// Run executes m at p.Grain on db with p bound to its parameters and reads
// the whole answer. It returns an error, before touching db, when p is
// invalid, sets a parameter m does not take or names a grain m lacks. db
// must hold the shared definitions (CreateViews, or a published copy).
func Run(ctx context.Context, db *sql.DB, m Metric, p Params) (*Result, error) {
	if err := p.check(m); err != nil {
		return nil, err
	}
	query, err := m.Query(p.Grain)
	if err != nil {
		return nil, err
	}
	rows, err := db.QueryContext(ctx, query, p.args()...)
	if err != nil {
		return nil, fmt.Errorf("metric %s: %w", m.Name, err)
	}
	defer rows.Close()
	res, err := readRows(rows)
	if err != nil {
		return nil, fmt.Errorf("metric %s: %w", m.Name, err)
	}
	return res, nil
}

func readRows(rows *sql.Rows) (*Result, error) {
	cts, err := rows.ColumnTypes()
	if err != nil {
		return nil, err
	}
	res := &Result{Rows: [][]any{}}
	for _, ct := range cts {
		res.Columns = append(res.Columns, ct.Name())
		res.Types = append(res.Types, ct.DatabaseTypeName())
	}
	ptrs := make([]any, len(cts))
	for rows.Next() {
		row := make([]any, len(cts))
		for i := range row {
			ptrs[i] = &row[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		for i, v := range row {
			row[i] = normalize(v)
		}
		res.Rows = append(res.Rows, row)
	}
	return res, rows.Err()
}

// normalize maps driver values to the few Go types Result promises.
func normalize(v any) any {
	switch x := v.(type) {
	case int8, int16, int32, int:
		return reflect.ValueOf(x).Int()
	case uint8, uint16, uint32:
		return int64(reflect.ValueOf(x).Uint())
	case uint64:
		if x <= math.MaxInt64 {
			return int64(x)
		}
		return float64(x)
	case float32:
		return float64(x)
	case *big.Int:
		if x.IsInt64() {
			return x.Int64()
		}
		f, _ := new(big.Float).SetInt(x).Float64()
		return f
	case duckdb.Decimal:
		return x.Float64()
	case duckdb.Interval:
		return fmt.Sprintf("%d months %d days %d us", x.Months, x.Days, x.Micros)
	case time.Time:
		return x.UTC()
	case []byte:
		return string(x)
	}
	return v
}

// ViewSQL is m's query at grain ("" = the default grain) with every
// parameter replaced by NULL: all accounts, all time, as of the day the
// view is read. The replacements are constants of this package, never user
// input. The SQL needs the shared definitions (SharedSQL).
func ViewSQL(m Metric, grain string) (string, error) {
	q, err := m.Query(grain)
	if err != nil {
		return "", err
	}
	r := strings.NewReplacer("$"+ParamAccount, "NULL", "$"+ParamFrom, "NULL",
		"$"+ParamTo, "NULL", "$"+ParamAsOf, "NULL", "$"+ParamAllJobs, "NULL")
	return strings.TrimRight(strings.TrimSpace(r.Replace(q)), ";"), nil
}

// SharedSQL returns the statements that create the shared macros and views
// of shared/definitions.sql, which every metric and metric view uses.
func SharedSQL() string { return sharedSQL }

// View is one metric view CreateViews creates: the metric at one grain.
type View struct {
	Name    string // metric_<name> (default grain) or metric_<name>_by_<grain>
	Metric  string // the metric's name
	Grain   string // the grain ("" for a metric with one grain)
	SQL     string // the view's query (ViewSQL)
	Comment string // the view's comment: the metric's title, grain and definition
}

// Views returns every metric view, metric by metric (sorted by name), each
// at every grain in the metric's order: the views CreateViews creates, for
// a caller that creates them elsewhere (the lake).
func Views() ([]View, error) {
	var vs []View
	for _, m := range List() {
		grains := m.Grains
		if len(grains) == 0 {
			grains = []string{""}
		}
		for _, g := range grains {
			body, err := ViewSQL(m, g)
			if err != nil {
				return nil, err
			}
			title := m.Title
			if g != "" {
				title += " by " + g
			}
			vs = append(vs, View{Name: m.ViewName(g), Metric: m.Name, Grain: g, SQL: body, Comment: title + ": " + m.Definition})
		}
	}
	return vs, nil
}

// ViewsScript returns SharedSQL and, for every View, its CREATE OR REPLACE
// VIEW and COMMENT ON VIEW, as one script of statements ending in ";": what
// CreateViews runs, for a DuckDB this process does not open.
func ViewsScript() (string, error) {
	vs, err := Views()
	if err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteString(strings.TrimSpace(sharedSQL))
	b.WriteString("\n")
	for _, v := range vs {
		fmt.Fprintf(&b, "CREATE OR REPLACE VIEW %s AS\n%s;\nCOMMENT ON VIEW %s IS %s;\n", v.Name, v.SQL, v.Name, quote(v.Comment))
	}
	return b.String(), nil
}

// CreateViews creates or replaces, in one transaction, the shared macros and
// views of shared/definitions.sql and, for every metric and grain, the view
// metric_<name> (default grain) or metric_<name>_by_<grain> with its
// parameters defaulted (all accounts, all time, as of today), commented with
// the metric's definition (Views). Run needs the shared definitions.
// CreateViews is idempotent; run it after migrations so the views bind to
// the tables.
func CreateViews(ctx context.Context, db *sql.DB) error {
	vs, err := Views()
	if err != nil {
		return err
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("create views: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, sharedSQL); err != nil {
		return fmt.Errorf("shared definitions: %w", err)
	}
	for _, v := range vs {
		if _, err := tx.ExecContext(ctx, "CREATE OR REPLACE VIEW "+v.Name+" AS\n"+v.SQL); err != nil {
			return fmt.Errorf("create view %s: %w", v.Name, err)
		}
		if _, err := tx.ExecContext(ctx, "COMMENT ON VIEW "+v.Name+" IS "+quote(v.Comment)); err != nil {
			return fmt.Errorf("comment view %s: %w", v.Name, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("create views: %w", err)
	}
	return nil
}

// quote makes a SQL string literal of one of this package's own constants.
func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
