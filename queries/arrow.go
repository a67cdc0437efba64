package queries

import (
	"fmt"
	"io"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// arrowBatchRows is the number of rows per record batch in WriteArrow.
const arrowBatchRows = 64 * 1024

// arrowType maps a DuckDB type name to the Arrow type WriteArrow uses:
// integers to int64, DOUBLE/FLOAT/DECIMAL to float64, DATE to date32,
// TIMESTAMPTZ to timestamp[us, UTC], TIMESTAMP to timestamp[us], BOOLEAN to
// bool and everything else to string.
func arrowType(duckType string) arrow.DataType {
	switch kindOf(duckType) {
	case kindInt:
		return arrow.PrimitiveTypes.Int64
	case kindFloat:
		return arrow.PrimitiveTypes.Float64
	case kindBool:
		return arrow.FixedWidthTypes.Boolean
	case kindDate:
		return arrow.FixedWidthTypes.Date32
	case kindTimestampTZ:
		return &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}
	case kindTimestamp:
		return &arrow.TimestampType{Unit: arrow.Microsecond}
	}
	return arrow.BinaryTypes.String
}

// arrowSchema builds the schema of r: every field nullable, with its DuckDB
// type kept in the field metadata under "duckdb.type".
func arrowSchema(r *Result) *arrow.Schema {
	fields := make([]arrow.Field, len(r.Columns))
	for i, c := range r.Columns {
		fields[i] = arrow.Field{
			Name:     c,
			Type:     arrowType(r.Types[i]),
			Nullable: true,
			Metadata: arrow.NewMetadata([]string{"duckdb.type"}, []string{r.Types[i]}),
		}
	}
	return arrow.NewSchema(fields, nil)
}

// WriteArrow writes r as an Arrow IPC stream (the format pandas'
// read_ipc_stream / pyarrow.ipc.open_stream and polars.read_ipc_stream
// read), in record batches of up to 65,536 rows; see arrowType for the type
// mapping. An empty result is a stream with the schema and no batches.
func WriteArrow(w io.Writer, r *Result) error {
	schema := arrowSchema(r)
	iw := ipc.NewWriter(w, ipc.WithSchema(schema), ipc.WithAllocator(memory.DefaultAllocator))
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	for start := 0; start < len(r.Rows); start += arrowBatchRows {
		end := min(start+arrowBatchRows, len(r.Rows))
		for _, row := range r.Rows[start:end] {
			for i, v := range row {
				if err := appendValue(b.Field(i), v); err != nil {
					iw.Close()
					return fmt.Errorf("arrow column %s: %w", r.Columns[i], err)
				}
			}
		}
		rec := b.NewRecordBatch()
		err := iw.Write(rec)
		rec.Release()
		if err != nil {
			iw.Close()
			return fmt.Errorf("arrow: %w", err)
		}
	}
	if err := iw.Close(); err != nil {
		return fmt.Errorf("arrow: %w", err)
	}
	return nil
}

// appendValue appends one Result value to the builder of its column.
func appendValue(fb array.Builder, v any) error {
	if v == nil {
		fb.AppendNull()
		return nil
	}
	switch b := fb.(type) {
	case *array.StringBuilder:
		if s, ok := v.(string); ok {
			b.Append(s)
		} else {
			b.Append(fmt.Sprint(v))
		}
		return nil
	case *array.Int64Builder:
		if x, ok := asNumber[int64](v); ok {
			b.Append(x)
			return nil
		}
	case *array.Float64Builder:
		if x, ok := asNumber[float64](v); ok {
			b.Append(x)
			return nil
		}
	case *array.BooleanBuilder:
		if x, ok := v.(bool); ok {
			b.Append(x)
			return nil
		}
	case *array.Date32Builder:
		if t, ok := v.(time.Time); ok {
			b.Append(arrow.Date32FromTime(t.UTC()))
			return nil
		}
	case *array.TimestampBuilder:
		if t, ok := v.(time.Time); ok {
			b.Append(arrow.Timestamp(t.UnixMicro()))
			return nil
		}
	}
	return fmt.Errorf("unexpected %T value for %s", v, fb.Type())
}

// asNumber converts an int64 or float64 value to T; ok is false for any other.
func asNumber[T int64 | float64](v any) (x T, ok bool) {
	switch n := v.(type) {
	case int64:
		return T(n), true
	case float64:
		return T(n), true
	}
	return 0, false
}
