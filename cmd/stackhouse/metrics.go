package main

import (
	"context"
	"runtime"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/stackhouse/stackhouse/warehouse"
)

// publishCollector exports the warehouse's record of its latest publish
// (warehouse.DB.LastPublish) at every scrape, so the figures are right
// whoever published: a scheduled run, a webhook refresh, or `export`.
type publishCollector struct {
	db                                         *warehouse.DB
	last, lastOK, took, bytes, uploaded, files *prometheus.Desc
	failed                                     *prometheus.Desc
}

func newPublishCollector(db *warehouse.DB) *publishCollector {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc("stackhouse_publish_"+name, help, labels, nil)
	}
	return &publishCollector{
		db:       db,
		last:     d("last_timestamp_seconds", "End of the latest publish (read-only copy, Parquet tree, upload), successful or not."),
		lastOK:   d("last_success_timestamp_seconds", "End of the latest successful publish: BI tools see data as of then."),
		took:     d("last_duration_seconds", "Duration of the latest publish."),
		bytes:    d("last_bytes", "Bytes the latest publish wrote, by destination: local (Parquet files and the read-only copy) or remote (uploaded).", "destination"),
		files:    d("last_files", "Parquet files the latest publish replaced locally."),
		uploaded: d("last_uploaded_objects", "Objects (Parquet files and manifests) the latest publish uploaded."),
		failed:   d("last_failed", "1 when the latest publish failed, else 0."),
	}
}

func (c *publishCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.last, c.lastOK, c.took, c.bytes, c.files, c.uploaded, c.failed} {
		ch <- d
	}
}

func (c *publishCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	last, ok, err := c.db.LastPublish(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.last, err)
		return
	}
	if last.FinishedAt.IsZero() {
		return // nothing published yet: no series rather than a zero date
	}
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	gauge(c.last, float64(last.FinishedAt.UnixMilli())/1e3)
	if !ok.FinishedAt.IsZero() {
		gauge(c.lastOK, float64(ok.FinishedAt.UnixMilli())/1e3)
	}
	gauge(c.took, last.Took.Seconds())
	gauge(c.bytes, float64(last.Stats.Bytes), "local")
	gauge(c.bytes, float64(last.Stats.UploadedBytes), "remote")
	gauge(c.files, float64(last.Stats.Files))
	gauge(c.uploaded, float64(last.Stats.Uploaded))
	failed := 0.0
	if last.Error != "" {
		failed = 1
	}
	gauge(c.failed, failed)
}

// newBuildInfo is stackhouse_build_info{version, goversion} 1, as
// Prometheus' own build_info metrics are.
func newBuildInfo() prometheus.Collector {
	g := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "stackhouse_build_info",
		Help:        "Always 1; labels: the stackhouse version and the Go version it was built with.",
		ConstLabels: prometheus.Labels{"version": versionString(), "goversion": runtime.Version()},
	})
	g.Set(1)
	return g
}
