// Package queries holds stackhouse's canned hiring metrics: one SQL file per
// metric, embedded in the binary, a runner, result writers, DuckDB views
// and an HTML report.
//
// Each metric is a DuckDB query over the warehouse tables of
// schema/migrations (jobs, candidates, stage_events, accounts, ...) and the
// shared definitions of shared/definitions.sql (a hire, a job open at a
// date, an application's stage at a date, local calendar dates). Its file
// starts with a header comment giving the metric's definition, the standard
// it follows and where it departs from it, and its parameters:
//
//	-- name: time_to_fill
//	-- title: Time to fill
//	-- params: account, from, to, as_of
//	--
//	-- Definition: ...
//
// Every query opens with the same two CTEs: args, the only place the named
// parameters $account, $from, $to, $as_of and $all_jobs appear, and params,
// which gives one row per account with its time zone and the parameters as
// local dates and instants:
//
//	WITH args AS (FROM metric_args($account, $from, $to, $as_of, $all_jobs)),
//	params AS (FROM metric_params((SELECT account FROM args), ...)),
//
// A metric with several grains (account, department, job, ...) ends its
// file with one final SELECT per grain, each after a line "-- grain: NAME";
// the first is the default. Run binds the parameters from Params (NULL when unset: all accounts, all time, as of today) and
// runs the common part with the chosen grain's SELECT; CreateViews replaces
// them with NULL to publish each metric and grain as the view
// metric_<name> (default grain) or metric_<name>_by_<grain>, so BI tools
// need nothing but DuckDB. Nothing is ever concatenated into the SQL but
// this package's own constants.
//
// Timestamps are stored in UTC; every date a metric uses is the calendar
// date in the account's time zone (the accounts table), and "as of" a date
// means up to the end of that day there.
//
// The API, in the order a caller uses it:
//
//	List() / Lookup(name)           the metrics and their definitions
//	Params{Account, From, To, AsOf, Grain, AllJobs} what to compute, checked by Validate
//	CreateViews(ctx, db)            the shared definitions and metric views; Run needs them
//	Run(ctx, db, m, p) *Result      the answer: columns, DuckDB types, rows
//	WriteTable / WriteCSV / WriteJSON / WriteArrow, or ParseFormat + Write
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

// sharedSQL creates the macros and views every metric builds on.
//
//go:embed shared/definitions.sql
var sharedSQL string

// Parameter names a metric may declare in its params header line.
const (
	ParamAccount = "account"
	ParamFrom    = "from"
	ParamTo      = "to"
	ParamAsOf    = "as_of"
	ParamAllJobs = "all_jobs"
)

// knownParams lists the parameters in the order every query's params CTE binds them.
var knownParams = []string{ParamAccount, ParamFrom, ParamTo, ParamAsOf, ParamAllJobs}

// ErrUnknownMetric is wrapped by the error Lookup returns for a name no
// metric has.
var ErrUnknownMetric = errors.New("queries: unknown metric")

// Metric is one canned query. Name is its id (the file name without .sql),
// Title a short human name, Definition the header's definition paragraph,
// Params the parameters it uses (a subset of account, from, to, as_of,
// all_jobs), Grains the grains it answers at (the first is the default;
// none for a metric with one grain), and SQL the whole file, header
// included.
type Metric struct {
	Name, Title, Definition string
	Params                  []string
	Grains                  []string
	SQL                     string

	common   string            // the file up to the first grain section
	sections map[string]string // grain -> its final SELECT
}

// Summary is the first sentence of the metric's definition, for lists.
func (m Metric) Summary() string {
	if i := strings.Index(m.Definition, ". "); i > 0 {
		return m.Definition[:i+1]
	}
	return m.Definition
}

// Takes reports whether the metric uses the named parameter.
func (m Metric) Takes(param string) bool { return slices.Contains(m.Params, param) }

// DefaultGrain is the grain Run uses when Params.Grain is empty ("" for a
// metric with one grain).
func (m Metric) DefaultGrain() string {
	if len(m.Grains) == 0 {
		return ""
	}
	return m.Grains[0]
}

// Query returns the SQL Run executes for grain ("" = the default).
func (m Metric) Query(grain string) (string, error) {
	if len(m.Grains) == 0 {
		if grain != "" {
			return "", fmt.Errorf("queries: %s has one grain; -grain %s does not apply", m.Name, grain)
		}
		return m.SQL, nil
	}
	if grain == "" {
		grain = m.DefaultGrain()
	}
	sec, ok := m.sections[grain]
	if !ok {
		return "", fmt.Errorf("queries: %s has no grain %q (it has %s)", m.Name, grain, strings.Join(m.Grains, ", "))
	}
	return m.common + sec, nil
}

// ViewName is the name of the view CreateViews publishes for the metric at
// grain: metric_<name> for the default grain (and "" ), metric_<name>_by_<grain>
// for the others.
func (m Metric) ViewName(grain string) string {
	if grain == "" || grain == m.DefaultGrain() {
		return "metric_" + m.Name
	}
	return "metric_" + m.Name + "_by_" + grain
}

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
		ms[i].Grains = slices.Clone(ms[i].Grains)
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
		d := EditDistance(key, m.Name)
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

// EditDistance is the Levenshtein distance between a and b, in bytes: what
// suggestions for a mistyped metric (and, in cmd, command) name rank by.
func EditDistance(a, b string) int {
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

// grainMarker starts a grain's final SELECT in a metric file.
const grainMarker = "-- grain:"

// parseMetric reads the header comment of a metric file: the name, title and
// params lines and the Definition paragraph; splits off the grain sections;
// and checks that the common part binds each known parameter exactly once
// and the sections none.
func parseMetric(file, text string) (Metric, error) {
	m := Metric{SQL: text, common: text}
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
	if i := strings.Index(text, "\n"+grainMarker); i >= 0 {
		m.common = text[:i+1]
		m.sections = map[string]string{}
		for _, sec := range strings.Split(text[i+1:], grainMarker)[1:] {
			name, body, _ := strings.Cut(sec, "\n")
			name = strings.TrimSpace(name)
			if name == "" || m.sections[name] != "" {
				return m, fmt.Errorf("queries: %s.sql: grain %q is empty or repeated", file, name)
			}
			m.Grains = append(m.Grains, name)
			m.sections[name] = body
			for _, p := range knownParams {
				if strings.Contains(body, "$"+p) {
					return m, fmt.Errorf("queries: %s.sql: grain %s uses $%s outside the params CTE", file, name, p)
				}
			}
		}
	}
	for _, p := range knownParams {
		if n := strings.Count(m.common, "$"+p); n != 1 {
			return m, fmt.Errorf("queries: %s.sql: $%s appears %d times, want once (in the params CTE)", file, p, n)
		}
	}
	return m, nil
}
