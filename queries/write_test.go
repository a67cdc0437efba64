package queries

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"math"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
)

// sample is a result with every column type a metric returns, NULLs, and
// values that need quoting or escaping.
func sample() *Result {
	ts := time.Date(2024, 6, 30, 21, 0, 0, 123000000, time.UTC)
	return &Result{
		Columns: []string{"name", "n", "ratio", "ok", "day", "at", "amount"},
		Types:   []string{"VARCHAR", "BIGINT", "DOUBLE", "BOOLEAN", "DATE", "TIMESTAMPTZ", "DECIMAL(18,2)"},
		Rows: [][]any{
			{"Müller, \"Jo\"\nline", int64(-3), 0.1, true, date("2024-02-29"), ts, 12.5},
			{nil, nil, nil, nil, nil, nil, nil},
			{"<b>&</b>", int64(1 << 40), math.NaN(), false, date("1999-12-31"), ts.Add(time.Hour), -0.25},
		},
	}
}

func TestParseFormat(t *testing.T) {
	t.Parallel()
	for i, name := range []string{"table", "CSV", " json ", "Arrow"} {
		f, err := ParseFormat(name)
		if err != nil || f != Format(i) || f.String() != strings.ToLower(strings.TrimSpace(name)) {
			t.Errorf("ParseFormat(%q) = %v, %v", name, f, err)
		}
	}
	_, err := ParseFormat("xml")
	if err == nil || !strings.Contains(err.Error(), `"xml"`) || !strings.Contains(err.Error(), "table, csv, json or arrow") {
		t.Errorf("ParseFormat(xml) error %v", err)
	}
}

func TestWriteCSV(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	if err := WriteCSV(&buf, sample()); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		{"name", "n", "ratio", "ok", "day", "at", "amount"},
		{"Müller, \"Jo\"\nline", "-3", "0.1", "true", "2024-02-29", "2024-06-30T21:00:00.123Z", "12.5"},
		{"", "", "", "", "", "", ""},
		{"<b>&</b>", "1099511627776", "NaN", "false", "1999-12-31", "2024-06-30T22:00:00.123Z", "-0.25"},
	}
	for i := range want {
		if strings.Join(recs[i], "|") != strings.Join(want[i], "|") {
			t.Errorf("row %d: got %q, want %q", i, recs[i], want[i])
		}
	}
}

func TestWriteJSON(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	if err := WriteJSON(&buf, sample()); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(buf.String(), "[\n  {\"name\": ") {
		t.Errorf("keys not in column order: %s", buf.String())
	}
	var got []map[string]any
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatalf("%v\n%s", err, buf.String())
	}
	if len(got) != 3 {
		t.Fatalf("got %d objects", len(got))
	}
	want := map[string]any{"name": "Müller, \"Jo\"\nline", "n": -3.0, "ratio": 0.1, "ok": true,
		"day": "2024-02-29", "at": "2024-06-30T21:00:00.123Z", "amount": 12.5}
	for k, v := range want {
		if got[0][k] != v {
			t.Errorf("%s = %v, want %v", k, got[0][k], v)
		}
	}
	for k, v := range got[1] {
		if v != nil {
			t.Errorf("NULL %s = %v", k, v)
		}
	}
	if got[2]["ratio"] != nil {
		t.Errorf("NaN encoded as %v, want null", got[2]["ratio"])
	}
	var empty bytes.Buffer
	WriteJSON(&empty, &Result{Columns: []string{"a"}, Types: []string{"VARCHAR"}})
	if strings.TrimSpace(empty.String()) != "[]" {
		t.Errorf("empty result: %q", empty.String())
	}
}

func TestWriteTable(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	if err := WriteTable(&buf, sample()); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(buf.String(), "\n"), "\n")
	if len(lines) != 6 || lines[5] != "(3 rows)" {
		t.Fatalf("table:\n%s", buf.String())
	}
	// Columns line up: every line has "ok" column text starting at the same rune.
	col := strings.Index(lines[0], "ratio")
	if !strings.HasPrefix(lines[1][col:], "-----") {
		t.Errorf("rule misaligned:\n%s", buf.String())
	}
	if !strings.Contains(lines[2], "Müller, \"Jo\" line") || !strings.Contains(lines[2], "0.10") {
		t.Errorf("control characters or float format: %q", lines[2])
	}
	// Numbers are right-aligned and text left-aligned within the column
	// extents the rule line marks out.
	rule := []rune(lines[1])
	var extents [][2]int
	for i := 0; i < len(rule); i++ {
		if rule[i] == '-' && (i == 0 || rule[i-1] == ' ') {
			j := i
			for j < len(rule) && rule[j] == '-' {
				j++
			}
			extents = append(extents, [2]int{i, j})
		}
	}
	if len(extents) != 7 {
		t.Fatalf("rule %q", lines[1])
	}
	cell := func(line, col int) string {
		r := []rune(lines[line])
		e := extents[col]
		return string(r[e[0]:min(e[1], len(r))])
	}
	if c := cell(2, 1); !strings.HasSuffix(c, "-3") || !strings.HasPrefix(c, " ") {
		t.Errorf("n column %q not right-aligned", c)
	}
	if c := cell(4, 0); !strings.HasPrefix(c, "<b>&</b>") {
		t.Errorf("name column %q not left-aligned", c)
	}
	if c := cell(4, 2); strings.TrimSpace(c) != "NaN" {
		t.Errorf("ratio %q", c)
	}
}

func TestWriteArrow(t *testing.T) {
	t.Parallel()
	in := sample()
	r := arrowReader(t, in)
	wantTypes := []arrow.DataType{arrow.BinaryTypes.String, arrow.PrimitiveTypes.Int64, arrow.PrimitiveTypes.Float64,
		arrow.FixedWidthTypes.Boolean, arrow.FixedWidthTypes.Date32,
		&arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}, arrow.PrimitiveTypes.Float64}
	for i, f := range r.Schema().Fields() {
		if f.Name != in.Columns[i] || !arrow.TypeEqual(f.Type, wantTypes[i]) || !f.Nullable {
			t.Errorf("field %d: %v, want %s %v", i, f, in.Columns[i], wantTypes[i])
		}
		if v, _ := f.Metadata.GetValue("duckdb.type"); v != in.Types[i] {
			t.Errorf("field %s duckdb.type = %q", f.Name, v)
		}
	}
	if !r.Next() {
		t.Fatal("no record batch")
	}
	rec := r.RecordBatch()
	if rec.NumRows() != 3 {
		t.Fatalf("%d rows", rec.NumRows())
	}
	for c := range in.Columns {
		if !rec.Column(c).IsNull(1) {
			t.Errorf("column %d row 1 not null", c)
		}
	}
	if s := rec.Column(0).(*array.String).Value(0); s != in.Rows[0][0] {
		t.Errorf("string %q", s)
	}
	if n := rec.Column(1).(*array.Int64).Value(2); n != 1<<40 {
		t.Errorf("int64 %d", n)
	}
	if f := rec.Column(2).(*array.Float64).Value(0); f != 0.1 {
		t.Errorf("float64 %v", f)
	}
	if b := rec.Column(3).(*array.Boolean).Value(0); !b {
		t.Error("bool")
	}
	if d := rec.Column(4).(*array.Date32).Value(0).ToTime(); !d.Equal(date("2024-02-29")) {
		t.Errorf("date32 %v", d)
	}
	ts := rec.Column(5).(*array.Timestamp).Value(0).ToTime(arrow.Microsecond)
	if !ts.Equal(in.Rows[0][5].(time.Time)) {
		t.Errorf("timestamp %v", ts)
	}
	if f := rec.Column(6).(*array.Float64).Value(2); f != -0.25 {
		t.Errorf("decimal as float64 %v", f)
	}
	if r.Next() {
		t.Error("more than one batch")
	}
	if r.Err() != nil {
		t.Error(r.Err())
	}
}

// TestWriteArrow_Metric round-trips a real metric through the IPC stream.
func TestWriteArrow_Metric(t *testing.T) {
	t.Parallel()
	db := sharedHand(t)
	res := run(t, db, "funnel_conversion", Params{})
	r := arrowReader(t, res)
	rows := 0
	for r.Next() {
		rec := r.RecordBatch()
		reached := rec.Column(slices.Index(res.Columns, "reached")).(*array.Int64)
		for i := 0; i < int(rec.NumRows()); i++ {
			want := res.Rows[rows][slices.Index(res.Columns, "reached")].(int64)
			if reached.Value(i) != want {
				t.Fatalf("row %d reached %d, want %v", rows, reached.Value(i), want)
			}
			rows++
		}
	}
	if rows != len(res.Rows) {
		t.Errorf("read %d rows, wrote %d", rows, len(res.Rows))
	}
	if err := WriteArrow(&bytes.Buffer{}, &Result{Columns: []string{"x"}, Types: []string{"BIGINT"}, Rows: [][]any{{"no"}}}); err == nil {
		t.Error("a string in a BIGINT column should fail")
	}
}

// arrowReader writes res with WriteArrow and returns a reader of the
// stream, released when the test ends.
func arrowReader(t testing.TB, res *Result) *ipc.Reader {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteArrow(&buf, res); err != nil {
		t.Fatal(err)
	}
	r, err := ipc.NewReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Release)
	return r
}

// TestWriteArrow_Batches writes more rows than one record batch holds.
func TestWriteArrow_Batches(t *testing.T) {
	t.Parallel()
	n := arrowBatchRows*2 + 10
	res := &Result{Columns: []string{"i"}, Types: []string{"BIGINT"}}
	for i := range n {
		res.Rows = append(res.Rows, []any{int64(i)})
	}
	r := arrowReader(t, res)
	batches, next := 0, int64(0)
	for r.Next() {
		batches++
		col := r.RecordBatch().Column(0).(*array.Int64)
		for i := 0; i < col.Len(); i++ {
			if col.Value(i) != next {
				t.Fatalf("value %d, want %d", col.Value(i), next)
			}
			next++
		}
	}
	if batches != 3 || next != int64(n) {
		t.Errorf("%d batches, %d rows", batches, next)
	}
}

// integerColumns are the columns of the metrics that hold whole numbers:
// counts, days between dates and orders.
var integerColumns = regexp.MustCompile(`^(first_hires|hires|open_jobs|on_hold_jobs|days_to_first_hire|open_days|` +
	`reached|stage_order|stints|open_stints|open_applications|openings|applications|deduplicated_applications|` +
	`unmatched_applications|offers|accepted|declined|rescinded|pending|age_days|events|jobs|candidates|stage_events|attachments)$`)

// TestIntegerColumns checks that whole-number columns of every metric at
// every grain are integers in DuckDB, in CSV and in Arrow, and that the
// counts among them are never NULL (no column is padded with NULLs for
// another grain's rows).
func TestIntegerColumns(t *testing.T) {
	t.Parallel()
	db := sharedHand(t)
	for _, m := range List() {
		for _, g := range grainsOf(m) {
			res := run(t, db, m.Name, Params{Grain: g})
			r := arrowReader(t, res)
			var csvBuf bytes.Buffer
			WriteCSV(&csvBuf, res)
			lines := strings.Split(strings.TrimSpace(csvBuf.String()), "\n")
			ints := 0
			for i, c := range res.Columns {
				if !integerColumns.MatchString(c) {
					continue
				}
				ints++
				if kindOf(res.Types[i]) != kindInt {
					t.Errorf("%s/%s: %s is %s", m.Name, g, c, res.Types[i])
				}
				if f := r.Schema().Field(i); f.Type.ID() != arrow.INT64 {
					t.Errorf("%s/%s: %s is %s in Arrow", m.Name, g, c, f.Type)
				}
				for j, row := range res.Rows {
					nullable := c == "days_to_first_hire" || c == "open_days" || c == "stage_order"
					if row[i] == nil && !nullable {
						t.Errorf("%s/%s: %s is NULL in row %d", m.Name, g, c, j)
					}
					if cell := strings.Split(lines[j+1], ",")[i]; strings.Contains(cell, ".") {
						t.Errorf("%s/%s: %s is %q in CSV", m.Name, g, c, cell)
					}
				}
			}
			r.Release()
			if ints == 0 {
				t.Errorf("%s/%s has no integer column", m.Name, g)
			}
		}
	}
}
