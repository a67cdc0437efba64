package queries

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Helpers to read a Result by column name, used by Report and the tests.

// record is one result row by column name.
type record map[string]any

func records(res *Result) []record {
	out := make([]record, len(res.Rows))
	for i, row := range res.Rows {
		r := record{}
		for j, c := range res.Columns {
			r[c] = row[j]
		}
		out[i] = r
	}
	return out
}

// where returns the records whose columns equal every value in key (nil
// matches NULL).
func where(res *Result, key record) []record {
	var out []record
	for _, r := range records(res) {
		ok := true
		for k, v := range key {
			if !same(r[k], v) {
				ok = false
				break
			}
		}
		if ok {
			out = append(out, r)
		}
	}
	return out
}

// same compares a result value with a wanted one: ints and floats compare
// numerically (floats within 1e-9), times with "2006-01-02" or RFC 3339
// strings or times, anything else by its printed form.
func same(got, want any) bool {
	if got == nil || want == nil {
		return got == nil && want == nil
	}
	if gf, ok := number(got); ok {
		wf, ok := number(want)
		return ok && math.Abs(gf-wf) <= 1e-9*math.Max(1, math.Abs(wf))
	}
	if gt, ok := got.(time.Time); ok {
		switch w := want.(type) {
		case string:
			if len(w) == len(dateLayout) {
				return gt.Format(dateLayout) == w
			}
			return gt.Format(time.RFC3339) == w
		case time.Time:
			return gt.Equal(w)
		}
		return false
	}
	return fmt.Sprint(got) == fmt.Sprint(want)
}

func number(v any) (float64, bool) {
	switch x := v.(type) {
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	case float64:
		return x, true
	}
	return 0, false
}

// Select returns r with only the named columns, in the order given. An
// unknown name is an error that lists the columns r has.
func (r *Result) Select(cols ...string) (*Result, error) {
	out := &Result{Columns: cols, Types: make([]string, len(cols)), Rows: make([][]any, len(r.Rows))}
	idx := make([]int, len(cols))
	for i, c := range cols {
		idx[i] = slices.Index(r.Columns, c)
		if idx[i] < 0 {
			return nil, fmt.Errorf("queries: no column %q (the columns are %s)", c, strings.Join(r.Columns, ", "))
		}
		out.Types[i] = r.Types[idx[i]]
	}
	for n, row := range r.Rows {
		out.Rows[n] = make([]any, len(cols))
		for i, j := range idx {
			out.Rows[n][i] = row[j]
		}
	}
	return out, nil
}

// Fit cuts r to fit a screen for WriteTable: at most maxRows rows (0 = all)
// and the leading columns whose table lines fit in width characters (0 =
// any width; the first column is always kept). It returns the cut result,
// the number of rows left out and the names of the columns left out.
func (r *Result) Fit(width, maxRows int) (fit *Result, rowsLeft int, colsLeft []string) {
	rows := r.Rows
	if maxRows > 0 && len(rows) > maxRows {
		rows, rowsLeft = rows[:maxRows], len(rows)-maxRows
	}
	ks := kinds(r)
	keep, used := len(r.Columns), 0
	for i, c := range r.Columns {
		w := utf8.RuneCountInString(c)
		for _, row := range rows {
			w = max(w, utf8.RuneCountInString(text(row[i], ks[i], 2)))
		}
		if i > 0 {
			w += 2 // the gap before the column
		}
		if width > 0 && i > 0 && used+w > width {
			keep = i
			break
		}
		used += w
	}
	fit = &Result{Columns: r.Columns[:keep], Types: r.Types[:keep], Rows: make([][]any, len(rows))}
	for n, row := range rows {
		fit.Rows[n] = row[:keep]
	}
	return fit, rowsLeft, slices.Clone(r.Columns[keep:])
}
