package daemon

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stackhouse/stackhouse/schema"
	"github.com/stackhouse/stackhouse/sync"
	"github.com/stackhouse/stackhouse/warehouse/warehousetest"
)

func TestDaemon_scheduledRunsNeverOverlap(t *testing.T) {
	noLeaks(t) // serial: two accounts syncing and publishing every second
	e, ln := newHookEnv(t, 150, nil)
	e.addAccount("beta", 120)
	e.s.Publish = true
	d := e.daemon(ln, sync.ScheduleConfig{Tail: "@every 1s", Sync: "@every 2s", Jitter: 300 * time.Millisecond})
	stop := start(t, d)
	enough := func(account string) bool {
		var tails, syncs int
		for _, r := range e.runs(account) {
			switch {
			case r.status != schema.RunSucceeded:
			case r.mode == sync.ModeTail:
				tails++
			case r.mode == sync.ModeSync:
				syncs++
			}
		}
		return tails >= 2 && syncs >= 2
	}
	waitFor(t, 90*time.Second, "two tail and two sync runs of each account", func() bool {
		return enough("acme") && enough("beta")
	})
	_, metrics := get(t, d, "/metrics")
	code, ready := get(t, d, "/readyz")
	if took, err := stop(); err != nil {
		t.Fatalf("Run = %v after %v", err, took)
	}

	for _, account := range []string{"acme", "beta"} {
		runs := e.runs(account)
		for i, r := range runs {
			if r.status != schema.RunSucceeded {
				t.Errorf("%s run %d (%s) %s", account, i, r.mode, r.status)
			}
			if i > 0 && r.started.Before(runs[i-1].finished) {
				t.Errorf("%s: %s run started at %v, before the %s run before it finished at %v",
					account, r.mode, r.started, runs[i-1].mode, runs[i-1].finished)
			}
		}
		want := fmt.Sprintf(`stackhouse_sync_runs_total{account=%q,mode="sync",result="succeeded"}`, account)
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
		if !strings.Contains(ready, fmt.Sprintf(`"account":%q,"last_run":{`, account)) {
			t.Errorf("/readyz lacks %s's last run: %s", account, ready)
		}
	}
	if code != http.StatusOK {
		t.Errorf("/readyz = %d %s", code, ready)
	}
	for _, m := range []string{"stackhouse_api_requests_total", "stackhouse_api_retries_total", "stackhouse_api_throttled_total",
		"stackhouse_rows_total", "stackhouse_sync_run_duration_seconds", "stackhouse_last_success_timestamp_seconds",
		"stackhouse_webhook_events_total", "go_goroutines"} {
		if !strings.Contains(metrics, m) {
			t.Errorf("/metrics lacks %s", m)
		}
	}
	// The published copy was refreshed by the runs and opens read-only.
	published := warehousetest.OpenCopy(t, e.cfg.Warehouse.PublishedPath)
	if n := warehousetest.Count(t, published, `SELECT count(*) FROM candidates`); n != 150+120 {
		t.Errorf("published copy has %d candidates, want %d", n, 270)
	}
}

func TestDaemon_panicDoesNotStopLaterRuns(t *testing.T) {
	t.Parallel() // leaks: see TestMain
	e, ln := newHookEnv(t, 100, nil)
	d := e.daemon(ln, sync.ScheduleConfig{Tail: "@every 1s"})
	var calls atomic.Int32
	d.RunAccount = func(ctx context.Context, a *sync.AccountConfig, mode string) (schema.Run, error) {
		if calls.Add(1) == 1 {
			panic("injected panic")
		}
		return e.s.Run(ctx, a, mode)
	}
	stop := start(t, d)
	waitFor(t, 60*time.Second, "two runs after the panic", func() bool {
		return e.count(`SELECT count(*) FROM sync_runs WHERE status = 'succeeded'`) >= 2
	})
	_, metrics := get(t, d, "/metrics")
	if _, err := stop(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(metrics, `stackhouse_sync_runs_total{account="acme",mode="tail",result="panic"} 1`) {
		t.Errorf("the panic is not counted:\n%s", grepLines(metrics, "stackhouse_sync_runs_total"))
	}
	if !strings.Contains(e.logs.String(), "injected panic") {
		t.Error("the panic was not logged")
	}
}

func TestDaemon_failingAccountBacksOff(t *testing.T) {
	t.Parallel() // leaks: see TestMain
	e, ln := newHookEnv(t, 100, nil)
	e.addAccount("beta", 50)
	d := e.daemon(ln, sync.ScheduleConfig{Tail: "@every 1s"})
	d.FailureBackoff = time.Hour
	var betaCalls atomic.Int32
	d.RunAccount = func(ctx context.Context, a *sync.AccountConfig, mode string) (schema.Run, error) {
		if a.Subdomain == "beta" {
			betaCalls.Add(1)
			return schema.Run{AccountID: "beta", Mode: mode}, errors.New("injected failure")
		}
		return e.s.Run(ctx, a, mode)
	}
	stop := start(t, d)
	waitFor(t, 60*time.Second, "three runs of the healthy account", func() bool {
		return e.count(`SELECT count(*) FROM sync_runs WHERE account_id = 'acme' AND status = 'succeeded'`) >= 3
	})
	_, metrics := get(t, d, "/metrics")
	if _, err := stop(); err != nil {
		t.Fatal(err)
	}
	if n := betaCalls.Load(); n != 1 {
		t.Errorf("the failing account was run %d times, want 1 then back off for an hour", n)
	}
	if !strings.Contains(metrics, `stackhouse_sync_skipped_total{account="beta",reason="backoff"}`) {
		t.Errorf("backoff skips not counted:\n%s", grepLines(metrics, "skipped"))
	}
	if n := strings.Count(e.logs.String(), "backing off after failed runs"); n > 1 {
		t.Errorf("the backoff was logged %d times, want at most once a minute", n)
	}
}

func TestDaemon_shutdownDuringSyncResumes(t *testing.T) {
	noLeaks(t)
	e, ln := newHookEnv(t, 400, nil)
	// The sync reads 2 of the 4 candidate pages, commits them with their
	// checkpoint, and waits for the rest until the shutdown interrupts it.
	e.s.BatchRows = 100
	hold := e.hold("/api/candidates/", 2)
	defer hold.open()
	d := e.daemon(ln, sync.ScheduleConfig{Sync: "@every 1s"})
	d.ShutdownTimeout = 300 * time.Millisecond
	stop := start(t, d)
	waitHeld(t, hold, time.Minute)
	waitFor(t, time.Minute, "the sync's checkpoint", func() bool {
		return e.count(`SELECT count(*) FROM sync_checkpoints`) > 0
	})
	took, err := stop()
	if err != nil {
		t.Fatalf("Run = %v", err)
	}
	if took > d.ShutdownTimeout+5*time.Second {
		t.Errorf("shutdown took %v with a timeout of %v", took, d.ShutdownTimeout)
	}
	runs := e.runs("acme")
	if len(runs) == 0 || runs[len(runs)-1].status != schema.RunInterrupted {
		t.Fatalf("runs after the shutdown: %+v, want the last one interrupted", runs)
	}
	if e.count(`SELECT count(*) FROM sync_checkpoints`) == 0 {
		t.Fatal("the interrupted sync left no checkpoint")
	}

	// Restart on the reopened warehouse (a new syncer, nothing held): the
	// next sync finishes the work.
	e.db.Close()
	e.open()
	ln2, _ := hookListener(t, "acme")
	d2 := e.daemon(ln2, sync.ScheduleConfig{Sync: "@every 1s"})
	stop2 := start(t, d2)
	waitFor(t, 120*time.Second, "a successful sync after the restart", func() bool {
		return e.count(`SELECT count(*) FROM sync_runs WHERE status = 'succeeded'`) > 0
	})
	if _, err := stop2(); err != nil {
		t.Fatal(err)
	}

	ref := &env{t: t, fake: e.fake, base: e.base, tenant: e.tenant, dir: t.TempDir(), logs: e.logs}
	ref.cfg = ref.config()
	ref.open()
	ref.mustRun(sync.ModeSync)
	if got, want := e.stateOf(), ref.stateOf(); got != want {
		t.Fatalf("resumed warehouse differs from an uninterrupted sync:\nonly resumed: %q\nonly uninterrupted: %q",
			missing(got, want), missing(want, got))
	}
}

func TestPlan(t *testing.T) {
	t.Parallel()
	p, err := newPlan(sync.ScheduleConfig{Tail: "*/5 * * * *", Sync: "0 * * * *", Full: "30 2 * * *"})
	if err != nil {
		t.Fatal(err)
	}
	at := func(h, m int) time.Time { return time.Date(2026, 3, 16, h, m, 0, 0, time.Local) }
	if next := p.Next(at(1, 52)); !next.Equal(at(1, 55)) {
		t.Fatalf("Next(01:52) = %v", next)
	}
	steps := []struct {
		now      time.Time
		wantNext time.Time
		take     bool
		want     string
	}{
		{at(1, 55), at(2, 0), true, sync.ModeTail},
		{at(2, 0), at(2, 5), true, sync.ModeSync}, // tail and sync due: sync covers tail
		{at(2, 5), at(2, 10), false, ""},          // a skipped firing: tail stays owed
		{at(2, 10), at(2, 15), true, sync.ModeTail},
		{at(2, 30), at(2, 35), true, sync.ModeFull}, // full, at a tail time
		{at(3, 0), at(3, 5), true, sync.ModeSync},
	}
	for _, s := range steps {
		if s.take {
			if got := p.take(s.now); got != s.want {
				t.Errorf("take at %s = %q, want %q", s.now.Format("15:04"), got, s.want)
			}
		}
		if next := p.Next(s.now); !next.Equal(s.wantNext) {
			t.Errorf("Next(%s) = %s, want %s", s.now.Format("15:04"), next.Format("15:04"), s.wantNext.Format("15:04"))
		}
	}
	p.owe(sync.ModeSync)
	if got := p.take(at(3, 1)); got != sync.ModeSync {
		t.Errorf("take after owe(sync) = %q", got)
	}
	if got := p.take(at(3, 2)); got != "" {
		t.Errorf("take with nothing due = %q", got)
	}
	if p, _ := newPlan(sync.ScheduleConfig{}); p != nil {
		t.Error("an empty schedule gives a plan")
	}
	if _, err := newPlan(sync.ScheduleConfig{Tail: "every 5m"}); err == nil {
		t.Error("a bad expression is accepted")
	}
}

func TestBackoff(t *testing.T) {
	t.Parallel()
	tests := []struct {
		failures int
		want     time.Duration
	}{
		{0, 0}, {1, time.Minute}, {2, 2 * time.Minute}, {3, 4 * time.Minute},
		{6, 32 * time.Minute}, {7, time.Hour}, {1000, time.Hour},
	}
	for _, tt := range tests {
		if got := backoff(tt.failures, time.Minute, time.Hour); got != tt.want {
			t.Errorf("backoff(%d) = %v, want %v", tt.failures, got, tt.want)
		}
	}
}
