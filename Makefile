# stackhouse — see README.md. Every target is plain; nothing is downloaded at
# run time (DuckDB is linked statically through cgo).
GO       ?= go
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -X main.version=$(VERSION)
PKGS     := ./...
# The race detector runs where goroutines meet: the client (rate limiter,
# concurrency cap, retries), the engine and the daemon; in -short mode (no
# subprocess kill trials, a smaller webhook burst: the plain pass runs them).
RACE_PKGS := ./applicantstack/ ./sync/...

.PHONY: build test check demo report-png bench bench-scale soak lint fmt clean

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o bin/stackhouse ./cmd/stackhouse

test:
	$(GO) vet $(PKGS)
	$(GO) test -count=1 -timeout 30m $(PKGS)
	$(GO) test -count=1 -race -short -timeout 30m $(RACE_PKGS)
	cd deploy/check && $(GO) vet ./... && $(GO) test -count=1 ./...

# check is the edit-test loop (55–60 s cold on a quiet 2-core machine,
# 81 s before -p 4, /dev/shm and one DuckDB thread): vet and the -short
# tests (no kill trials, no 50,000-application metric checks, no webhook
# burst, no thousand-deletion check, no browser, one DuckDB thread per
# warehouse) without the fault matrix of whole backfills. Four test
# binaries at once (-p 4) and four parallel tests in each (-parallel 4),
# not two: many tests wait on a clock (rate limits, cron schedules,
# copy_interval) and the CPU-bound ones fill the gaps. The tests' temp
# dirs are in memory (/dev/shm, where there is one): on disk, DuckDB's and
# the file store's fsyncs make the engine's tests wait and take a fifth
# more CPU. Results of unchanged packages come from Go's test cache.
# make test runs everything, on disk.
CHECK_SKIP := ^TestSyncer_faultsSameWarehouse$$
CHECK_TMPDIR := $(if $(wildcard /dev/shm/.),/dev/shm,$(TMPDIR))
check:
	$(GO) vet $(PKGS)
	TMPDIR=$(CHECK_TMPDIR) STACKHOUSE_SKIP_BROWSER=1 $(GO) test -short -p 4 -parallel 4 -skip '$(CHECK_SKIP)' -timeout 5m $(PKGS)

demo: build
	./bin/stackhouse demo

# report-png regenerates docs/report.png, the README's picture: the demo's
# report, checked by the browser test in headless Chromium and captured
# 1400 px wide.
report-png: build
	./bin/stackhouse demo -dir $(CURDIR)/bin/report-demo > /dev/null
	STACKHOUSE_REPORT_HTML=$(CURDIR)/bin/report-demo/report.html STACKHOUSE_REPORT_PNG=$(CURDIR)/docs/report.png \
		$(GO) test -count=1 -run '^TestReport_Browser$$' ./queries/

# bench prints every number the issues ask for. The sync benchmark's account
# size and added API latency come from STACKHOUSE_BENCH_CANDIDATES (default
# 100000) and STACKHOUSE_BENCH_LATENCY (e.g. 20ms).
bench:
	$(GO) test -run '^$$' -bench 'Client_' -benchtime 5x ./applicantstack/
	$(GO) test -run '^$$' -bench . -benchmem ./applicantstack/fake/ ./schema/ ./warehouse/
	$(GO) test -run '^$$' -bench BenchmarkSyncer -benchtime 1x -timeout 60m ./sync/
	$(GO) test -run '^$$' -bench BenchmarkDaemon_webhookIngest -benchtime 5000x -timeout 20m ./sync/daemon/
	$(GO) test -run '^$$' -bench BenchmarkMetric -timeout 60m ./queries/

# bench-scale runs bin/stackhouse as a user does, against the fake in its own
# process, and writes a table to bench-scale.md (issue 8). Sizes come from
# STACKHOUSE_SCALE_SIZES (default "100000 1000000"; try 20000 first).
bench-scale: build
	$(GO) test -run '^$$' -bench '^BenchmarkScale$$' -benchtime 1x -timeout 24h ./cmd/stackhouse/

# soak runs serve against the fake for STACKHOUSE_SOAK (default 10m) with
# every fault on, SIGKILLs it at random, and compares the published copy
# with the fake's truth (issue 10). make test runs its 30-second form.
SOAK ?= 10m
soak:
	STACKHOUSE_SOAK=$(SOAK) $(GO) test -count=1 -run '^TestSoak$$' -v -timeout 60m ./cmd/stackhouse/

lint:
	$(GO) vet $(PKGS)
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -rf bin data demo report.html
