package queries

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Format is an output format for a Result.
type Format int

// The output formats. FormatTable is aligned text for a terminal.
const (
	FormatTable Format = iota
	FormatCSV
	FormatJSON
	FormatArrow
)

var formatNames = []string{"table", "csv", "json", "arrow"}

// String returns the format's name as ParseFormat accepts it.
func (f Format) String() string {
	if f < 0 || int(f) >= len(formatNames) {
		return fmt.Sprintf("Format(%d)", int(f))
	}
	return formatNames[f]
}

// ParseFormat parses a format name: table, csv, json or arrow
// (case-insensitive).
func ParseFormat(s string) (Format, error) {
	for i, name := range formatNames {
		if strings.EqualFold(strings.TrimSpace(s), name) {
			return Format(i), nil
		}
	}
	return 0, fmt.Errorf("queries: unknown format %q (want table, csv, json or arrow)", s)
}

// Write writes r to w in format f.
func Write(w io.Writer, f Format, r *Result) error {
	switch f {
	case FormatTable:
		return WriteTable(w, r)
	case FormatCSV:
		return WriteCSV(w, r)
	case FormatJSON:
		return WriteJSON(w, r)
	case FormatArrow:
		return WriteArrow(w, r)
	}
	return fmt.Errorf("queries: unknown format %v", f)
}

// kind groups DuckDB type names by how their values are written.
type kind int

const (
	kindText kind = iota
	kindInt
	kindFloat
	kindBool
	kindDate
	kindTimestampTZ
	kindTimestamp
)

func kindOf(duckType string) kind {
	t := strings.ToUpper(duckType)
	switch {
	case t == "BIGINT" || t == "INTEGER" || t == "SMALLINT" || t == "TINYINT" || t == "HUGEINT" ||
		t == "UBIGINT" || t == "UINTEGER" || t == "USMALLINT" || t == "UTINYINT":
		return kindInt
	case t == "DOUBLE" || t == "FLOAT" || strings.HasPrefix(t, "DECIMAL"):
		return kindFloat
	case t == "BOOLEAN":
		return kindBool
	case t == "DATE":
		return kindDate
	case t == "TIMESTAMPTZ" || t == "TIMESTAMP WITH TIME ZONE":
		return kindTimestampTZ
	case strings.HasPrefix(t, "TIMESTAMP"):
		return kindTimestamp
	}
	return kindText
}

// text formats one value for CSV and tables: NULL is empty, dates are
// 2006-01-02, TIMESTAMPTZ is RFC 3339 in UTC, floats use the fewest digits
// that round-trip unless prec >= 0.
func text(v any, k kind, prec int) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return strconv.FormatFloat(x, 'f', -1, 64)
		}
		return strconv.FormatFloat(x, 'f', prec, 64)
	case bool:
		return strconv.FormatBool(x)
	case time.Time:
		switch k {
		case kindDate:
			return x.UTC().Format(dateLayout)
		case kindTimestamp:
			return x.UTC().Format("2006-01-02 15:04:05.999999")
		}
		return x.UTC().Format(time.RFC3339Nano)
	}
	return fmt.Sprint(v)
}

func kinds(r *Result) []kind {
	ks := make([]kind, len(r.Types))
	for i, t := range r.Types {
		ks[i] = kindOf(t)
	}
	return ks
}

// WriteCSV writes r as RFC 4180 CSV with a header row. NULL is an empty
// field; see Result for how values are formatted.
func WriteCSV(w io.Writer, r *Result) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(r.Columns); err != nil {
		return err
	}
	ks := kinds(r)
	rec := make([]string, len(r.Columns))
	for _, row := range r.Rows {
		for i, v := range row {
			rec[i] = text(v, ks[i], -1)
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// WriteJSON writes r as a JSON array of objects, one per row, keys in column
// order. Numbers stay numbers (NaN and infinities become null), dates and
// timestamps are strings as in WriteCSV, NULL is null.
func WriteJSON(w io.Writer, r *Result) error {
	bw := bufio.NewWriter(w)
	ks := kinds(r)
	keys := make([][]byte, len(r.Columns))
	for i, c := range r.Columns {
		b, err := json.Marshal(c)
		if err != nil {
			return err
		}
		keys[i] = b
	}
	bw.WriteString("[")
	for n, row := range r.Rows {
		if n > 0 {
			bw.WriteString(",")
		}
		bw.WriteString("\n  {")
		for i, v := range row {
			if i > 0 {
				bw.WriteString(", ")
			}
			bw.Write(keys[i])
			bw.WriteString(": ")
			var val any = v
			switch x := v.(type) {
			case float64:
				if math.IsNaN(x) || math.IsInf(x, 0) {
					val = nil
				}
			case time.Time:
				val = text(x, ks[i], -1)
			}
			b, err := json.Marshal(val)
			if err != nil {
				return fmt.Errorf("column %s: %w", r.Columns[i], err)
			}
			bw.Write(b)
		}
		bw.WriteString("}")
	}
	if len(r.Rows) > 0 {
		bw.WriteString("\n")
	}
	bw.WriteString("]\n")
	return bw.Flush()
}

// WriteTable writes r as aligned text for a terminal: a header, a rule, one
// line per row, numbers right-aligned, floats to two decimals, NULL blank,
// control characters in values replaced by spaces, then a row count.
func WriteTable(w io.Writer, r *Result) error {
	ks := kinds(r)
	cells := make([][]string, len(r.Rows))
	width := make([]int, len(r.Columns))
	for i, c := range r.Columns {
		width[i] = utf8.RuneCountInString(c)
	}
	for n, row := range r.Rows {
		cells[n] = make([]string, len(row))
		for i, v := range row {
			s := strings.Map(func(r rune) rune {
				if unicode.IsControl(r) {
					return ' '
				}
				return r
			}, text(v, ks[i], 2))
			cells[n][i] = s
			width[i] = max(width[i], utf8.RuneCountInString(s))
		}
	}
	bw := bufio.NewWriter(w)
	line := func(vals []string) {
		for i, s := range vals {
			if i > 0 {
				bw.WriteString("  ")
			}
			pad := strings.Repeat(" ", width[i]-utf8.RuneCountInString(s))
			right := ks[i] == kindInt || ks[i] == kindFloat
			switch {
			case right:
				bw.WriteString(pad + s)
			case i == len(vals)-1:
				bw.WriteString(s)
			default:
				bw.WriteString(s + pad)
			}
		}
		bw.WriteString("\n")
	}
	line(r.Columns)
	rule := make([]string, len(width))
	for i, n := range width {
		rule[i] = strings.Repeat("-", n)
	}
	line(rule)
	for _, row := range cells {
		line(row)
	}
	fmt.Fprintf(bw, "(%s)\n", plural(len(r.Rows), "row"))
	return bw.Flush()
}
