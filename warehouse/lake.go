package warehouse

import (
	"fmt"
	"path/filepath"
	"strings"
	"time"

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

// LakeAccountsSQL returns the statements that give a lake database the
// accounts and time_zone_days tables of migration 0002, which the metrics
// read every calendar date through: the Parquet tree does not carry them
// (time zones are configuration). accounts holds the given accounts (none:
// every account's dates are UTC dates, as in a warehouse that has no row
// for it); time_zone_days every local day from 1990 to 2099 of each zone
// they use, computed by the reading DuckDB's ICU extension. An unknown
// zone is an error naming the account.
func LakeAccountsSQL(accounts []Account) (string, error) {
	var b strings.Builder
	b.WriteString("CREATE OR REPLACE TABLE accounts (account_id VARCHAR NOT NULL, name VARCHAR, timezone VARCHAR NOT NULL, updated_at TIMESTAMPTZ NOT NULL, PRIMARY KEY (account_id));\n")
	seen := map[string]bool{}
	for _, a := range accounts {
		if a.ID == "" {
			return "", fmt.Errorf("accounts: an account has no id")
		}
		if _, err := time.LoadLocation(a.TimeZone); err != nil || a.TimeZone == "" {
			return "", fmt.Errorf("account %s: time zone %q: not an IANA zone", a.ID, a.TimeZone)
		}
		if seen[a.ID] {
			continue
		}
		seen[a.ID] = true
		name := "NULL"
		if a.Name != "" {
			name = quoteLiteral(a.Name)
		}
		fmt.Fprintf(&b, "INSERT INTO accounts VALUES (%s, %s, %s, now());\n", quoteLiteral(a.ID), name, quoteLiteral(a.TimeZone))
	}
	fmt.Fprintf(&b, `CREATE OR REPLACE TABLE time_zone_days AS
SELECT z.timezone, CAST(d.range AS DATE) AS local_date,
       timezone(z.timezone, d.range) AS starts_at,
       timezone(z.timezone, d.range + INTERVAL 1 DAY) AS ends_at
FROM (SELECT DISTINCT timezone FROM accounts) z,
     range(TIMESTAMP '%s', TIMESTAMP '%s', INTERVAL 1 DAY) d
ORDER BY z.timezone, local_date;
`, calendarFirst.Format("2006-01-02"), calendarLast.AddDate(0, 0, 1).Format("2006-01-02"))
	return b.String(), nil
}
