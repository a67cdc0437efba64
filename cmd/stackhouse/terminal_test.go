package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stackhouse/stackhouse/applicantstack"
	"github.com/stackhouse/stackhouse/schema"
	"github.com/stackhouse/stackhouse/sync"
)

func TestRun_version(t *testing.T) {
	code, out, errOut := runCmd(t, "version")
	if code != 0 {
		t.Fatalf("version: exit %d: %s", code, errOut)
	}
	ms := schema.Migrations()
	for _, want := range []string{"go:     " + runtime.Version() + "\n", fmt.Sprintf("schema: %d\n", ms[len(ms)-1].Version)} {
		if !strings.Contains(out, want) {
			t.Errorf("version lacks %q:\n%s", want, out)
		}
	}
	if !regexp.MustCompile(`(?m)^duckdb: v\d+\.\d+\.\d+`).MatchString(out) {
		t.Errorf("version lacks the DuckDB version:\n%s", out)
	}
}

// TestNewLogger_durations: durations are seconds under a key ending in _s,
// in JSON and text alike, never integer nanoseconds.
func TestNewLogger_durations(t *testing.T) {
	for _, format := range []string{"json", "text"} {
		var buf bytes.Buffer
		newLogger(&buf, "info", format).Info("sync finished", slog.Duration("took", 89*time.Millisecond),
			slog.Group("phases", slog.Duration("pages", 1500*time.Millisecond)))
		out := buf.String()
		if format == "json" {
			var m map[string]any
			if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
				t.Fatal(err)
			}
			if m["took_s"] != 0.089 || m["phases"].(map[string]any)["pages_s"] != 1.5 || m["took"] != nil {
				t.Errorf("json: %s", out)
			}
			continue
		}
		if !strings.Contains(out, "took_s=0.089") || !strings.Contains(out, "phases.pages_s=1.5") {
			t.Errorf("text: %s", out)
		}
	}
}

// TestSummarize_errors: a failed account's error names the account once,
// and an unreachable host ends with a hint naming base_url and subdomain.
func TestSummarize_errors(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	c := applicantstack.NewClient("demo", "tok")
	c.BaseURL, c.MaxRetries, c.RequestsPerSecond = "http://"+addr, 0, 0
	_, apiErr := c.CandidatesPage(context.Background(), 1)
	if apiErr == nil {
		t.Fatal("no error from a closed port")
	}
	results := []sync.Result{{Run: schema.Run{AccountID: "demo", Status: "failed"},
		Err: fmt.Errorf("account demo: candidate page 1: %w", apiErr)}}
	var out bytes.Buffer
	err = summarize(&out, results, nil)
	if strings.Contains(out.String(), "demo: account demo") || !strings.Contains(out.String(), "demo: candidate page 1: ") {
		t.Errorf("error line repeats or lacks the account:\n%s", out.String())
	}
	var he *hintError
	if !errors.As(err, &he) || !strings.Contains(he.hint, "base_url") || !strings.Contains(he.hint, "subdomain") {
		t.Errorf("err = %v: want a hint naming base_url and subdomain", err)
	}
	if err.Error() != "1 of 1 account failed: demo" {
		t.Errorf("err = %q", err)
	}
	// Another failure gets no such hint.
	results[0].Err = errors.New("account demo: candidate page 1: 500 Internal Server Error")
	if err := summarize(&bytes.Buffer{}, results, nil); errors.As(err, &he) {
		t.Errorf("hint on a server error: %v", he.hint)
	}
}
