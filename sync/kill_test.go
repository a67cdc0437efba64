package sync

import (
	"context"
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

// TestSyncer_killedRunInterrupted kills a backfill with SIGKILL once it is
// fetching details, then runs it again: the killed run must be recorded
// interrupted with the counts it had committed, and the runs' requests must
// add up to no more than the fake served (no request counted twice).
func TestSyncer_killedRunInterrupted(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns subprocesses")
	}
	e := newEnv(t, 700, nil)
	sub := e.tenant.Subdomain
	e.fake.SetFaults(sub, fake.Faults{Latency: 2 * time.Millisecond})
	e.db.Close() // the children own the warehouse files
	dir := t.TempDir()
	child := func() *exec.Cmd {
		cmd := exec.Command(os.Args[0], "-test.run=^TestKillChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), "STACKHOUSE_KILL_CHILD=1", "STACKHOUSE_KILL_DIR="+dir,
			"STACKHOUSE_KILL_TOKEN="+e.tenant.Token, "STACKHOUSE_KILL_BASE="+e.base, "STACKHOUSE_KILL_MODE="+ModeBackfill)
		return cmd
	}
	cmd := child()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	// Kill once a few hundred details were served: the candidate scan and
	// some detail batches are committed by then.
	for killed := false; !killed; {
		select {
		case err := <-done:
			t.Fatalf("the child finished before the kill: %v", err)
		case <-time.After(5 * time.Millisecond):
			if e.fake.Stats(sub).Requests[fake.KindCandidate] >= 300 {
				cmd.Process.Signal(syscall.SIGKILL)
				<-done
				killed = true
			}
		}
	}
	if out, err := child().CombinedOutput(); err != nil {
		t.Fatalf("resuming child: %v\n%s", err, out)
	}
	served := e.fake.Stats(sub).Requests
	var total int64
	for _, n := range served {
		total += n
	}

	o := openDir(t, dir)
	defer o.db.Close()
	if n := o.count(`SELECT count(*) FROM sync_runs WHERE status = 'running'`); n != 0 {
		t.Errorf("%d runs still recorded as running", n)
	}
	var killedReq, killedPages, killedNew, resumedReq int64
	if err := o.sql().QueryRow(`SELECT requests, pages, rows_new FROM sync_runs WHERE status = 'interrupted' AND error LIKE '%process ended%'`).
		Scan(&killedReq, &killedPages, &killedNew); err != nil {
		t.Fatalf("the killed run is not recorded interrupted: %v", err)
	}
	if err := o.sql().QueryRow(`SELECT requests FROM sync_runs WHERE status = 'succeeded'`).Scan(&resumedReq); err != nil {
		t.Fatal(err)
	}
	if killedReq == 0 || killedPages == 0 || killedNew == 0 {
		t.Errorf("the killed run kept no counts: requests %d, pages %d, rows_new %d", killedReq, killedPages, killedNew)
	}
	// Requests made after the killed run's last commit are lost with it;
	// none may be counted twice.
	if killedReq+resumedReq > total || resumedReq >= total {
		t.Errorf("runs recorded %d + %d requests, the fake served %d", killedReq, resumedReq, total)
	}
	t.Logf("killed run: %d requests recorded; resumed: %d; fake served %d", killedReq, resumedReq, total)
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
