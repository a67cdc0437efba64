package daemon

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/stackhouse/stackhouse/schema"
	"github.com/stackhouse/stackhouse/sync"
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
		runs: counterVec("stackhouse_sync_runs_total", []string{"account", "mode", "result"},
			"Runs by account, mode (tail, sync, full, webhook) and result (succeeded, failed, interrupted, panic)."),
		skipped: counterVec("stackhouse_sync_skipped_total", []string{"account", "reason"},
			"Due runs not started, by account and reason (backoff after failures, busy with another run)."),
		runDuration: histogramVec("stackhouse_sync_run_duration_seconds", []string{"account", "mode"},
			"Duration of runs by account and mode.",
			prometheus.ExponentialBuckets(0.05, 3, 12)), // 50ms … ~2.5h
		rows: counterVec("stackhouse_rows_total", []string{"account", "kind"},
			"Records handled by runs, by account and kind (new, changed, unchanged, deleted, details, files, rejected)."),
		webhooks: counterVec("stackhouse_webhook_events_total", []string{"account", "result"},
			"Webhook requests by account and result (accepted, duplicate, unauthorized, too_large, malformed, unknown_account, error)."),
		ingest: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "stackhouse_webhook_ingest_seconds",
			Help:    "Time from a webhook request's arrival to its answer, for stored events.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2.5, 12), // 1ms … ~24s
		}),
		lastSuccess: gaugeVec("stackhouse_last_success_timestamp_seconds", []string{"account"},
			"Unix time at which the account's last successful scheduled run (tail, sync or full) finished."),
		pending: gaugeVec("stackhouse_webhook_refresh_pending", []string{"account"},
			"Candidates named by webhooks and waiting for their detail refresh, by account."),
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
			m.runs.WithLabelValues(a.Subdomain, sync.ModeSync, r)
		}
		m.webhooks.WithLabelValues(a.Subdomain, hookAccepted)
		m.pending.WithLabelValues(a.Subdomain).Set(0)
	}
	return m, nil
}

// counterVec, gaugeVec and histogramVec make a metric from its name, labels
// and help (and a histogram's buckets).
func counterVec(name string, labels []string, help string) *prometheus.CounterVec {
	return prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
}

func gaugeVec(name string, labels []string, help string) *prometheus.GaugeVec {
	return prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: help}, labels)
}

func histogramVec(name string, labels []string, help string, buckets []float64) *prometheus.HistogramVec {
	return prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: name, Help: help, Buckets: buckets}, labels)
}

// loadLastSuccess sets stackhouse_last_success_timestamp_seconds from the
// runs recorded before this start, so a restart does not look like
// staleness to alerts. A failure is logged: the gauges then start at zero.
func (d *Daemon) loadLastSuccess(ctx context.Context) {
	last, err := d.DB.LastSuccesses(ctx)
	if err != nil {
		d.Logger.Warn("metrics not initialized from earlier runs", slog.String(keyError, err.Error()))
		return
	}
	for account, at := range last {
		if _, ok := d.accounts[account]; ok {
			d.metrics.lastSuccess.WithLabelValues(account).Set(float64(at.Unix()))
		}
	}
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
