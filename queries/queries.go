// Package queries holds stackhouse's canned hiring metrics: one SQL file per
// metric, embedded in the binary, a runner, result writers, DuckDB views
// and an HTML report.
//
// Each metric is a single DuckDB query over the warehouse tables of
// schema/migrations (jobs, candidates, stage_events, sync_runs, ...). Its
// file starts with a header comment giving the metric's definition, the
// convention chosen where practitioners disagree, and its parameters:
//
//	-- name: time_to_fill
//	-- title: Time to fill
//	-- params: account, from, to, as_of
//	--
//	-- Definition: ...
//
// Every query opens with the same parameter CTE, the only place the named
// parameters $account, $from, $to and $as_of appear:
//
//	WITH params AS (... CAST($account AS VARCHAR) AS account, ...)
//
// Run binds them from Params (NULL when unset: all accounts, all time, as of
// today); CreateViews replaces them with NULL to publish each metric as the
// view metric_<name>, so BI tools need nothing but DuckDB. Nothing is ever
// concatenated into the SQL but this package's own constants.
//
// Timestamps are stored in UTC; every date a metric uses is the UTC
// calendar date and day counts are differences between UTC dates.
//
// The API, in the order a caller uses it:
//
//	List() / Lookup(name)           the metrics and their definitions
//	Params{Account, From, To, AsOf} what to compute, checked by Validate
//	Run(ctx, db, m, p) *Result      the answer: columns, DuckDB types, rows
//	WriteTable / WriteCSV / WriteJSON / WriteArrow, or ParseFormat + Write
//	CreateViews(ctx, db)            metric_<name> views for BI tools
//	Report(ctx, db, p, w)           one self-contained HTML page
package queries

import (
	"bufio"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
	"sync"
)

//go:embed *.sql
var files embed.FS

// Parameter names a metric may declare in its params header line.
const (
	ParamAccount = "account"
	ParamFrom    = "from"
	ParamTo      = "to"
	ParamAsOf    = "as_of"
)

// knownParams lists the parameters in the order every query's params CTE binds them.
var knownParams = []string{ParamAccount, ParamFrom, ParamTo, ParamAsOf}

// ErrUnknownMetric is wrapped by the error Lookup returns for a name no
// metric has.
var ErrUnknownMetric = errors.New("queries: unknown metric")

// Metric is one canned query. Name is its id (the file name without .sql),
// Title a short human name, Definition the header's definition paragraph,
// Params the parameters it uses (a subset of account, from, to, as_of), and
// SQL the whole file, header included.
type Metric struct {
	Name, Title, Definition string
	Params                  []string
	SQL                     string
}

// Takes reports whether the metric uses the named parameter.
func (m Metric) Takes(param string) bool { return slices.Contains(m.Params, param) }

// ViewName is the name of the view CreateViews publishes for the metric.
func (m Metric) ViewName() string { return "metric_" + m.Name }

// catalog parses the embedded files once. They are fixed at build time and
// checked by the package tests, so a malformed header is a programming error.
var catalog = sync.OnceValue(func() []Metric {
	names, err := fs.Glob(files, "*.sql")
	if err != nil {
		panic(err)
	}
	ms := make([]Metric, 0, len(names))
	for _, name := range names {
		b, err := files.ReadFile(name)
		if err != nil {
			panic(err)
		}
		m, err := parseMetric(strings.TrimSuffix(path.Base(name), ".sql"), string(b))
		if err != nil {
			panic(err)
		}
		ms = append(ms, m)
	}
	return ms
})

// List returns every metric, sorted by name. The slice and the metrics are
// copies the caller may modify.
func List() []Metric {
	ms := slices.Clone(catalog())
	for i := range ms {
		ms[i].Params = slices.Clone(ms[i].Params)
	}
	return ms
}

// Lookup returns the metric with the given name (case-insensitive; a
// metric_ prefix and dashes are accepted). An unknown name gives an error
// wrapping ErrUnknownMetric that lists close matches.
func Lookup(name string) (Metric, error) {
	key := strings.ReplaceAll(strings.ToLower(strings.TrimSpace(name)), "-", "_")
	key = strings.TrimPrefix(key, "metric_")
	for _, m := range List() {
		if m.Name == key {
			return m, nil
		}
	}
	if near := suggest(key); len(near) > 0 {
		return Metric{}, fmt.Errorf("%w %q: did you mean %s? (stackhouse query -list shows all metrics)",
			ErrUnknownMetric, name, strings.Join(near, ", "))
	}
	return Metric{}, fmt.Errorf("%w %q (stackhouse query -list shows all metrics)", ErrUnknownMetric, name)
}

// suggest returns up to three metric names close to key: within a small edit
// distance, containing it, or sharing a word with it.
func suggest(key string) []string {
	type cand struct {
		name string
		dist int
	}
	var cs []cand
	words := strings.FieldsFunc(key, func(r rune) bool { return r == '_' || r == ' ' })
	for _, m := range catalog() {
		d := editDistance(key, m.Name)
		ok := d <= max(2, len(m.Name)/3) || (key != "" && strings.Contains(m.Name, key))
		for _, w := range words {
			if len(w) >= 4 && strings.Contains(m.Name, w) {
				ok = true
			}
		}
		if ok {
			cs = append(cs, cand{m.Name, d})
		}
	}
	slices.SortStableFunc(cs, func(a, b cand) int { return a.dist - b.dist })
	var out []string
	for i := 0; i < len(cs) && i < 3; i++ {
		out = append(out, cs[i].name)
	}
	return out
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// parseMetric reads the header comment of a metric file: the name, title and
// params lines and the Definition paragraph, and checks that the body binds
// each known parameter exactly once.
func parseMetric(file, text string) (Metric, error) {
	m := Metric{SQL: text}
	var def []string
	inDef := false
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if !strings.HasPrefix(line, "--") {
			break
		}
		body := strings.TrimSpace(strings.TrimPrefix(line, "--"))
		switch {
		case body == "":
			inDef = false
		case strings.HasPrefix(body, "name:"):
			m.Name = strings.TrimSpace(strings.TrimPrefix(body, "name:"))
		case strings.HasPrefix(body, "title:"):
			m.Title = strings.TrimSpace(strings.TrimPrefix(body, "title:"))
		case strings.HasPrefix(body, "params:"):
			for p := range strings.SplitSeq(strings.TrimPrefix(body, "params:"), ",") {
				if p = strings.TrimSpace(p); p != "" {
					m.Params = append(m.Params, p)
				}
			}
		case strings.HasPrefix(body, "Definition:"):
			inDef = true
			def = append(def, strings.TrimSpace(strings.TrimPrefix(body, "Definition:")))
		case inDef:
			def = append(def, body)
		}
	}
	m.Definition = strings.Join(def, " ")
	switch {
	case m.Name != file:
		return m, fmt.Errorf("queries: %s.sql: header name %q does not match the file", file, m.Name)
	case m.Title == "" || m.Definition == "":
		return m, fmt.Errorf("queries: %s.sql: header needs a title and a Definition", file)
	}
	for _, p := range m.Params {
		if !slices.Contains(knownParams, p) {
			return m, fmt.Errorf("queries: %s.sql: unknown parameter %q", file, p)
		}
	}
	for _, p := range knownParams {
		if n := strings.Count(text, "$"+p); n != 1 {
			return m, fmt.Errorf("queries: %s.sql: $%s appears %d times, want once (in the params CTE)", file, p, n)
		}
	}
	return m, nil
}
