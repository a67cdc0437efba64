// Reads a stackhouse Parquet tree with polars (nodejs-polars), not DuckDB,
// and prints what the Go test checks, as JSON: per table the rows per
// account_id (from inside the files), the dtype of account_id, of every
// timestamp column and of remote_data, and whether every remote_data value
// parses as JSON.
//
//   node read.js <parquet_dir> <table>...
const pl = require("nodejs-polars");

const [root, ...tables] = process.argv.slice(2);
const out = {};
for (const table of tables) {
  const df = pl.scanParquet(`${root}/${table}/*/*.parquet`).collectSync();
  const counts = {};
  for (const a of df.getColumn("account_id").toArray()) {
    counts[a] = (counts[a] || 0) + 1;
  }
  const dtypes = {};
  for (const c of df.columns) {
    let t;
    try {
      t = String(df.getColumn(c).dtype);
    } catch (e) {
      // nodejs-polars cannot hand a Binary dtype to JS: polars reads
      // Parquet's JSON logical type (remote_data, payload) as binary.
      t = /Binary/.test(e.message) ? "DataType(Binary)" : "error: " + e.message;
    }
    if (c === "account_id" || c === "remote_data" || t.startsWith("DataType(Datetime")) {
      dtypes[c] = t;
    }
  }
  let jsonOK = null;
  if (df.columns.includes("remote_data")) {
    // polars reads Parquet's JSON logical type as binary: cast to text.
    const text = df.select(pl.col("remote_data").cast(pl.String)).getColumn("remote_data").toArray();
    jsonOK = text.every((v) => v === null || typeof JSON.parse(v) === "object");
  }
  out[table] = { rows: df.height, counts, dtypes, jsonOK };
}
process.stdout.write(JSON.stringify(out));
