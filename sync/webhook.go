package sync

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/stackhouse/stackhouse/applicantstack"
	"github.com/stackhouse/stackhouse/schema"
	"github.com/stackhouse/stackhouse/warehouse"
)

// WebhookPath is the route ApplicantStack posts stage-change notifications
// to; {account} is the account's subdomain.
const WebhookPath = "/webhooks/applicantstack/{account}"

// ingestTimeout bounds one group commit of webhooks.
const ingestTimeout = 30 * time.Second

// errStopping answers webhooks that arrive while the daemon shuts down.
var errStopping = errors.New("shutting down")

// handler routes the daemon's HTTP endpoints.
func (d *Daemon) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+WebhookPath, d.serveWebhook)
	mux.HandleFunc("GET /healthz", d.serveHealth)
	mux.HandleFunc("GET /readyz", d.serveReady)
	mux.Handle("GET /metrics", promhttp.HandlerFor(d.Registry, promhttp.HandlerOpts{
		ErrorLog: slog.NewLogLogger(d.Logger.Handler(), slog.LevelWarn),
	}))
	return mux
}

// serveWebhook stores one notification and answers 2xx only once it is in
// webhook_events (with, for a candidate stage change, its stage_events row).
// Unknown account 404, body over MaxWebhookBytes 413, malformed or
// incomplete 400, wrong or missing Secret 401; a refused request stores
// nothing. A redelivered event is answered 200 again and stored once.
func (d *Daemon) serveWebhook(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	acc := d.accounts[r.PathValue("account")]
	if acc == nil {
		d.refuse(w, nil, http.StatusNotFound, hookUnknownAccount, "unknown account")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, d.MaxWebhookBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			d.refuse(w, acc, http.StatusRequestEntityTooLarge, hookTooLarge, fmt.Sprintf("body over %d bytes", d.MaxWebhookBytes))
		} else {
			d.refuse(w, acc, http.StatusBadRequest, hookMalformed, "body not read")
		}
		return
	}
	ev, err := applicantstack.ParseWebhook(r.Header.Get("Content-Type"), body, acc.cfg.Location())
	if err != nil {
		d.refuse(w, acc, http.StatusBadRequest, hookMalformed, err.Error())
		return
	}
	if !ev.Authentic(acc.cfg.WebhookSecret) {
		d.refuse(w, acc, http.StatusUnauthorized, hookUnauthorized, "wrong or missing Secret")
		return
	}
	row := schema.WebhookEvent{
		EventID: eventID(ev.Raw), AccountID: acc.name, ObjectType: ev.ObjectType, EventType: ev.EventType,
		ObjectID: ev.ObjectID(), Stage: ev.Stage, EventDate: ev.EventDate, UserSerial: ev.UserSerial,
		UserType: ev.UserType, Payload: ev.Raw, ReceivedAt: d.Now().UTC(),
	}
	var stage *schema.StageEvent
	if ev.ObjectType == applicantstack.ObjectCandidate && ev.EventType == "stagechange" {
		se := acc.stageEvent(ev.CandidateSerial, ev.JobSerial, ev.Stage, ev.EventDate, ev.UserSerial, ev.UserType)
		stage = &se
	}
	inserted, err := d.store(acc, row, stage)
	if err != nil {
		status := http.StatusInternalServerError
		if errors.Is(err, errStopping) {
			status = http.StatusServiceUnavailable
		}
		d.metrics.webhooks.WithLabelValues(acc.name, hookError).Inc()
		if d.limiter.allow(acc.name+"/store", d.Now()) {
			acc.log.Error("webhook not stored; the sender will retry", slog.String(keyError, err.Error()))
		}
		writeJSON(w, status, map[string]string{"error": "not stored, retry later"})
		return
	}
	if ev.ObjectType == applicantstack.ObjectCandidate {
		acc.enqueue(ev.CandidateSerial, row.EventID)
		d.metrics.pending.WithLabelValues(acc.name).Set(float64(acc.queued()))
	}
	result := hookAccepted
	if !inserted {
		result = hookDuplicate
	}
	d.metrics.webhooks.WithLabelValues(acc.name, result).Inc()
	d.metrics.ingest.Observe(time.Since(start).Seconds())
	writeJSON(w, http.StatusOK, map[string]any{"event_id": row.EventID, "duplicate": !inserted})
}

// refuse answers a webhook that is not stored, counts it and logs it at a
// limited rate (never with the body: it carries the secret).
func (d *Daemon) refuse(w http.ResponseWriter, acc *account, status int, result, reason string) {
	name, log := unknownAccount, d.Logger
	if acc != nil {
		name, log = acc.name, acc.log
	}
	d.metrics.webhooks.WithLabelValues(name, result).Inc()
	level := slog.LevelWarn
	if acc == nil {
		level = slog.LevelDebug // scanners probe paths; nothing to fix here
	}
	if d.limiter.allow(name+"/"+result, d.Now()) {
		msg := "webhook refused"
		if result == hookUnauthorized {
			msg = "webhook refused: check the account's webhook_secret against the Secret set in ApplicantStack"
		}
		log.Log(context.Background(), level, msg, slog.Int("status", status), slog.String("reason", reason))
	}
	writeJSON(w, status, map[string]string{"error": reason})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// eventID is the hex sha256 of the payload without its Secret, so a
// redelivery has the same id.
func eventID(raw []byte) string {
	h := sha256.Sum256(raw)
	return hex.EncodeToString(h[:])
}

// stageEvent is the stage_events row of a candidate stage-change webhook,
// dated by the event itself.
func (a *account) stageEvent(candidate, job, stage string, at time.Time, userSerial, userType string) schema.StageEvent {
	funnel, _ := a.funnel.Map(stage, "")
	by := userSerial
	if by == "" && userType == "SYSTEM" {
		by = "System"
	}
	return schema.StageEvent{
		AccountID: a.name, CandidateID: candidate, JobID: job, Stage: stage, FunnelStage: funnel,
		ChangedAt: at.UTC(), ChangedBy: by, Origin: schema.OriginWebhook,
	}
}

// ingestReq is one webhook for the ingester; done receives its result.
type ingestReq struct {
	acc   *account
	event schema.WebhookEvent
	stage *schema.StageEvent
	done  chan ingestResult
}

type ingestResult struct {
	inserted bool
	err      error
}

// store hands an event to the ingester and waits until it is committed.
func (d *Daemon) store(acc *account, e schema.WebhookEvent, stage *schema.StageEvent) (bool, error) {
	req := ingestReq{acc: acc, event: e, stage: stage, done: make(chan ingestResult, 1)}
	select {
	case d.ingest <- req:
	case <-d.ingestDone:
		return false, errStopping
	}
	res := <-req.done // the ingester answers every request it takes
	return res.inserted, res.err
}

// ingester commits webhooks in groups: whatever requests are waiting when
// it is free go into one transaction (webhook_events and stage_events
// together). Under a burst this turns thousands of commits into a few
// hundred, and a handler waits for at most one commit before its own.
// It returns when quit is closed, after answering every request it took.
func (d *Daemon) ingester(quit <-chan struct{}) {
	defer close(d.ingestDone)
	for {
		var group []ingestReq
		select {
		case r := <-d.ingest:
			group = append(group, r)
		case <-quit:
			return
		}
	gather:
		for len(group) < d.IngestBatch {
			select {
			case r := <-d.ingest:
				group = append(group, r)
			default:
				break gather
			}
		}
		d.commit(group)
	}
}

func (d *Daemon) commit(group []ingestReq) {
	ctx, cancel := context.WithTimeout(context.Background(), ingestTimeout)
	defer cancel()
	events := make([]schema.WebhookEvent, len(group))
	var stages []schema.StageEvent
	for i, r := range group {
		events[i] = r.event
		// Stage events are written for duplicates too: their key makes it
		// a no-op unless an earlier delivery was stored without them.
		if r.stage != nil {
			stages = append(stages, *r.stage)
		}
	}
	inserted, err := d.DB.InsertWebhookEvents(ctx, events, stages)
	for i, r := range group {
		res := ingestResult{err: err}
		if err == nil {
			res.inserted = inserted[i]
		}
		r.done <- res
	}
}

// enqueue queues a candidate's detail refresh for the event id.
func (a *account) enqueue(serial, id string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if ids := a.queue[serial]; !slices.Contains(ids, id) {
		a.queue[serial] = append(ids, id)
	}
}

func (a *account) queued() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.queue)
}

// takeQueued removes up to n queued candidates (in serial order) and
// returns them with their event ids.
func (a *account) takeQueued(n int) map[string][]string {
	a.mu.Lock()
	defer a.mu.Unlock()
	serials := make([]string, 0, len(a.queue))
	for s := range a.queue {
		serials = append(serials, s)
	}
	slices.Sort(serials)
	batch := make(map[string][]string, min(n, len(serials)))
	for _, s := range serials[:min(n, len(serials))] {
		batch[s] = a.queue[s]
		delete(a.queue, s)
	}
	return batch
}

// requeue puts back candidates whose refresh did not happen.
func (a *account) requeue(batch map[string][]string) {
	for s, ids := range batch {
		for _, id := range ids {
			a.enqueue(s, id)
		}
	}
}

// dropCovered unqueues the event ids in covered, and candidates left with
// none: a complete scan has read them since.
func (a *account) dropCovered(covered map[string]bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for s, ids := range a.queue {
		ids = slices.DeleteFunc(ids, func(id string) bool { return covered[id] })
		if len(ids) == 0 {
			delete(a.queue, s)
		} else {
			a.queue[s] = ids
		}
	}
}

// refresher drains the account's queued webhook refreshes every
// RefreshInterval until shutdown starts.
func (d *Daemon) refresher(acc *account) {
	defer d.wg.Done()
	t := time.NewTicker(d.RefreshInterval)
	defer t.Stop()
	for {
		select {
		case <-d.stopCtx.Done():
			return
		case <-t.C:
		}
		d.refreshQueued(acc)
	}
}

// refreshQueued refreshes the detail of queued candidates in one run (mode
// webhook) and marks their events applied. While the account has another
// run, or after a failure until its backoff passes, they stay queued. A
// failed refresh is retried with half as many candidates, so that one
// candidate the API keeps failing on cannot hold up the others; alone, it
// is left to the next scheduled pass (its event stays pending until then).
func (d *Daemon) refreshQueued(acc *account) {
	acc.mu.Lock()
	waiting := len(acc.queue) > 0 && !d.Now().Before(acc.hookRetryAt)
	size := acc.hookBatch
	acc.mu.Unlock()
	if !waiting || !acc.tryAcquire() {
		return
	}
	defer acc.release()
	if size <= 0 {
		size = d.RefreshBatch
	}
	batch := acc.takeQueued(size)
	serials := make([]string, 0, len(batch))
	var ids []string
	for s, evs := range batch {
		serials = append(serials, s)
		ids = append(ids, evs...)
	}
	slices.Sort(serials)
	start := time.Now()
	run, err := d.Syncer.Refresh(d.runCtx, acc.cfg, serials)
	took := time.Since(start)
	switch {
	case err == nil:
		d.metrics.observeRun(acc.name, ModeWebhook, resultSucceeded, run, took)
		if err := d.DB.MarkWebhookApplied(d.runCtx, acc.name, ids, d.Now()); err != nil {
			acc.log.Warn("webhook events not marked applied; they are refreshed again later", slog.String(keyError, err.Error()))
		}
		acc.mu.Lock()
		acc.hookFailures, acc.hookRetryAt, acc.hookBatch = 0, time.Time{}, 0
		acc.mu.Unlock()
		acc.log.Debug("webhook refresh", slog.Int("candidates", len(serials)), slog.Int("events", len(ids)),
			slog.Duration("took", took.Round(time.Millisecond)))
	case errors.Is(err, ErrBusy):
		acc.requeue(batch)
		d.metrics.skipped.WithLabelValues(acc.name, skipBusy).Inc()
	case d.runCtx.Err() != nil:
		acc.requeue(batch) // still pending in the warehouse: the next start refreshes them
		d.metrics.observeRun(acc.name, ModeWebhook, resultInterrupted, run, took)
	default:
		d.metrics.observeRun(acc.name, ModeWebhook, resultFailed, run, took)
		if len(serials) > 1 {
			acc.requeue(batch)
		}
		acc.mu.Lock()
		acc.hookFailures++
		acc.hookBatch = max(len(serials)/2, 1)
		wait := backoff(acc.hookFailures, d.RefreshInterval, min(d.MaxBackoff, time.Minute))
		acc.hookRetryAt = d.Now().Add(wait)
		acc.mu.Unlock()
		msg, key := "webhook refresh failed; retrying with fewer candidates", "/refresh"
		if len(serials) == 1 {
			msg, key = "webhook refresh of a candidate failed; left to the next scheduled pass", "/refresh-one"
		}
		if d.limiter.allow(acc.name+key, d.Now()) {
			acc.log.Warn(msg, slog.Int("candidates", len(serials)), slog.Duration("retry_in", wait),
				slog.String(keyError, err.Error()))
		}
	}
	d.metrics.pending.WithLabelValues(acc.name).Set(float64(acc.queued()))
}

// requeuePending makes sure every stored event not yet applied has its
// stage_events row and, for candidates, a queued refresh: after a restart,
// and after each scheduled run (the tail pass picks up what a failed
// refresh left).
func (d *Daemon) requeuePending(ctx context.Context, acc *account) error {
	events, err := d.DB.PendingWebhookEvents(ctx, acc.name)
	if err != nil {
		return err
	}
	var stages []schema.StageEvent
	for _, e := range events {
		if e.ObjectType != applicantstack.ObjectCandidate || e.ObjectID == "" {
			continue // hire events are applied by the next sync (see markCovered)
		}
		if e.EventType == "stagechange" && e.Stage != "" && !e.EventDate.IsZero() {
			var p struct {
				Job string `json:"Job Serial"`
			}
			json.Unmarshal(e.Payload, &p)
			stages = append(stages, acc.stageEvent(e.ObjectID, p.Job, e.Stage, e.EventDate, e.UserSerial, e.UserType))
		}
		acc.enqueue(e.ObjectID, e.EventID)
	}
	d.metrics.pending.WithLabelValues(acc.name).Set(float64(acc.queued()))
	if len(stages) == 0 {
		return nil
	}
	return d.DB.Write(ctx, &warehouse.Batch{Account: acc.name, At: d.Now().UTC(), StageEvents: stages})
}

// markCovered marks applied the account's pending events received before
// a complete scan started (a sync or full run read every list row since,
// and fetched the detail of the changed ones), hire events included, and
// unqueues their refreshes.
func (d *Daemon) markCovered(acc *account, scanStarted time.Time) error {
	events, err := d.DB.PendingWebhookEvents(d.runCtx, acc.name)
	if err != nil {
		return err
	}
	covered := make(map[string]bool)
	var ids []string
	for _, e := range events {
		if e.ReceivedAt.Before(scanStarted) {
			covered[e.EventID] = true
			ids = append(ids, e.EventID)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	acc.dropCovered(covered)
	return d.DB.MarkWebhookApplied(d.runCtx, acc.name, ids, d.Now())
}
