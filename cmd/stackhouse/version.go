package main

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/stackhouse/stackhouse/schema"
)

// version is set by the Makefile with -ldflags "-X main.version=…".
var version = "dev"

func versionFlags(*flag.FlagSet) action {
	return func(ctx context.Context, in *invocation) error {
		duck, err := duckDBVersion(ctx)
		if err != nil {
			return err
		}
		ms := schema.Migrations()
		fmt.Fprintf(in.stdout, "stackhouse %s\ngo:     %s\nduckdb: %s\nschema: %d\n",
			versionString(), runtime.Version(), duck, ms[len(ms)-1].Version)
		return nil
	}
}

// duckDBVersion asks the linked DuckDB library for its version.
func duckDBVersion(ctx context.Context) (string, error) {
	db, err := sql.Open("duckdb", "")
	if err != nil {
		return "", err
	}
	defer db.Close()
	var v string
	if err := db.QueryRowContext(ctx, "SELECT version()").Scan(&v); err != nil {
		return "", fmt.Errorf("duckdb version: %w", err)
	}
	return v, nil
}

// versionString is the version set at build time, or dev-<commit> from the
// build's VCS stamp.
func versionString() string {
	v := version
	if info, ok := debug.ReadBuildInfo(); ok && v == "dev" {
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				v = "dev-" + s.Value[:12]
			}
		}
	}
	return strings.TrimSpace(v)
}
