package daemon

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/stackhouse/stackhouse/schema"
)

// WebhookPath is the route ApplicantStack posts stage-change notifications
// to; {account} is the account's subdomain.
const WebhookPath = "/webhooks/applicantstack/{account}"

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

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// serveHealth answers 200 while the process is alive.
func (d *Daemon) serveHealth(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// readyRun is a run as /readyz shows it.
type readyRun struct {
	RunID      string     `json:"run_id"`
	Mode       string     `json:"mode"`
	Status     string     `json:"status"`
	StartedAt  time.Time  `json:"started_at"`
	FinishedAt *time.Time `json:"finished_at,omitempty"`
	Error      string     `json:"error,omitempty"`
}

type readyAccount struct {
	Account        string    `json:"account"`
	LastRun        *readyRun `json:"last_run"`
	PendingRefresh int       `json:"pending_refresh"`
	Failures       int       `json:"consecutive_failures"`
}

// serveReady answers 200 with each account's last run when the warehouse
// is open and migrated to this binary's schema and the daemon is not
// shutting down, and 503 otherwise.
func (d *Daemon) serveReady(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	notReady := func(reason string) {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "not ready", "reason": reason})
	}
	if !d.ready.Load() {
		notReady("starting or shutting down")
		return
	}
	version, current, err := d.DB.CurrentSchema(ctx)
	if err != nil {
		notReady("warehouse: " + err.Error())
		return
	}
	if !current {
		notReady("warehouse schema is not this binary's")
		return
	}
	runs, err := d.DB.LastRuns(ctx)
	if err != nil {
		notReady("warehouse: " + err.Error())
		return
	}
	last := make(map[string]schema.Run, len(runs))
	for _, r := range runs {
		last[r.AccountID] = r
	}
	out := make([]readyAccount, 0, len(d.Accounts))
	for _, a := range d.Accounts {
		acc := d.accounts[a.Subdomain]
		ra := readyAccount{Account: a.Subdomain, PendingRefresh: acc.queue.len(), Failures: acc.sched.count()}
		if r, ok := last[a.Subdomain]; ok {
			ra.LastRun = &readyRun{RunID: r.RunID, Mode: r.Mode, Status: r.Status, StartedAt: r.StartedAt, Error: r.Error}
			if !r.FinishedAt.IsZero() {
				ra.LastRun.FinishedAt = &r.FinishedAt
			}
		}
		out = append(out, ra)
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "ready", "schema_version": version, "accounts": out})
}
