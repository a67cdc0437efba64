package warehouse

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/stackhouse/stackhouse/schema"
)

// LakeSQL returns the statements that make a DuckDB database a view of a
// published Parquet tree: one view per contract table, named as the table,
// over every account's file under root (a local directory, made absolute,
// or an s3:// URL, which the reading DuckDB needs its httpfs extension
// for). The views list the files at every query, so they always read the
// newest publish of every shard that writes into root; union_by_name lets
// shards a version apart differ in columns. With these views in place, the
// metric SQL runs unchanged (queries.CreateViews).
func LakeSQL(root string) (string, error) {
	if !strings.Contains(root, "://") {
		abs, err := filepath.Abs(root)
		if err != nil {
			return "", err
		}
		root = filepath.ToSlash(abs)
	}
	root = strings.TrimRight(root, "/")
	var b strings.Builder
	for _, t := range schema.ContractTables() {
		fmt.Fprintf(&b, "CREATE OR REPLACE VIEW %s AS SELECT * FROM read_parquet(%s, hive_partitioning = true, union_by_name = true);\n",
			quoteIdent(t), quoteLiteral(root+"/"+t+"/*/*.parquet"))
	}
	return b.String(), nil
}
