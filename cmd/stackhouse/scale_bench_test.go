//go:build linux

package main

import (
	"cmp"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/stackhouse/stackhouse/applicantstack/fake"
	"github.com/stackhouse/stackhouse/queries"
	"github.com/stackhouse/stackhouse/sync"
)

// scaleConcurrency is the account's concurrency in every run, and the bare
// loop's.
const scaleConcurrency = 8

// BenchmarkScale measures stackhouse as a user runs it (issue 8): the fake
// ApplicantStack in its own process (bin/stackhouse fake-api), and
// bin/stackhouse backfill, sync, sync -tail, export and query as separate
// processes, with attachments and hires off, concurrency 8, no rate limit
// and the default warehouse settings. Right before each run, a bare
// net/http loop makes the same requests at the same concurrency. For each
// account size it runs:
//
//  1. backfill: against the bare loop of every list page and detail;
//  2. sync with nothing changed: against the bare loop of the list pages;
//  3. export (publish on demand);
//  4. sync after 1% of the applications changed stage;
//  5. sync -tail after 10 applications on the last pages changed stage;
//  6. at the largest size, each metric (query NAME -format csv).
//
// A failed run is reported with its exit status and last stderr lines and
// the steps go on. It prints a table as it goes and rewrites it as Markdown
// after every row. Knobs (environment): STACKHOUSE_SCALE_SIZES (default
// "100000 1000000"; k and M suffixes work), STACKHOUSE_SCALE_OUT (Markdown
// file, default bench-scale.md in the repository root),
// STACKHOUSE_SCALE_DIR (keep the warehouses there; default a temporary
// directory), STACKHOUSE_SCALE_BIN (default bin/stackhouse),
// STACKHOUSE_SCALE_STEP_TIMEOUT (interrupt a run after it, default 3h).
// Run it with make bench-scale, which builds bin/stackhouse first.
func BenchmarkScale(b *testing.B) {
	k, err := scaleKnobsFromEnv()
	if err != nil {
		b.Fatal(err)
	}
	if _, err := os.Stat(k.bin); err != nil {
		b.Skipf("%v: run make bench-scale, which builds it", err)
	}
	if k.dir == "" {
		k.dir = b.TempDir()
	}
	tbl := &scaleTable{path: k.out, about: k.about()}
	fmt.Println(tbl.about)
	for range b.N {
		for _, n := range k.sizes {
			k.runSize(tbl, n, n == slices.Max(k.sizes))
		}
	}
	fmt.Printf("\n%s\nwritten to %s\n", tbl.text(), k.out)
}

// scaleKnobs are BenchmarkScale's settings.
type scaleKnobs struct {
	sizes       []int
	out, dir    string
	bin         string
	stepTimeout time.Duration
}

func scaleKnobsFromEnv() (scaleKnobs, error) {
	root, err := filepath.Abs("../..") // go test runs in cmd/stackhouse
	if err != nil {
		return scaleKnobs{}, err
	}
	inRoot := func(p string) string {
		if p == "" || filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(root, p)
	}
	k := scaleKnobs{
		out:         inRoot(cmp.Or(os.Getenv("STACKHOUSE_SCALE_OUT"), "bench-scale.md")),
		dir:         inRoot(os.Getenv("STACKHOUSE_SCALE_DIR")),
		bin:         inRoot(cmp.Or(os.Getenv("STACKHOUSE_SCALE_BIN"), "bin/stackhouse")),
		stepTimeout: 3 * time.Hour,
	}
	if v := os.Getenv("STACKHOUSE_SCALE_STEP_TIMEOUT"); v != "" {
		if k.stepTimeout, err = time.ParseDuration(v); err != nil || k.stepTimeout <= 0 {
			return k, fmt.Errorf("STACKHOUSE_SCALE_STEP_TIMEOUT %q: want a duration like 90m", v)
		}
	}
	for _, f := range strings.FieldsFunc(cmp.Or(os.Getenv("STACKHOUSE_SCALE_SIZES"), "100000 1000000"), func(r rune) bool { return r == ' ' || r == ',' }) {
		n, err := parseSize(f)
		if err != nil || n < 1 || n > fake.MaxCandidates {
			return k, fmt.Errorf("STACKHOUSE_SCALE_SIZES: %q is not a size (like 20000, 100k or 1M)", f)
		}
		k.sizes = append(k.sizes, n)
	}
	if len(k.sizes) == 0 {
		return k, fmt.Errorf("STACKHOUSE_SCALE_SIZES: no size")
	}
	return k, nil
}

// parseSize reads 20000, 20_000, 100k or 1M.
func parseSize(s string) (int, error) {
	s = strings.ReplaceAll(s, "_", "")
	mult := 1
	switch {
	case strings.HasSuffix(s, "k"), strings.HasSuffix(s, "K"):
		mult, s = 1000, s[:len(s)-1]
	case strings.HasSuffix(s, "M"), strings.HasSuffix(s, "m"):
		mult, s = 1_000_000, s[:len(s)-1]
	}
	n, err := strconv.Atoi(s)
	return n * mult, err
}

// jobsFor is the account's job count at n applications: 500 applications a
// job, at least the fake's default.
func jobsFor(n int) int { return max(fake.DefaultJobs, n/500) }

// about describes the machine, the binary and the settings.
func (k scaleKnobs) about() string {
	version, _ := exec.Command(k.bin, "version").Output()
	host, _ := os.Hostname()
	sizes := make([]string, len(k.sizes))
	for i, n := range k.sizes {
		sizes[i] = strconv.Itoa(n)
	}
	return fmt.Sprintf("%s on %s (%s, %d CPUs), %s; sizes %s; jobs = applications/500 (at least %d); concurrency %d, "+
		"no rate limit, attachments and hires off, default warehouse settings (memory_limit %s)",
		strings.TrimSpace(string(version)), host, runtime.GOOS+"/"+runtime.GOARCH, runtime.NumCPU(), time.Now().Format("2006-01-02 15:04"),
		strings.Join(sizes, ", "), fake.DefaultJobs, scaleConcurrency, sync.DefaultConfig().Warehouse.MemoryLimit)
}

// scaleRun is the state of one account size.
type scaleRun struct {
	k         scaleKnobs
	tbl       *scaleTable
	n         int
	f         *fakeProc
	dir, cfg  string
	jobPages  []string
	unchanged time.Duration // the unchanged sync's run, publish excluded; 0 if unknown
}

// runSize runs every step at n applications, with metrics if asked.
func (k scaleKnobs) runSize(tbl *scaleTable, n int, metrics bool) {
	s := &scaleRun{k: k, tbl: tbl, n: n, dir: filepath.Join(k.dir, strconv.Itoa(n))}
	fail := func(step string, err error) {
		tbl.add(scaleRow{Step: step, Size: n, Failed: true, Problem: "FAILED " + err.Error()})
	}
	if err := os.RemoveAll(s.dir); err != nil {
		fail("set-up", err)
		return
	}
	if err := os.MkdirAll(s.dir, 0o755); err != nil {
		fail("set-up", err)
		return
	}
	f, err := startFake(k.bin, n, jobsFor(n))
	if err != nil {
		fail("fake-api", err)
		return
	}
	defer f.stop()
	s.f = f
	s.cfg = filepath.Join(s.dir, "stackhouse.yaml")
	if err := os.WriteFile(s.cfg, []byte(s.config()), 0o600); err != nil {
		fail("set-up", err)
		return
	}
	jobs, err := f.serials(fake.ListJobs)
	if err != nil {
		fail("set-up", err)
		return
	}
	s.jobPages = pages("/api/jobs/", 1, numPagesOf(len(jobs)))

	if err := s.backfill(jobs); err != nil {
		fail("backfill", err)
	}
	s.unchangedSync()
	s.export()
	if err := s.changedSync(); err != nil {
		fail("sync, 1% changed", err)
	}
	if err := s.tailSync(); err != nil {
		fail("sync -tail, 10 changed", err)
	}
	if metrics {
		s.metrics()
	}
}

// config is the run's configuration: defaults except what issue 8 fixes.
func (s *scaleRun) config() string {
	return fmt.Sprintf(`# BenchmarkScale: the default warehouse settings (memory_limit included).
log_level: info
log_format: json
warehouse:
  path: %[1]s/stackhouse.duckdb
  published_path: %[1]s/stackhouse-published.duckdb
  parquet_dir: %[1]s/parquet
  attachments_dir: %[1]s/attachments
accounts:
  - subdomain: %[2]s
    token: %[3]s
    base_url: %[4]s
    requests_per_second: 1000000   # unlimited in effect
    burst: 1000
    concurrency: %[5]d
    hires: false
    attachments: false
`, s.dir, s.f.sub, s.f.token, s.f.base, scaleConcurrency)
}

func (s *scaleRun) parquetDir() string    { return filepath.Join(s.dir, "parquet") }
func (s *scaleRun) publishedPath() string { return filepath.Join(s.dir, "stackhouse-published.duckdb") }

// measure runs the bare loop of lists then details (none if both are
// empty), then bin/stackhouse args -config cfg, and returns its row.
func (s *scaleRun) measure(step string, lists, details []string, args ...string) (scaleRow, *proc) {
	row := scaleRow{Step: step, Size: s.n}
	var problems []string
	if len(lists)+len(details) > 0 {
		bl := s.f.bareLoop(scaleConcurrency, lists, details)
		if bl.Err != nil {
			problems = append(problems, "bare loop failed: "+bl.Err.Error())
		} else {
			row.Bare, row.BareRequests = bl.Total, bl.Requests
		}
	}
	if err := s.f.resetStats(); err != nil {
		problems = append(problems, err.Error())
	}
	start := time.Now()
	p := runStackhouse(s.k.bin, s.k.stepTimeout, append(args, "-config", s.cfg)...)
	row.Wall, row.RSSKiB, row.Writes, row.Publish = p.Wall, p.MaxRSSKiB, p.WriteBytes, p.Publish
	row.Published = writtenSince(start, s.parquetDir(), s.publishedPath())
	row.Requests, _ = s.f.requests()
	if !p.OK() {
		row.Failed = true
		problems = append(problems, "FAILED "+p.Failure())
	}
	row.Problem = joinNote(problems...)
	return row, p
}

// runNote says how a sync's time divides between its run and its publish.
// A resumed run's took counts from the interrupted scan's start: it is left
// out when it exceeds the process's wall time.
func runNote(p *proc) string {
	if p.RunTook < 0 || p.RunTook > p.Wall {
		return ""
	}
	note := "run " + fmtDur(p.RunTook)
	if p.Publish >= 0 {
		note += " + publish " + fmtDur(p.Publish)
		switch {
		case p.CopyTook > 0:
			note += " (read-only copy " + fmtDur(p.CopyTook) + ")"
		case p.CopyDue != "":
			note += " (read-only copy kept until " + p.CopyDue + ")"
		}
	}
	return note
}

func (s *scaleRun) backfill(jobs []string) error {
	cands, err := s.f.serials(fake.ListCandidates)
	if err != nil {
		return err
	}
	lists := append(slices.Clone(s.jobPages), pages("/api/candidates/", 1, numPagesOf(len(cands)))...)
	details := append(detailPaths("/api/job/", jobs), detailPaths("/api/candidate/", cands)...)
	row, p := s.measure("backfill", lists, details, "backfill", "-quiet")
	row.Note = runNote(p)
	s.tbl.add(row)
	return nil
}

func (s *scaleRun) unchangedSync() {
	lists := append(slices.Clone(s.jobPages), pages("/api/candidates/", 1, numPagesOf(s.n))...)
	row, p := s.measure("sync, unchanged", lists, nil, "sync", "-quiet")
	if !row.Failed && p.RunTook > 0 && p.RunTook <= p.Wall {
		s.unchanged = p.RunTook
	}
	row.Note = joinNote(runNote(p), "bare = the list pages")
	s.tbl.add(row)
}

func (s *scaleRun) export() {
	row, p := s.measure("export", nil, nil, "export")
	for _, line := range strings.Split(string(p.Stdout), "\n") {
		if took, ok := strings.CutPrefix(line, "took"); ok {
			if d, err := time.ParseDuration(strings.TrimSpace(took)); err == nil {
				row.Publish = d
			}
		}
	}
	s.tbl.add(row)
}

// changedSync moves 1% of the applications (spread over the whole list)
// to another stage, then syncs.
func (s *scaleRun) changedSync() error {
	count := max(s.n/100, 1)
	moved, err := s.f.moveMany(count, 0)
	if err != nil {
		return err
	}
	lists := append(slices.Clone(s.jobPages), pages("/api/candidates/", 1, numPagesOf(s.n))...)
	row, p := s.measure("sync, 1% changed", lists, detailPaths("/api/candidate/", moved), "sync", "-quiet")
	row.Note = fmt.Sprintf("%d changed", len(moved))
	if !row.Failed {
		row.Note += fmt.Sprintf(": %s per changed application", fmtPer(row.Wall, len(moved)))
		if s.unchanged > 0 && p.RunTook > 0 && p.RunTook <= p.Wall {
			// Publishing varies by seconds between runs; the runs alone
			// give the cost of the changes.
			row.Note += fmt.Sprintf(" (run alone: %s more per changed application than the unchanged run)", fmtPer(p.RunTook-s.unchanged, len(moved)))
		}
	}
	row.Note = joinNote(runNote(p), row.Note)
	s.tbl.add(row)
	return nil
}

// tailSync moves 10 applications on the pages a tail pass reads, then runs
// sync -tail.
func (s *scaleRun) tailSync() error {
	last := numPagesOf(s.n)
	first := max(last-sync.DefaultTailPages+1, 1)
	from := (first - 1) * fake.PageSize
	moved, err := s.f.moveMany(min(10, s.n-from), from)
	if err != nil {
		return err
	}
	lists := append(slices.Clone(s.jobPages), "/api/candidates/1")
	lists = append(lists, pages("/api/candidates/", max(first, 2), last)...)
	row, p := s.measure("sync -tail, 10 changed", lists, detailPaths("/api/candidate/", moved), "sync", "-tail", "-quiet")
	row.Note = joinNote(runNote(p), fmt.Sprintf("%d changed on pages %d-%d", len(moved), first, last))
	s.tbl.add(row)
	return nil
}

func (s *scaleRun) metrics() {
	for _, m := range queries.List() {
		row, p := s.measure("query "+m.Name, nil, nil, "query", m.Name, "-format", "csv")
		if p.OK() {
			row.Note = fmt.Sprintf("%d CSV rows", max(p.StdoutLines-1, 0))
		}
		s.tbl.add(row)
	}
}

func joinNote(parts ...string) string {
	var out []string
	for _, p := range parts {
		if p = strings.Trim(p, "; "); p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, "; ")
}

// scaleRow is one line of the table.
type scaleRow struct {
	Step         string
	Size         int
	Bare         time.Duration // 0: no bare loop
	Wall         time.Duration
	RSSKiB       int64
	Publish      time.Duration // -1 or 0: unknown
	Published    int64         // bytes of the published outputs the step rewrote
	Writes       int64         // bytes the process wrote to storage
	Requests     int64         // API requests the fake answered during the run
	BareRequests int
	Failed       bool
	Note         string // the step's own figures
	Problem      string // a failed run or bare loop
}

// cells renders the row for both tables.
func (r scaleRow) cells() []string {
	c := []string{r.Step, strconv.Itoa(r.Size), "-", "-", "-", "-", "-", "-", "-", "-", joinNote(r.Note, r.Problem)}
	if r.Bare > 0 {
		c[2] = fmtDur(r.Bare)
	}
	if r.Wall > 0 {
		c[3] = fmtDur(r.Wall)
	}
	if r.Bare > 0 && r.Wall > 0 && !r.Failed {
		c[4] = fmt.Sprintf("%.2f×", r.Wall.Seconds()/r.Bare.Seconds())
	}
	if r.RSSKiB > 0 {
		c[5] = fmt.Sprintf("%.0f", float64(r.RSSKiB)/1024)
	}
	if r.Publish > 0 {
		c[6] = fmtDur(r.Publish)
	}
	if r.Wall > 0 {
		c[7], c[8] = fmtBytes(r.Published), fmtBytes(r.Writes)
	}
	if r.Requests > 0 || r.BareRequests > 0 {
		c[9] = strconv.FormatInt(r.Requests, 10)
		if r.BareRequests > 0 {
			c[9] += " / " + strconv.Itoa(r.BareRequests)
		}
	}
	return c
}

var scaleColumns = []string{"step", "size", "bare loop", "stackhouse", "ratio", "peak RSS MB", "publish", "published", "disk writes", "requests (run / bare)", "note"}

// scaleTable collects the rows, echoes each to stdout as it comes, and keeps
// the Markdown file up to date.
type scaleTable struct {
	path, about string
	rows        []scaleRow
}

func (t *scaleTable) add(r scaleRow) {
	t.rows = append(t.rows, r)
	c := r.cells()
	fmt.Printf("%s  %s: bare %s, stackhouse %s (%s), RSS %s MB, publish %s, published %s, writes %s, requests %s  %s\n",
		time.Now().Format("15:04:05"), c[0]+" "+c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8], c[9], c[10])
	if err := os.WriteFile(t.path, []byte(t.markdown()), 0o644); err != nil {
		fmt.Printf("write %s: %v\n", t.path, err)
	}
}

func (t *scaleTable) text() string {
	var sb strings.Builder
	tw := tabwriter.NewWriter(&sb, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.ToUpper(strings.Join(scaleColumns, "\t")))
	for _, r := range t.rows {
		fmt.Fprintln(tw, strings.Join(r.cells(), "\t"))
	}
	tw.Flush()
	return sb.String()
}

func (t *scaleTable) markdown() string {
	var sb strings.Builder
	sb.WriteString("# make bench-scale\n\n" + t.about + ".\n\n")
	sb.WriteString("| " + strings.Join(scaleColumns, " | ") + " |\n|")
	for range scaleColumns {
		sb.WriteString("---|")
	}
	sb.WriteString("\n")
	for _, r := range t.rows {
		c := r.cells()
		for i := range c {
			c[i] = strings.ReplaceAll(c[i], "|", `\|`)
		}
		sb.WriteString("| " + strings.Join(c, " | ") + " |\n")
	}
	sb.WriteString(`
- **bare loop**: plain net/http against the same fake, right before the run: the same requests (list pages, then the
  details the run fetches) at the same concurrency, bodies discarded. For the unchanged sync it is the list pages alone.
- **stackhouse**: wall time of the bin/stackhouse process, start to exit, publish included; **ratio** = stackhouse ÷ bare loop.
- **peak RSS**: the stackhouse process's peak resident set (wait4 ru_maxrss, the kernel's VmHWM), MiB; the fake is not included.
- **publish**: the "published" log line's took (export: the took it prints).
- **published**: bytes of the published outputs (Parquet tree + read-only database) written during the step, by file size.
- **disk writes**: everything the process wrote to storage (ru_oublock × 512 = /proc/PID/io write_bytes): WAL, database,
  checkpoints, spills, published outputs.
- **requests**: API requests the fake answered during the stackhouse run / requests of the bare loop.
`)
	return sb.String()
}

// fmtDur prints 850 ms, 4.21 s or 312 s.
func fmtDur(d time.Duration) string {
	switch {
	case d < time.Second:
		return fmt.Sprintf("%d ms", d.Milliseconds())
	case d < 100*time.Second:
		return fmt.Sprintf("%.2f s", d.Seconds())
	}
	return fmt.Sprintf("%.0f s", d.Seconds())
}

// fmtPer prints d/n as 8.2 ms or 310 µs.
func fmtPer(d time.Duration, n int) string {
	per := d / time.Duration(max(n, 1))
	if per.Abs() < time.Millisecond {
		return fmt.Sprintf("%d µs", per.Microseconds())
	}
	return fmt.Sprintf("%.1f ms", float64(per)/float64(time.Millisecond))
}

// fmtBytes prints 0 B, 512 KB or 56.3 MB (powers of 1024).
func fmtBytes(n int64) string {
	switch {
	case n < 1<<10:
		return fmt.Sprintf("%d B", n)
	case n < 1<<20:
		return fmt.Sprintf("%.0f KB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
}
