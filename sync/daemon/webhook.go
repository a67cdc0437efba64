package daemon

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/stackhouse/stackhouse/applicantstack"
	"github.com/stackhouse/stackhouse/warehouse"
)

// serveWebhook stores one notification and answers 2xx only once it is in
// webhook_events (with, for a candidate stage change, its stage_events row).
// Unknown account 404, body over MaxWebhookBytes 413, malformed,
// incomplete or impossible (see applicantstack.ParseWebhook) 400, wrong or
// missing Secret 401; an event the warehouse refuses even when stored alone
// 400 as well; a refused request stores nothing. 500 and 503 mean only
// that a retry will help: the warehouse failed, or the daemon is stopping.
// A redelivered event is answered 200 again and stored once.
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
	row, stage := acc.mapper.MapWebhook(ev, d.Now())
	inserted, err := d.ingest.store(row, stage)
	if errors.Is(err, warehouse.ErrRejected) {
		// Stored alone and still refused: the event itself is at fault,
		// and a redelivery would be refused the same way.
		d.refuse(w, acc, http.StatusBadRequest, hookMalformed, "cannot be stored: "+shortReason(err))
		return
	}
	if err != nil {
		// Only what a retry can fix gets a 5xx: the warehouse failed or
		// the daemon is stopping.
		status := http.StatusInternalServerError
		if errors.Is(err, errStopping) || errors.Is(err, context.DeadlineExceeded) {
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
		acc.queue.add(ev.CandidateSerial, row.EventID)
		d.metrics.pending.WithLabelValues(acc.name).Set(float64(acc.queue.len()))
	}
	result := hookAccepted
	if inserted {
		d.pub.mark(acc.name) // its stage event is in the warehouse: publish it soon
	} else {
		result = hookDuplicate
	}
	d.metrics.webhooks.WithLabelValues(acc.name, result).Inc()
	d.metrics.ingest.Observe(time.Since(start).Seconds())
	writeJSON(w, http.StatusOK, map[string]any{"event_id": row.EventID, "duplicate": !inserted})
}

// shortReason is err's message cut to one short line, for a 400's body.
func shortReason(err error) string {
	msg, _, _ := strings.Cut(err.Error(), "\n")
	if len(msg) > 160 {
		msg = msg[:160] + "…"
	}
	return msg
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
