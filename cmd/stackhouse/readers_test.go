package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	stdsync "sync"
	"testing"
)

// TestMain lets a test run the stackhouse command in a process of its own
// (runAsMain): the test binary re-executes itself as the command. A DuckDB
// file lock is per process, so only separate processes show lock conflicts.
func TestMain(m *testing.M) {
	if os.Getenv("STACKHOUSE_TEST_AS_MAIN") == "1" {
		main() // signals as the binary handles them
	}
	os.Exit(m.Run())
}

// runAsMain runs `stackhouse args...` in its own process with env added.
func runAsMain(env []string, args ...string) (exit int, out string) {
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(append(os.Environ(), "STACKHOUSE_TEST_AS_MAIN=1"), env...)
	b, err := cmd.CombinedOutput()
	if err != nil && cmd.ProcessState == nil {
		return -1, err.Error()
	}
	return cmd.ProcessState.ExitCode(), string(b)
}

// TestReaders_neverBlockTheWriter: status and query, run in a loop in other
// processes, never make a sync fail on the warehouse's lock (they read the
// recorded status and the published copy, never the live file), and status
// with no warehouse creates none.
func TestReaders_neverBlockTheWriter(t *testing.T) {
	if testing.Short() {
		t.Skip("runs processes in a loop")
	}
	ten, baseURL := fakeAccount(t, 8, 300)
	cfg := writeConfig(t, baseURL, "${TEST_ACME_TOKEN}", fastAccount+"    attachments: false\n", "")
	dir := filepath.Dir(cfg)
	env := []string{"STACKHOUSE_CONFIG=" + cfg, "TEST_ACME_TOKEN=" + ten.Token}

	// Before any run: status says so and creates nothing.
	if code, out := runAsMain(env, "status"); code == 0 || !strings.Contains(out, "no warehouse at") {
		t.Errorf("status before any run: exit %d\n%s", code, out)
	}
	if _, err := os.Stat(filepath.Join(dir, "wh.duckdb")); !os.IsNotExist(err) {
		t.Fatalf("status created the warehouse file (%v)", err)
	}
	if code, out := runAsMain(env, "backfill", "-quiet"); code != 0 {
		t.Fatalf("backfill: exit %d\n%s", code, out)
	}

	stop := make(chan struct{})
	var wg stdsync.WaitGroup
	var mu stdsync.Mutex
	var readerFailures []string
	reads := 0
	for _, args := range [][]string{{"status"}, {"query", "funnel_conversion", "-format", "csv"}} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				code, out := runAsMain(env, args...)
				mu.Lock()
				reads++
				if code != 0 || !strings.Contains(out, "acme") {
					readerFailures = append(readerFailures, fmt.Sprintf("%s: exit %d: %s", args[0], code, out))
				}
				if args[0] == "query" && !strings.Contains(out, "reading the published copy") {
					readerFailures = append(readerFailures, "query did not say it reads the published copy: "+out)
				}
				mu.Unlock()
			}
		}()
	}
	for i := range 6 {
		if code, out := runAsMain(env, "sync"); code != 0 {
			t.Errorf("sync %d next to readers: exit %d\n%s", i, code, out)
		}
	}
	close(stop)
	wg.Wait()
	if reads < 4 {
		t.Errorf("only %d reads ran beside the syncs", reads)
	}
	for _, f := range readerFailures {
		t.Error(f)
	}
}
