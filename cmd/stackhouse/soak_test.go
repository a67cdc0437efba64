package main

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	stdsync "sync"
	"syscall"
	"testing"
	"time"

	"github.com/stackhouse/stackhouse/applicantstack"
	"github.com/stackhouse/stackhouse/applicantstack/fake"
)

// TestSoak runs `stackhouse serve` in its own process against the fake for
// STACKHOUSE_SOAK (default 30s here; `make soak` runs 10m) while a driver
// plays an accelerated day of the account: stage moves (webhooks), new
// applications, deletions and job edits, with every fault kind of the fake
// on (5xx, truncated and failed answers, 429s, latency, broken rows,
// failing pages, expiring file links, duplicated and reordered webhooks).
// serve is SIGKILLed and restarted at random. It then waits for serve to
// converge and compares the published read-only copy with the fake's
// ground truth: every live candidate's stage and job, every deletion, every
// job's name and stage. It reports the drift (which must be zero), the
// requests made against the changes, and the p50 and p95 of the time from a
// stage change to the published copy showing it.
func TestSoak(t *testing.T) {
	if testing.Short() {
		t.Skip("soak: runs serve for a while")
	}
	dur := 30 * time.Second
	if v := os.Getenv("STACKHOUSE_SOAK"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatalf("STACKHOUSE_SOAK=%q: %v", v, err)
		}
		dur = d
	}
	candidates, killEvery := 600, [2]time.Duration{8 * time.Second, 20 * time.Second}
	if dur >= 5*time.Minute {
		candidates, killEvery = 3000, [2]time.Duration{20 * time.Second, 60 * time.Second}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	listen := ln.Addr().String()
	ln.Close()

	fs := fake.NewServer()
	ten := fake.NewTenant("acme")
	ten.Jobs, ten.Candidates, ten.Onboarding = 25, candidates, false
	ten.WebhookSecret = "soak-webhook-secret"
	ten.WebhookURL = "http://" + listen + "/webhooks/applicantstack/acme"
	if err := fs.AddTenant(ten); err != nil {
		t.Fatal(err)
	}
	details := &detailLog{last: map[string][32]byte{}}
	hs := httptest.NewServer(details.wrap(fs))
	defer func() { hs.Close(); fs.Close() }()
	base := hs.URL

	cfg := writeConfig(t, base, "${SOAK_TOKEN}", `    webhook_secret: ${SOAK_SECRET}
    requests_per_second: 150
    burst: 20
    concurrency: 4
    hires: false
`, fmt.Sprintf(`log_format: json
schedule:
  tail: "@every 4s"
  sync: "@every 15s"
  jitter: 0s
server:
  listen: %s
  shutdown_timeout: 20s
`, listen))
	dir := filepath.Dir(cfg)
	env := []string{"STACKHOUSE_CONFIG=" + cfg, "SOAK_TOKEN=" + ten.Token, "SOAK_SECRET=" + ten.WebhookSecret}

	if code, out := runAsMain(env, "backfill", "-quiet"); code != 0 {
		t.Fatalf("backfill: exit %d\n%s", code, out)
	}
	fs.SetFaults("acme", fake.Faults{
		RateLimit: 200, Burst: 30, ErrorRate: 0.02, Latency: time.Millisecond, TruncateRate: 0.01,
		FailureRate: 0.01, MalformedRate: 0.003, LinkTTL: 30 * time.Minute,
		FailPages:            []fake.PageFault{{List: fake.ListCandidates, Page: 1, Times: 2}},
		WebhookDuplicateRate: 0.1, WebhookOutOfOrder: true, WebhookHold: 300 * time.Millisecond,
	})
	fs.ResetStats("acme")
	details.reset()

	// serve, killed and restarted at random.
	logf, _ := os.Create(filepath.Join(dir, "serve.log"))
	defer logf.Close()
	var serve *exec.Cmd
	startServe := func() {
		serve = exec.Command(os.Args[0], "serve")
		serve.Env = append(append(os.Environ(), "STACKHOUSE_TEST_AS_MAIN=1"), env...)
		serve.Stdout, serve.Stderr = logf, logf
		if err := serve.Start(); err != nil {
			t.Fatal(err)
		}
	}
	startServe()
	defer func() {
		if serve.ProcessState == nil {
			serve.Process.Kill()
			serve.Wait()
		}
	}()

	rng := rand.New(rand.NewPCG(1, 2))
	pipeline, _ := fs.Pipeline("acme")
	broken := malformed(fs)
	type move struct {
		stage string
		at    time.Time
	}
	var mu stdsync.Mutex
	pendingMoves := map[string]move{}
	var latencies []time.Duration
	deleted := map[string]bool{}
	counts := map[string]int{}

	// The observer: how long until the published copy shows each move.
	stopObs := make(chan struct{})
	obsDone := make(chan struct{})
	go func() {
		defer close(obsDone)
		for {
			select {
			case <-stopObs:
				return
			case <-time.After(500 * time.Millisecond):
			}
			pub, err := readCopy(filepath.Join(dir, "pub.duckdb"))
			if err != nil {
				continue
			}
			now := time.Now()
			mu.Lock()
			for s, m := range pendingMoves {
				if pub.stage[s] == m.stage {
					latencies = append(latencies, now.Sub(m.at))
					delete(pendingMoves, s)
				}
			}
			mu.Unlock()
		}
	}()

	kills := 0
	deadline := time.Now().Add(dur)
	nextKill := time.Now().Add(killEvery[0] + rand.N(killEvery[1]-killEvery[0]))
	for time.Now().Before(deadline) {
		time.Sleep(time.Duration(50+rng.IntN(150)) * time.Millisecond)
		if time.Now().After(nextKill) {
			serve.Process.Signal(syscall.SIGKILL)
			serve.Wait()
			kills++
			startServe()
			nextKill = time.Now().Add(killEvery[0] + rand.N(killEvery[1]-killEvery[0]))
		}
		serials, _ := fs.Serials("acme", fake.ListCandidates)
		s := serials[rng.IntN(len(serials))]
		if broken[s] {
			continue
		}
		switch p := rng.IntN(100); {
		case p < 80:
			ct, err := fs.Candidate("acme", s, base)
			if err != nil {
				continue
			}
			var d struct {
				Stage     string `json:"Stage"`
				StageType string `json:"Stage Type"`
			}
			json.Unmarshal(ct.Detail, &d)
			i := slices.Index(pipeline, d.Stage)
			if i < 0 || i+1 >= len(pipeline) || d.StageType != "" {
				continue
			}
			if err := fs.MoveStage("acme", s, pipeline[i+1]); err == nil {
				mu.Lock()
				pendingMoves[s] = move{pipeline[i+1], time.Now()}
				mu.Unlock()
				counts["moves"]++
			}
		case p < 90:
			added, _ := fs.AddCandidates("acme", 1+rng.IntN(3))
			counts["added"] += len(added)
		case p < 95:
			if fs.DeleteCandidate("acme", s) == nil {
				mu.Lock()
				delete(pendingMoves, s)
				deleted[s] = true
				mu.Unlock()
				counts["deleted"]++
			}
		default:
			jobs, _ := fs.Serials("acme", fake.ListJobs)
			j := jobs[rng.IntN(len(jobs))]
			if !broken[j] && fs.EditJob("acme", j, map[string]string{"Job Name": fmt.Sprintf("Soak Job %d", counts["job_edits"])}) == nil {
				counts["job_edits"]++
			}
		}
	}
	end := time.Now()
	flushCtx, cancel := context.WithTimeout(context.Background(), time.Minute)
	fs.FlushWebhooks(flushCtx)
	cancel()

	// Converge: serve's next sync and publish bring the copy to the truth.
	var drift []string
	converged := time.Duration(-1)
	for time.Since(end) < 3*time.Minute {
		if drift = soakDrift(t, fs, base, filepath.Join(dir, "pub.duckdb"), malformed(fs)); len(drift) == 0 {
			converged = time.Since(end)
			break
		}
		time.Sleep(time.Second)
	}
	close(stopObs)
	<-obsDone
	serve.Process.Signal(syscall.SIGTERM)
	if err := serve.Wait(); err != nil {
		t.Errorf("serve did not stop cleanly on SIGTERM: %v", err)
	}

	st := fs.Stats("acme")
	mu.Lock()
	sort.Slice(latencies, func(i, j int) bool { return latencies[i] < latencies[j] })
	unseen := len(pendingMoves)
	mu.Unlock()
	pct := func(p float64) time.Duration {
		if len(latencies) == 0 {
			return -1
		}
		return latencies[min(len(latencies)-1, int(p*float64(len(latencies))))].Round(100 * time.Millisecond)
	}
	t.Logf("soak: %v, %d candidates, serve SIGKILLed %d times; %d stage moves, %d applications added, %d deleted, %d job edits",
		dur, candidates, kills, counts["moves"], counts["added"], counts["deleted"], counts["job_edits"])
	t.Logf("webhooks: %d delivered, %d given up by the sender (serve down); API requests: %d (429 %d, 5xx %d, failures %d, cut %d)",
		st.WebhookDelivered, st.WebhookFailed, sum(st.Requests), st.Throttled, st.ServerErrors, st.Failures, st.Truncated)
	needed, repeated := details.counts()
	t.Logf("candidate details: %d answered, %d of them needed (the application had changed since its last answer) and %d repeats "+
		"(a kill between the answer and its commit, a fresh link for a pending file); %d deletion checks; list pages: %d",
		needed+repeated, needed, repeated, counts["deleted"], st.Served[fake.KindCandidatesList]+st.Served[fake.KindJobsList])
	t.Logf("stage change → published copy: p50 %v, p95 %v, over %d moves (%d superseded or seen only after the end)",
		pct(0.50), pct(0.95), len(latencies), unseen)
	if converged >= 0 {
		t.Logf("drift: none; the published copy equalled the truth %v after the last change", converged.Round(time.Second))
	} else {
		t.Logf("drift: %d differences %v after the last change", len(drift), time.Since(end).Round(time.Second))
	}
	for i, d := range drift {
		if i == 20 {
			t.Errorf("… and %d more", len(drift)-20)
			break
		}
		t.Errorf("drift: %s", d)
	}
	if kills == 0 && dur >= 20*time.Second {
		t.Error("serve was never killed")
	}
}

func sum(m map[string]int64) (n int64) {
	for _, v := range m {
		n += v
	}
	return n
}

// published is what the read-only copy holds of the things the soak
// compares: each live candidate's stage and job, each live job's name and
// stage.
type published struct {
	stage, job map[string]string    // candidate serial → stage, job serial
	jobs       map[string][2]string // job serial → name, stage
}

// readCopy reads the published read-only copy at path.
func readCopy(path string) (*published, error) {
	db, err := sql.Open("duckdb", path+"?access_mode=READ_ONLY")
	if err != nil {
		return nil, err
	}
	defer db.Close()
	p := &published{stage: map[string]string{}, job: map[string]string{}, jobs: map[string][2]string{}}
	rows, err := db.Query(`SELECT 'c', candidate_id, coalesce(stage, ''), coalesce(job_id, '') FROM candidates WHERE remote_deleted_at IS NULL
		UNION ALL SELECT 'j', job_id, coalesce(name, ''), coalesce(remote_stage, '') FROM jobs WHERE remote_deleted_at IS NULL`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var kind, id, a, b string
		if err := rows.Scan(&kind, &id, &a, &b); err != nil {
			return nil, err
		}
		if kind == "c" {
			p.stage[id], p.job[id] = a, b
		} else {
			p.jobs[id] = [2]string{a, b}
		}
	}
	return p, rows.Err()
}

// soakDrift lists every difference between the published copy and the
// fake's truth (rows the fake serves broken are left out: they are
// rejected by design).
func soakDrift(t *testing.T, fs *fake.Server, base, path string, broken map[string]bool) []string {
	pub, err := readCopy(path)
	if err != nil {
		return []string{"published copy: " + err.Error()}
	}
	stages, jobOf := pub.stage, pub.job
	var drift []string
	serials, _ := fs.Serials("acme", fake.ListCandidates)
	live := map[string]bool{}
	for _, s := range serials {
		if broken[s] {
			continue
		}
		live[s] = true
		ct, err := fs.Candidate("acme", s, base)
		if err != nil {
			t.Fatal(err)
		}
		var d applicantstack.Candidate
		json.Unmarshal(ct.Detail, &d)
		got, ok := stages[s]
		switch {
		case !ok:
			drift = append(drift, "candidate "+s+" missing")
		case got != string(d.Stage):
			drift = append(drift, fmt.Sprintf("candidate %s: stage %q, truth %q", s, got, d.Stage))
		case d.JobSerial != "" && jobOf[s] != string(d.JobSerial):
			drift = append(drift, fmt.Sprintf("candidate %s: job %q, truth %q", s, jobOf[s], d.JobSerial))
		}
	}
	for s := range stages {
		if !live[s] && !broken[s] {
			drift = append(drift, "candidate "+s+" deleted upstream, live in the copy")
		}
	}
	jobs, _ := fs.Serials("acme", fake.ListJobs)
	for _, j := range jobs {
		if broken[j] {
			continue
		}
		jt, err := fs.Job("acme", j)
		if err != nil {
			t.Fatal(err)
		}
		var d applicantstack.Job
		json.Unmarshal(jt.Detail, &d)
		got, ok := pub.jobs[j]
		if !ok {
			drift = append(drift, "job "+j+" missing")
		} else if got != [2]string{string(d.Name), string(d.Stage)} {
			drift = append(drift, fmt.Sprintf("job %s: %q/%q, truth %q/%q", j, got[0], got[1], d.Name, d.Stage))
		}
	}
	return drift
}

// malformed returns the serials the fake serves broken now (rejected by
// design, so left out of the comparison): which rows are broken depends on
// the serial, so applications added during the soak can be among them.
func malformed(fs *fake.Server) map[string]bool {
	broken := map[string]bool{}
	for _, list := range []string{fake.ListCandidates, fake.ListJobs} {
		rows, _ := fs.Malformed("acme", list)
		for _, r := range rows {
			broken[r.Serial] = true
		}
	}
	return broken
}

// detailLog sits in front of the fake and sorts the candidate details it
// answers: needed when the application's detail differs from the last one
// answered for it (signed file links, which change with every answer, left
// out), repeated when it says the same again.
type detailLog struct {
	mu               stdsync.Mutex
	last             map[string][32]byte
	needed, repeated int
}

func (l *detailLog) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet || !strings.HasPrefix(r.URL.Path, "/api/candidate/") {
			next.ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		body := rec.Body.Bytes()
		w.Write(body)
		var d map[string]any
		if rec.Code != http.StatusOK || json.Unmarshal(body, &d) != nil || d["Method Result"] != "Success" {
			return
		}
		sum := sha256.Sum256([]byte(linkRE.ReplaceAllString(string(body), "")))
		serial := strings.TrimPrefix(r.URL.Path, "/api/candidate/")
		l.mu.Lock()
		defer l.mu.Unlock()
		if prev, ok := l.last[serial]; ok && prev == sum {
			l.repeated++
		} else {
			l.needed++
		}
		l.last[serial] = sum
	})
}

// linkRE matches what changes in a detail from one answer to the next: the
// signed file links and their expiry.
var linkRE = regexp.MustCompile(`"(url|apikey_expires)":\s*("[^"]*"|\d+)`)

// reset forgets the counts (not the answers seen): what the backfill
// fetched is the baseline.
func (l *detailLog) reset() {
	l.mu.Lock()
	l.needed, l.repeated = 0, 0
	l.mu.Unlock()
}

func (l *detailLog) counts() (needed, repeated int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.needed, l.repeated
}
