package sync

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stackhouse/stackhouse/applicantstack"
	"github.com/stackhouse/stackhouse/applicantstack/fake"
	"github.com/stackhouse/stackhouse/warehouse"
)

// TestKillChild is the subprocess of TestSyncer_killResume: it syncs the
// fake named by the environment into the warehouse directory and exits.
func TestKillChild(t *testing.T) {
	if os.Getenv("STACKHOUSE_KILL_CHILD") != "1" {
		t.Skip("subprocess of TestSyncer_killResume")
	}
	dir := os.Getenv("STACKHOUSE_KILL_DIR")
	cfg := DefaultConfig()
	cfg.Warehouse = WarehouseConfig{
		Path:           filepath.Join(dir, "wh.duckdb"),
		PublishedPath:  filepath.Join(dir, "published.duckdb"),
		ParquetDir:     filepath.Join(dir, "parquet"),
		AttachmentsDir: filepath.Join(dir, "files"),
	}
	cfg.Accounts = []AccountConfig{{
		Subdomain: "acme", Token: applicantstack.Secret(os.Getenv("STACKHOUSE_KILL_TOKEN")),
		BaseURL: os.Getenv("STACKHOUSE_KILL_BASE"), RequestsPerSecond: 10000, Burst: 100, Concurrency: 4,
	}}
	if err := FinishConfig(cfg); err != nil {
		t.Fatal(err)
	}
	db, err := warehouse.Open(context.Background(), cfg.Warehouse.Path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	s := NewSyncer(cfg, db)
	s.BatchRows, s.DetailChunk = 200, 150
	if _, err := s.Run(context.Background(), &cfg.Accounts[0], os.Getenv("STACKHOUSE_KILL_MODE")); err != nil {
		t.Fatal(err)
	}
}

// TestSyncer_killResume kills a syncing subprocess with SIGKILL at random
// moments, then lets a new one finish: the warehouse must end identical to
// one loaded without interruption, whatever the moment of the kill.
func TestSyncer_killResume(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns subprocesses")
	}
	ref := newEnv(t, 700, nil)
	ref.mustRun(ModeBackfill)
	want := normalize(ref.dump(), ref.base)

	// The fake the children read: same seed and clock, so same data.
	e := newEnv(t, 700, nil)
	e.fake.SetFaults(e.tenant.Subdomain, fake.Faults{Latency: time.Millisecond})
	e.db.Close() // the children own the warehouse files

	rng := rand.New(rand.NewPCG(1, 2))
	child := func(dir, mode string) *exec.Cmd {
		cmd := exec.Command(os.Args[0], "-test.run=^TestKillChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), "STACKHOUSE_KILL_CHILD=1", "STACKHOUSE_KILL_DIR="+dir,
			"STACKHOUSE_KILL_TOKEN="+e.tenant.Token, "STACKHOUSE_KILL_BASE="+e.base, "STACKHOUSE_KILL_MODE="+mode)
		return cmd
	}
	// How long an uninterrupted child takes bounds the kill moments.
	probe := t.TempDir()
	start := time.Now()
	if out, err := child(probe, ModeBackfill).CombinedOutput(); err != nil {
		t.Fatalf("uninterrupted child: %v\n%s", err, out)
	}
	full := time.Since(start)
	t.Logf("an uninterrupted backfill takes %v", full)

	const trials = 10
	killedMidRun := 0
	for trial := range trials {
		dir := t.TempDir()
		kills := 1 + rng.IntN(3)
		for k := range kills {
			cmd := child(dir, ModeBackfill)
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			// A resumed child has less left to do than the probe, and a
			// loaded machine runs slower: kill in the first 60 % of it.
			at := time.Duration(rng.Int64N(int64(full) * 6 / 10))
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			select {
			case <-done: // finished before the kill moment
			case <-time.After(at):
				cmd.Process.Signal(syscall.SIGKILL)
				<-done
				killedMidRun++
			}
			_ = k
		}
		if out, err := child(dir, ModeBackfill).CombinedOutput(); err != nil {
			t.Fatalf("trial %d: resuming child: %v\n%s", trial, err, out)
		}
		// A second, incremental sync must find nothing to do.
		if out, err := child(dir, ModeSync).CombinedOutput(); err != nil {
			t.Fatalf("trial %d: sync after resume: %v\n%s", trial, err, out)
		}
		got := dumpDir(t, dir, e.base)
		if got != want {
			t.Fatalf("trial %d (%d kills): warehouse differs from an uninterrupted load:\n%s", trial, kills, firstDiff(got, want))
		}
		if n := countIn(t, dir, `SELECT count(*) FROM sync_runs WHERE mode = 'sync' AND rows_new + rows_changed + rows_deleted > 0`); n != 0 {
			t.Fatalf("trial %d: the sync after the resumed backfill still found %d changes", trial, n)
		}
	}
	if killedMidRun < trials {
		t.Errorf("only %d kills landed mid-run", killedMidRun)
	}
	t.Logf("%d kills landed mid-run over %d trials", killedMidRun, trials)
}

func openDir(t *testing.T, dir string) *env {
	db, err := warehouse.Open(context.Background(), filepath.Join(dir, "wh.duckdb"))
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, db: db}
}

func dumpDir(t *testing.T, dir, base string) string {
	e := openDir(t, dir)
	defer e.db.Close()
	return normalize(e.dump(), base)
}

func countIn(t *testing.T, dir, q string) int {
	e := openDir(t, dir)
	defer e.db.Close()
	return e.count(q)
}

var _ = fmt.Sprint
