package sync

import (
	"context"
	"fmt"
	"net/http"
	stdsync "sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/stackhouse/stackhouse/schema"
)

// Results of a scheduled or webhook-triggered run, as the label result of
// stackhouse_sync_runs_total.
const (
	resultSucceeded   = "succeeded"
	resultFailed      = "failed"
	resultInterrupted = "interrupted"
	resultPanic       = "panic"
)

// Reasons a due run was not started, as the label reason of
// stackhouse_sync_skipped_total.
const (
	skipBackoff = "backoff" // the account failed recently and waits
	skipBusy    = "busy"    // the account had another run (ErrBusy)
)

// Results of a webhook request, as the label result of
// stackhouse_webhook_events_total.
const (
	hookAccepted       = "accepted"
	hookDuplicate      = "duplicate"
	hookUnauthorized   = "unauthorized"
	hookTooLarge       = "too_large"
	hookMalformed      = "malformed"
	hookUnknownAccount = "unknown_account"
	hookError          = "error"
)

// unknownAccount labels webhooks for accounts not served here: the path
// segment itself is not used as a label, which would let anyone create
// series.
const unknownAccount = "unknown"

// metrics are the daemon's Prometheus metrics, registered on the
// Daemon's own registry.
type metrics struct {
	runs        *prometheus.CounterVec   // account, mode, result
	skipped     *prometheus.CounterVec   // account, reason
	runDuration *prometheus.HistogramVec // account, mode
	rows        *prometheus.CounterVec   // account, kind
	webhooks    *prometheus.CounterVec   // account, result
	ingest      prometheus.Histogram     // seconds from request to stored
	lastSuccess *prometheus.GaugeVec     // account
	pending     *prometheus.GaugeVec     // account
}

// newMetrics registers the daemon's metrics, the API counters of every
// account's client, and the Go and process collectors on reg.
func newMetrics(reg prometheus.Registerer, d *Daemon) (*metrics, error) {
	m := &metrics{
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "stackhouse_sync_runs_total",
			Help: "Runs by account, mode (tail, sync, full, webhook) and result (succeeded, failed, interrupted, panic).",
		}, []string{"account", "mode", "result"}),
		skipped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "stackhouse_sync_skipped_total",
			Help: "Due runs not started, by account and reason (backoff after failures, busy with another run).",
		}, []string{"account", "reason"}),
		runDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "stackhouse_sync_run_duration_seconds",
			Help:    "Duration of runs by account and mode.",
			Buckets: prometheus.ExponentialBuckets(0.05, 3, 12), // 50ms … ~2.5h
		}, []string{"account", "mode"}),
		rows: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "stackhouse_rows_total",
			Help: "Records handled by runs, by account and kind (new, changed, unchanged, deleted, details, files, rejected).",
		}, []string{"account", "kind"}),
		webhooks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "stackhouse_webhook_events_total",
			Help: "Webhook requests by account and result (accepted, duplicate, unauthorized, too_large, malformed, unknown_account, error).",
		}, []string{"account", "result"}),
		ingest: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "stackhouse_webhook_ingest_seconds",
			Help:    "Time from a webhook request's arrival to its answer, for stored events.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2.5, 12), // 1ms … ~24s
		}),
		lastSuccess: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "stackhouse_last_success_timestamp_seconds",
			Help: "Unix time at which the account's last successful scheduled run (tail, sync or full) finished.",
		}, []string{"account"}),
		pending: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "stackhouse_webhook_refresh_pending",
			Help: "Candidates named by webhooks and waiting for their detail refresh, by account.",
		}, []string{"account"}),
	}
	for _, c := range []prometheus.Collector{
		m.runs, m.skipped, m.runDuration, m.rows, m.webhooks, m.ingest, m.lastSuccess, m.pending,
		&apiCollector{d: d},
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	// Series that exist from the start, so dashboards and alerts see zeros
	// rather than gaps.
	for _, a := range d.Accounts {
		for _, r := range []string{resultSucceeded, resultFailed} {
			m.runs.WithLabelValues(a.Subdomain, ModeSync, r)
		}
		m.webhooks.WithLabelValues(a.Subdomain, hookAccepted)
		m.pending.WithLabelValues(a.Subdomain).Set(0)
	}
	return m, nil
}

// loadLastSuccess sets stackhouse_last_success_timestamp_seconds from the
// runs recorded before this start, so a restart does not look like
// staleness to alerts.
func (m *metrics) loadLastSuccess(ctx context.Context, d *Daemon) error {
	rows, err := d.DB.SQL().QueryContext(ctx, `SELECT account_id, max(finished_at) FROM sync_runs
		WHERE status = 'succeeded' AND mode <> 'webhook' AND finished_at IS NOT NULL GROUP BY account_id`)
	if err != nil {
		return fmt.Errorf("last successful runs: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var account string
		var at time.Time
		if err := rows.Scan(&account, &at); err != nil {
			return fmt.Errorf("last successful runs: %w", err)
		}
		if _, ok := d.accounts[account]; ok {
			m.lastSuccess.WithLabelValues(account).Set(float64(at.Unix()))
		}
	}
	return rows.Err()
}

// observeRun counts a finished run.
func (m *metrics) observeRun(account, mode, result string, run schema.Run, took time.Duration) {
	m.runs.WithLabelValues(account, mode, result).Inc()
	m.runDuration.WithLabelValues(account, mode).Observe(took.Seconds())
	for kind, n := range map[string]int64{
		"new": run.RowsNew, "changed": run.RowsChanged, "unchanged": run.RowsUnchanged,
		"deleted": run.RowsDeleted, "details": run.DetailsFetched, "files": run.FilesDownloaded,
		"rejected": run.Rejected,
	} {
		if n > 0 {
			m.rows.WithLabelValues(account, kind).Add(float64(n))
		}
	}
}

// logLimiter lets a message with a given key through at most once per
// every, so a misconfigured sender or a failing account cannot flood logs.
type logLimiter struct {
	every time.Duration
	mu    stdsync.Mutex
	last  map[string]time.Time
}

func (l *logLimiter) allow(key string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if t, ok := l.last[key]; ok && now.Sub(t) < l.every {
		return false
	}
	l.last[key] = now
	return true
}

// apiCollector reports each account's API client counters at scrape time,
// so requests made by runs still in progress are counted too.
type apiCollector struct{ d *Daemon }

var (
	apiRequestsDesc = prometheus.NewDesc("stackhouse_api_requests_total",
		"HTTP requests sent to ApplicantStack, retries included, by account.", []string{"account"}, nil)
	apiRetriesDesc = prometheus.NewDesc("stackhouse_api_retries_total",
		"Requests to ApplicantStack that repeated an earlier one, by account.", []string{"account"}, nil)
	apiThrottledDesc = prometheus.NewDesc("stackhouse_api_throttled_total",
		"429 Too Many Requests answers from ApplicantStack, by account.", []string{"account"}, nil)
	apiFailuresDesc = prometheus.NewDesc("stackhouse_api_failures_total",
		"Requests to ApplicantStack that failed for good, by account.", []string{"account"}, nil)
)

func (c *apiCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- apiRequestsDesc
	ch <- apiRetriesDesc
	ch <- apiThrottledDesc
	ch <- apiFailuresDesc
}

func (c *apiCollector) Collect(ch chan<- prometheus.Metric) {
	for _, a := range c.d.Accounts {
		st := c.d.Syncer.Client(a).Stats()
		ch <- prometheus.MustNewConstMetric(apiRequestsDesc, prometheus.CounterValue, float64(st.Requests), a.Subdomain)
		ch <- prometheus.MustNewConstMetric(apiRetriesDesc, prometheus.CounterValue, float64(st.Retries), a.Subdomain)
		ch <- prometheus.MustNewConstMetric(apiThrottledDesc, prometheus.CounterValue, float64(st.Throttled), a.Subdomain)
		ch <- prometheus.MustNewConstMetric(apiFailuresDesc, prometheus.CounterValue, float64(st.Failures), a.Subdomain)
	}
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
	var version int
	if err := d.DB.SQL().QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&version); err != nil {
		notReady("warehouse: " + err.Error())
		return
	}
	ms := schema.Migrations()
	if want := ms[len(ms)-1].Version; version != want {
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
		ra := readyAccount{Account: a.Subdomain, PendingRefresh: acc.queued()}
		acc.mu.Lock()
		ra.Failures = acc.failures
		acc.mu.Unlock()
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
