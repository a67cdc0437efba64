package daemon

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	stdsync "sync"
	"testing"
	"time"

	"github.com/stackhouse/stackhouse/applicantstack/fake"
	"github.com/stackhouse/stackhouse/sync"
)

// hookPayload is a candidate stage-change notification as ApplicantStack
// sends it, minus the keys del names.
func hookPayload(secret, serial, stage string, at time.Time, del ...string) map[string]string {
	p := map[string]string{
		"Object Type": "candidate", "Event Type": "stagechange", "Domain": "acme", "Secret": secret,
		"Event Date": at.Format(time.RFC3339), "Stage": stage, "Candidate Serial": serial,
		"Job Serial": "a2acme00job1", "User Serial": "a1user", "User Type": "USER",
	}
	for _, k := range del {
		delete(p, k)
	}
	return p
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// post sends a webhook to the daemon and returns the status.
func post(t testing.TB, client *http.Client, d *Daemon, account string, body []byte) int {
	t.Helper()
	resp, err := client.Post("http://"+d.Addr()+"/webhooks/applicantstack/"+account, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestDaemon_webhookRefused(t *testing.T) {
	noLeaks(t)
	e, ln := newHookEnv(t, 50, nil)
	e.cfg.Accounts = append(e.cfg.Accounts, sync.AccountConfig{Subdomain: "nosecret", Token: "t", BaseURL: e.base})
	if err := sync.FinishConfig(e.cfg); err != nil {
		t.Fatal(err)
	}
	d := e.daemon(ln, sync.ScheduleConfig{})
	stop := start(t, d)
	client := &http.Client{Timeout: 10 * time.Second}
	defer client.CloseIdleConnections()
	secret := e.tenant.WebhookSecret
	serials, _ := e.fake.Serials("acme", fake.ListCandidates)
	at := time.Date(2026, 3, 16, 10, 0, 0, 0, time.UTC)
	huge := hookPayload(secret, serials[0], "Interview", at)
	huge["Padding"] = strings.Repeat("x", 1<<20)

	tests := []struct {
		name    string
		account string
		body    []byte
		want    int
	}{
		{"wrong secret", "acme", mustJSON(t, hookPayload("wrong", serials[0], "Interview", at)), http.StatusUnauthorized},
		{"missing secret", "acme", mustJSON(t, hookPayload(secret, serials[0], "Interview", at, "Secret")), http.StatusUnauthorized},
		{"secret with different case", "acme", mustJSON(t, hookPayload(strings.ToUpper(secret), serials[0], "Interview", at)), http.StatusUnauthorized},
		{"no secret configured", "nosecret", mustJSON(t, hookPayload("", serials[0], "Interview", at)), http.StatusUnauthorized},
		{"over 1 MiB", "acme", mustJSON(t, huge), http.StatusRequestEntityTooLarge},
		{"malformed JSON", "acme", []byte(`{"Object Type": "candidate", "Secret": `), http.StatusBadRequest},
		{"not JSON", "acme", []byte("hello"), http.StatusBadRequest},
		{"empty", "acme", nil, http.StatusBadRequest},
		{"missing serial", "acme", mustJSON(t, hookPayload(secret, serials[0], "Interview", at, "Candidate Serial")), http.StatusBadRequest},
		{"missing stage", "acme", mustJSON(t, hookPayload(secret, serials[0], "Interview", at, "Stage")), http.StatusBadRequest},
		{"bad date", "acme", bytes.Replace(mustJSON(t, hookPayload(secret, serials[0], "Interview", at)), []byte("2026-03-16T10"), []byte("yesterday"), 1), http.StatusBadRequest},
		{"unknown account", "nobody", mustJSON(t, hookPayload(secret, serials[0], "Interview", at)), http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := post(t, client, d, tt.account, tt.body); got != tt.want {
				t.Errorf("status %d, want %d", got, tt.want)
			}
			if n := e.count(`SELECT count(*) FROM webhook_events`) + e.count(`SELECT count(*) FROM stage_events`); n != 0 {
				t.Errorf("a refused webhook stored %d rows", n)
			}
		})
	}
	resp, err := client.Get("http://" + d.Addr() + "/webhooks/applicantstack/acme")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET = %d, want 405", resp.StatusCode)
	}
	// The same endpoint stores a good one, as JSON or as a form.
	if got := post(t, client, d, "acme", mustJSON(t, hookPayload(secret, serials[0], "Interview", at))); got != http.StatusOK {
		t.Fatalf("good webhook = %d", got)
	}
	form := "Object+Type=candidate&Event+Type=stagechange&Secret=" + secret + "&Stage=Offer&Candidate+Serial=" +
		serials[1] + "&Event+Date=2026-03-16T11%3A00%3A00-04%3A00"
	resp, err = client.Post("http://"+d.Addr()+"/webhooks/applicantstack/acme", "application/x-www-form-urlencoded", strings.NewReader(form))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("form webhook = %d", resp.StatusCode)
	}
	_, metrics := get(t, d, "/metrics")
	if _, err := stop(); err != nil {
		t.Fatal(err)
	}
	if n := e.count(`SELECT count(*) FROM webhook_events`); n != 2 {
		t.Errorf("%d events stored, want 2", n)
	}
	for _, want := range []string{
		`stackhouse_webhook_events_total{account="acme",result="unauthorized"} 3`,
		`stackhouse_webhook_events_total{account="nosecret",result="unauthorized"} 1`,
		`stackhouse_webhook_events_total{account="acme",result="too_large"} 1`,
		`stackhouse_webhook_events_total{account="acme",result="malformed"} 6`,
		`stackhouse_webhook_events_total{account="unknown",result="unknown_account"} 1`,
		`stackhouse_webhook_events_total{account="acme",result="accepted"} 2`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s:\n%s", want, grepLines(metrics, "webhook_events_total"))
		}
	}
	if strings.Contains(e.logs.String(), secret) {
		t.Error("the webhook secret appears in the logs")
	}
}

// TestDaemon_webhookBadNeighbours sends signed webhooks from 32 senders at
// once, every third one impossible (a zero date, a NUL byte, a serial of no
// known form, an oversized stage): each impossible one is answered 400 with
// a reason and stores nothing, and each valid one, whatever group commit it
// shared, is answered 200 and stored with its stage event.
func TestDaemon_webhookBadNeighbours(t *testing.T) {
	noLeaks(t)
	e, ln := newHookEnv(t, 60, nil)
	d := e.daemon(ln, sync.ScheduleConfig{})
	stop := start(t, d)
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 32}}
	defer client.CloseIdleConnections()
	secret := e.tenant.WebhookSecret
	serials, _ := e.fake.Serials("acme", fake.ListCandidates)
	at := time.Date(2026, 3, 16, 10, 0, 0, 0, time.UTC)
	spoil := []func(p map[string]string){
		func(p map[string]string) { p["Event Date"] = "0001-01-01T00:00:00Z" },
		func(p map[string]string) { p["Stage"] = "Inter\x00view" },
		func(p map[string]string) { p["Candidate Serial"] = "../../admin" },
		func(p map[string]string) { p["Stage"] = strings.Repeat("Interview ", 1000) },
	}
	type hook struct {
		body   []byte
		valid  bool
		serial string
		at     time.Time
		status int
		answer string
	}
	hooks := make([]hook, 384)
	for i := range hooks {
		h := hook{valid: i%3 != 0, serial: serials[i%len(serials)], at: at.Add(time.Duration(i) * time.Minute)}
		p := hookPayload(secret, h.serial, "Interview", h.at)
		if !h.valid {
			spoil[(i/3)%len(spoil)](p)
		}
		h.body = mustJSON(t, p)
		hooks[i] = h
	}
	next := make(chan int)
	var wg stdsync.WaitGroup
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				resp, err := client.Post("http://"+d.Addr()+"/webhooks/applicantstack/acme", "application/json", bytes.NewReader(hooks[i].body))
				if err != nil {
					hooks[i].answer = err.Error()
					continue
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				hooks[i].status, hooks[i].answer = resp.StatusCode, string(b)
			}
		}()
	}
	for i := range hooks {
		next <- i
	}
	close(next)
	wg.Wait()
	if _, err := stop(); err != nil {
		t.Fatal(err)
	}
	valid, bad := 0, 0
	for i, h := range hooks {
		switch {
		case h.valid && h.status != http.StatusOK:
			if bad++; bad <= 5 {
				t.Errorf("valid webhook %d: %d %s", i, h.status, h.answer)
			}
		case h.valid:
			valid++
			if n := e.count(`SELECT count(*) FROM webhook_events WHERE object_id = ? AND event_date = ?`, h.serial, h.at); n != 1 {
				t.Errorf("valid webhook %d answered 200 but %d events stored", i, n)
			}
			if n := e.count(`SELECT count(*) FROM stage_events WHERE candidate_id = ? AND origin = 'webhook' AND changed_at = ?`, h.serial, h.at); n != 1 {
				t.Errorf("valid webhook %d answered 200 but %d stage events stored", i, n)
			}
		case h.status != http.StatusBadRequest || !strings.Contains(h.answer, `"error"`):
			if bad++; bad <= 5 {
				t.Errorf("impossible webhook %d: %d %s, want 400 with a reason", i, h.status, h.answer)
			}
		}
	}
	if bad > 0 {
		t.Errorf("%d of %d webhooks answered wrongly", bad, len(hooks))
	}
	if n := e.count(`SELECT count(*) FROM webhook_events`); n != valid {
		t.Errorf("%d webhook events stored, want the %d valid ones", n, valid)
	}
}

// TestDaemon_webhookPrivacy: an SSN-shaped string in a signed webhook's
// Stage is masked in every column it reaches, not only in the payload.
func TestDaemon_webhookPrivacy(t *testing.T) {
	noLeaks(t)
	e, ln := newHookEnv(t, 20, nil)
	d := e.daemon(ln, sync.ScheduleConfig{})
	stop := start(t, d)
	client := &http.Client{Timeout: 10 * time.Second}
	defer client.CloseIdleConnections()
	serials, _ := e.fake.Serials("acme", fake.ListCandidates)
	p := hookPayload(e.tenant.WebhookSecret, serials[0], "Offer 123-45-6789", time.Date(2026, 3, 16, 10, 0, 0, 0, time.UTC))
	if got := post(t, client, d, "acme", mustJSON(t, p)); got != http.StatusOK {
		t.Fatalf("webhook = %d", got)
	}
	if _, err := stop(); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`SELECT count(*) FROM webhook_events WHERE stage = 'Offer XXX-XX-XXXX'`,
		`SELECT count(*) FROM stage_events WHERE stage = 'Offer XXX-XX-XXXX' AND origin = 'webhook'`,
	} {
		if n := e.count(q); n != 1 {
			t.Errorf("%s = %d, want 1", q, n)
		}
	}
	for _, q := range []string{
		`SELECT count(*) FROM webhook_events WHERE strpos(stage || payload::VARCHAR, '123-45-6789') > 0`,
		`SELECT count(*) FROM stage_events WHERE strpos(stage, '123-45-6789') > 0`,
	} {
		if n := e.count(q); n != 0 {
			t.Errorf("%s = %d: the SSN is stored", q, n)
		}
	}
}

func TestDaemon_webhookDuplicatesAndOutOfOrder(t *testing.T) {
	noLeaks(t)
	e, ln := newHookEnv(t, 300, nil)
	e.mustRun(sync.ModeSync)
	d := e.daemon(ln, sync.ScheduleConfig{})
	stop := start(t, d)
	e.fake.SetFaults("acme", fake.Faults{WebhookDuplicateRate: 1, WebhookOutOfOrder: true, WebhookHold: time.Second})

	// Move two active candidates twice each: every notification arrives
	// twice, and each pair swapped.
	pipeline, _ := e.fake.Pipeline("acme")
	var moved []string
	final := map[string]string{}
	serials, _ := e.fake.Serials("acme", fake.ListCandidates)
	for _, s := range slices.Backward(serials) {
		_, detail := e.truth(s)
		i := slices.Index(pipeline, string(detail.Stage))
		if i < 0 || i+2 >= len(pipeline) || detail.StageType != "" {
			continue
		}
		for _, stage := range pipeline[i+1 : i+3] {
			if err := e.fake.MoveStage("acme", s, stage); err != nil {
				t.Fatal(err)
			}
			final[s] = stage
		}
		if moved = append(moved, s); len(moved) == 2 {
			break
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := e.fake.FlushWebhooks(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "the events applied", func() bool {
		return e.count(`SELECT count(*) FROM webhook_events WHERE applied_at IS NULL`) == 0
	})
	_, metrics := get(t, d, "/metrics")
	if _, err := stop(); err != nil {
		t.Fatal(err)
	}
	if st := e.fake.Stats("acme"); st.WebhookDelivered != 8 {
		t.Fatalf("fake delivered %d notifications, want 8", st.WebhookDelivered)
	}
	if n := e.count(`SELECT count(*) FROM webhook_events`); n != 4 {
		t.Errorf("%d webhook events stored from 8 deliveries of 4 events", n)
	}
	if !strings.Contains(metrics, `stackhouse_webhook_events_total{account="acme",result="duplicate"} 4`) {
		t.Errorf("duplicates not counted:\n%s", grepLines(metrics, "webhook_events_total"))
	}
	for _, s := range moved {
		ct, detail := e.truth(s)
		var stage string
		if err := e.sql().QueryRow(`SELECT stage FROM candidates WHERE candidate_id = ?`, s).Scan(&stage); err != nil {
			t.Fatal(err)
		}
		if stage != final[s] || stage != string(detail.Stage) {
			t.Errorf("candidate %s: stage %q, want the latest event's %q (truth %q)", s, stage, final[s], detail.Stage)
		}
		// One webhook stage event per move, dated by the event.
		for _, h := range ct.History[len(ct.History)-2:] {
			if n := e.count(`SELECT count(*) FROM stage_events WHERE candidate_id = ? AND origin = 'webhook' AND stage = ? AND changed_at = ?`,
				s, h.Stage, h.Time); n != 1 {
				t.Errorf("candidate %s: %d webhook stage events for %s at %v", s, n, h.Stage, h.Time)
			}
		}
	}
}

// TestDaemon_webhookRefreshFailures makes every API request fail while
// webhooks arrive: the refreshes fail, shrink to single candidates and are
// left to the scheduled pass, which picks them up once the API is back.
func TestDaemon_webhookRefreshFailures(t *testing.T) {
	t.Parallel() // leaks: see TestMain
	e, ln := newHookEnv(t, 100, nil)
	e.mustRun(sync.ModeSync)
	e.fastRetries()
	d := e.daemon(ln, sync.ScheduleConfig{Tail: "@every 1s"})
	stop := start(t, d)
	e.fake.SetFaults("acme", fake.Faults{ErrorRate: 1})
	client := &http.Client{Timeout: 10 * time.Second}
	defer client.CloseIdleConnections()
	serials, _ := e.fake.Serials("acme", fake.ListCandidates)
	at := time.Date(2026, 3, 16, 10, 0, 0, 0, time.UTC)
	for i, s := range serials[:4] {
		if got := post(t, client, d, "acme", mustJSON(t, hookPayload(e.tenant.WebhookSecret, s, "Interview", at.Add(time.Duration(i)*time.Minute)))); got != http.StatusOK {
			t.Fatalf("webhook = %d", got)
		}
	}
	failed := regexp.MustCompile(`stackhouse_sync_runs_total\{account="acme",mode="webhook",result="failed"\} (\d+)`)
	waitFor(t, 60*time.Second, "refreshes of 4, 2 and 1 candidates failed", func() bool {
		_, metrics := get(t, d, "/metrics")
		m := failed.FindStringSubmatch(metrics)
		if m == nil {
			return false
		}
		n, _ := strconv.Atoi(m[1])
		return n >= 3
	})
	if n := e.count(`SELECT count(*) FROM webhook_events WHERE applied_at IS NULL`); n != 4 {
		t.Errorf("%d events pending while the API fails, want 4", n)
	}
	e.fake.SetFaults("acme", fake.Faults{})
	waitFor(t, 60*time.Second, "the events applied once the API is back", func() bool {
		return e.count(`SELECT count(*) FROM webhook_events WHERE applied_at IS NULL`) == 0
	})
	if _, err := stop(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(e.logs.String(), "left to the next scheduled pass") {
		t.Error("the single failing candidate was not logged")
	}
}

func TestDaemon_hireWebhookAppliedBySync(t *testing.T) {
	t.Parallel() // leaks: see TestMain
	e, ln := newHookEnv(t, 120, nil)
	e.mustRun(sync.ModeSync)
	hires, _ := e.fake.Serials("acme", fake.ListHires)
	if len(hires) == 0 {
		t.Fatal("the tenant has no hires")
	}
	serial := hires[0]
	var stage string
	if err := e.sql().QueryRow(`SELECT stage FROM hires WHERE hire_id = ?`, serial).Scan(&stage); err != nil {
		t.Fatal(err)
	}
	next := "Complete"
	if stage == next {
		next = "In Progress"
	}
	d := e.daemon(ln, sync.ScheduleConfig{Sync: "@every 1s"})
	stop := start(t, d)
	if err := e.fake.MoveHireStage("acme", serial, next); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := e.fake.FlushWebhooks(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 60*time.Second, "the hire event applied by a sync", func() bool {
		return e.count(`SELECT count(*) FROM webhook_events WHERE object_type = 'hire' AND object_id = ? AND applied_at IS NOT NULL`, serial) == 1
	})
	if _, err := stop(); err != nil {
		t.Fatal(err)
	}
	if err := e.sql().QueryRow(`SELECT stage FROM hires WHERE hire_id = ?`, serial).Scan(&stage); err != nil || stage != next {
		t.Errorf("hire %s: stage %q (%v), want %q", serial, stage, err, next)
	}
	if n := e.count(`SELECT count(*) FROM sync_runs WHERE mode = 'webhook'`); n != 0 {
		t.Errorf("a hire event triggered %d candidate refreshes", n)
	}
}

// TestDaemon_webhookBurstDuringSync sends 5,000 notifications while a sync
// of the account runs and writes: every one is stored with its stage event,
// none is refused or retried, and after a restart (the sync kept the
// account busy, so the refreshes were still pending) every candidate is
// refreshed to the fake's ground truth. The sync's later detail requests
// are held until the test ends, so it cannot end before the burst.
func TestDaemon_webhookBurstDuringSync(t *testing.T) {
	if testing.Short() && !raceEnabled() {
		t.Skip("a 21,000-application sync and 5,000 webhooks (make test runs it; the race pass runs it smaller)")
	}
	noLeaks(t)
	n, candidates := 5000, 21000
	if raceEnabled() {
		n, candidates = 1000, 4500
	}
	e, ln := newHookEnv(t, candidates, nil)
	e.account().Attachments = new(false)
	hold := e.hold("/api/candidate/", candidates/10)
	defer hold.open()
	d := e.daemon(ln, sync.ScheduleConfig{Sync: "@every 1s"})
	d.ShutdownTimeout = time.Second
	stop := start(t, d)
	waitFor(t, 60*time.Second, "a sync writing candidates", func() bool {
		return e.count(`SELECT count(*) FROM candidates`) > 0
	})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	began := time.Now()
	res, err := e.fake.WebhookBurst(ctx, "acme", n, 100)
	t.Logf("%d webhooks stored in %v during the sync", n, time.Since(began).Round(time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	waitHeld(t, hold, 2*time.Minute)
	if e.count(`SELECT count(*) FROM sync_runs WHERE mode = 'sync' AND status = 'running'`) != 1 {
		t.Fatal("no sync running after the burst")
	}
	if len(res.Serials) != n || res.Delivered != n || res.Failed != 0 {
		t.Fatalf("burst moved %d, delivered %d, failed %d; want %d delivered", len(res.Serials), res.Delivered, res.Failed, n)
	}
	if st := e.fake.Stats("acme"); st.WebhookAttempts != int64(n) {
		t.Errorf("%d delivery attempts for %d notifications: some were refused", st.WebhookAttempts, n)
	}
	if got := e.count(`SELECT count(*) FROM webhook_events`); got != n {
		t.Errorf("%d webhook events stored, want %d", got, n)
	}
	if got := e.count(`SELECT count(DISTINCT candidate_id) FROM stage_events WHERE origin = 'webhook'`); got != n {
		t.Errorf("%d candidates have a webhook stage event, want %d", got, n)
	}
	if _, err := stop(); err != nil {
		t.Fatal(err)
	}
	if got := e.count(`SELECT count(*) FROM webhook_events WHERE applied_at IS NULL`); got == 0 {
		t.Fatal("no refresh left pending by the busy account")
	}
	hold.open()

	// A new daemon with nothing scheduled refreshes what is pending.
	ln2, _ := hookListener(t, "acme")
	d2 := e.daemon(ln2, sync.ScheduleConfig{})
	stop2 := start(t, d2)
	waitFor(t, 5*time.Minute, "every event applied", func() bool {
		return e.count(`SELECT count(*) FROM webhook_events WHERE applied_at IS NULL`) == 0
	})
	if _, err := stop2(); err != nil {
		t.Fatal(err)
	}
	stages := e.stages(`SELECT candidate_id, stage FROM candidates`)
	events := e.stages(`SELECT candidate_id, stage FROM stage_events WHERE origin = 'webhook'`)
	bad := 0
	for _, s := range res.Serials {
		_, detail := e.truth(s)
		if truth := string(detail.Stage); stages[s] != truth || events[s] != truth {
			if bad++; bad <= 5 {
				t.Errorf("candidate %s: stage %q, webhook event %q, truth %q", s, stages[s], events[s], truth)
			}
		}
	}
	if bad > 0 {
		t.Errorf("%d of %d candidates differ from the truth", bad, n)
	}
}

// stages runs q, which selects a candidate id and a stage, and returns the
// stages by candidate.
func (e *env) stages(q string) map[string]string {
	e.t.Helper()
	rows, err := e.sql().Query(q)
	if err != nil {
		e.t.Fatal(err)
	}
	defer rows.Close()
	out := make(map[string]string)
	for rows.Next() {
		var id, stage string
		if err := rows.Scan(&id, &stage); err != nil {
			e.t.Fatal(err)
		}
		out[id] = stage
	}
	return out
}
