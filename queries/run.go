package queries

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"math/big"
	"strings"
	"time"

	duckdb "github.com/duckdb/duckdb-go/v2"
)

// dateLayout is how dates are bound and printed.
const dateLayout = "2006-01-02"

// Params are the values a metric's named parameters are bound to. The zero
// value means all accounts, all time, as of today (UTC).
type Params struct {
	// Account limits the metric to one ApplicantStack account (subdomain);
	// "" means all accounts.
	Account string
	// From and To bound the metric's natural date (hire date, application
	// date, ...) inclusively; a zero time leaves that side open. Only the
	// calendar date counts, read in the time's own location.
	From, To time.Time
	// AsOf is the date snapshot metrics are computed at; zero means today in
	// UTC, evaluated by the database.
	AsOf time.Time
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
	}
	for _, name := range knownParams {
		if set[name] && !m.Takes(name) {
			return fmt.Errorf("queries: %s does not take %s (it takes %s)", m.Name, name, strings.Join(m.Params, ", "))
		}
	}
	return nil
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
	var account any
	if p.Account != "" {
		account = p.Account
	}
	return []any{
		sql.Named(ParamAccount, account),
		sql.Named(ParamFrom, date(p.From)),
		sql.Named(ParamTo, date(p.To)),
		sql.Named(ParamAsOf, date(p.AsOf)),
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

// Run executes m on db with p bound to its parameters and reads the whole
// answer. It returns an error, before touching db, when p is invalid or sets
// a parameter m does not take.
func Run(ctx context.Context, db *sql.DB, m Metric, p Params) (*Result, error) {
	if err := p.check(m); err != nil {
		return nil, err
	}
	rows, err := db.QueryContext(ctx, m.SQL, p.args()...)
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
	case int8:
		return int64(x)
	case int16:
		return int64(x)
	case int32:
		return int64(x)
	case int:
		return int64(x)
	case uint8:
		return int64(x)
	case uint16:
		return int64(x)
	case uint32:
		return int64(x)
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

// ViewSQL is m's query with every parameter replaced by NULL: all accounts,
// all time, as of the day the view is read. The replacements are constants
// of this package, never user input.
func ViewSQL(m Metric) string {
	r := strings.NewReplacer("$"+ParamAccount, "NULL", "$"+ParamFrom, "NULL",
		"$"+ParamTo, "NULL", "$"+ParamAsOf, "NULL")
	return strings.TrimRight(strings.TrimSpace(r.Replace(m.SQL)), ";")
}

// CreateViews creates or replaces, in one transaction, the view
// metric_<name> of every metric with its parameters defaulted (all accounts,
// all time, as_of today), commented with the metric's definition. It is
// idempotent; run it after migrations so the views bind to the tables.
func CreateViews(ctx context.Context, db *sql.DB) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("create views: %w", err)
	}
	defer tx.Rollback()
	for _, m := range List() {
		stmt := "CREATE OR REPLACE VIEW " + m.ViewName() + " AS\n" + ViewSQL(m)
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("create view %s: %w", m.ViewName(), err)
		}
		comment := "COMMENT ON VIEW " + m.ViewName() + " IS " + quote(m.Title+": "+m.Definition)
		if _, err := tx.ExecContext(ctx, comment); err != nil {
			return fmt.Errorf("comment view %s: %w", m.ViewName(), err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("create views: %w", err)
	}
	return nil
}

// quote makes a SQL string literal of one of this package's own constants.
func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
