// Package schema holds stackhouse's unified model: the DuckDB DDL migrations
// (the warehouse contract BI users depend on), the Go row types that mirror
// the tables, and the mapping from ApplicantStack records to those rows,
// including funnel-stage rules and the removal of sensitive fields.
//
// Row types use Go zero values for SQL NULL: an empty string, a zero
// time.Time, a nil json.RawMessage or a nil pointer is written as NULL, so
// the warehouse never holds an empty string. FirstSeenAt, LastSeenAt and RemoteDeletedAt
// are kept by the warehouse itself (see warehouse.DB.Write); values set by
// a caller are ignored on write.
package schema

import (
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// Migration is one DDL file of migrations/, named NNNN_name.sql.
type Migration struct {
	Version int    // NNNN, starting at 1, strictly increasing
	Name    string // the file name without the version and extension
	SQL     string
}

// Migrations returns the embedded migrations in version order. The files are
// compiled into the binary, so a malformed name is a programming error:
// Migrations panics on one (a test guards against it).
func Migrations() []Migration {
	names, err := fs.Glob(migrationFS, "migrations/*.sql")
	if err != nil {
		panic(err)
	}
	ms := make([]Migration, 0, len(names))
	for _, name := range names {
		m, err := parseMigrationName(path.Base(name))
		if err != nil {
			panic("schema: " + err.Error())
		}
		b, err := migrationFS.ReadFile(name)
		if err != nil {
			panic(err)
		}
		m.SQL = string(b)
		ms = append(ms, m)
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].Version < ms[j].Version })
	for i := 1; i < len(ms); i++ {
		if ms[i].Version == ms[i-1].Version {
			panic(fmt.Sprintf("schema: migrations %q and %q share version %d", ms[i-1].Name, ms[i].Name, ms[i].Version))
		}
	}
	return ms
}

func parseMigrationName(file string) (Migration, error) {
	base, ok := strings.CutSuffix(file, ".sql")
	if !ok {
		return Migration{}, fmt.Errorf("migration %q: not a .sql file", file)
	}
	num, name, ok := strings.Cut(base, "_")
	if !ok || name == "" {
		return Migration{}, fmt.Errorf("migration %q: want NNNN_name.sql", file)
	}
	v, err := strconv.Atoi(num)
	if err != nil || v < 1 {
		return Migration{}, fmt.Errorf("migration %q: version %q is not a positive number", file, num)
	}
	return Migration{Version: v, Name: name}, nil
}
