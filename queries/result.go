package queries

import (
	"fmt"
	"math"
	"time"
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
