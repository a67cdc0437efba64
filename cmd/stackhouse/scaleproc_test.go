//go:build linux

package main

// The processes BenchmarkScale drives: bin/stackhouse commands (timed, with
// peak RSS and bytes written from wait4's rusage), the fake ApplicantStack
// in its own process (driven through its /_fake/ admin API), and the bare
// net/http loop the runs are compared with.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/stackhouse/stackhouse/applicantstack/fake"
)

// proc is one finished bin/stackhouse process.
type proc struct {
	Wall        time.Duration
	Exit        int    // exit status; -1 when it could not start or died by a signal
	Err         error  // start failure, timeout or signal
	MaxRSSKiB   int64  // peak resident set (wait4 ru_maxrss: VmHWM of the process)
	WriteBytes  int64  // bytes the process caused to be written to storage (ru_oublock × 512)
	Stdout      []byte // the first stdoutKeep bytes
	StdoutLines int64
	Tail        []string      // the last stderr lines
	RunTook     time.Duration // "took" of the run's "run finished"/"run failed" log line; -1 when absent
	Publish     time.Duration // "took" of the "published" log line; -1 when absent
	// CopyTook is the "published" line's copy_took: how long replacing the
	// read-only copy took (0: not replaced); CopyDue its copy_due, when the
	// publish kept a stale copy ("" otherwise).
	CopyTook time.Duration
	CopyDue  string
}

const (
	stdoutKeep = 64 << 10
	tailLines  = 4
)

// OK reports whether the process exited 0.
func (p *proc) OK() bool { return p.Err == nil && p.Exit == 0 }

// Failure says how the process failed: its exit status or error and its
// last stderr lines.
func (p *proc) Failure() string {
	what := fmt.Sprintf("exit %d", p.Exit)
	if p.Err != nil {
		what = p.Err.Error()
	}
	if len(p.Tail) == 0 {
		return what
	}
	return what + ": " + strings.Join(p.Tail, " ⏎ ")
}

// runStackhouse runs bin args..., waits for it, and measures it. After
// timeout it is interrupted (a sync reaches a checkpoint) and, a minute
// later, killed. Its stderr is read line by line: JSON log lines give the
// run's and the publish's own durations.
func runStackhouse(bin string, timeout time.Duration, args ...string) *proc {
	p := &proc{Exit: -1, RunTook: -1, Publish: -1}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), "LOG_LEVEL=info")
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = time.Minute
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	stdout := &headWriter{keep: stdoutKeep}
	cmd.Stdout = stdout
	cmd.Stderr = &lineWriter{line: p.stderrLine}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		p.Err = err
		return p
	}
	err := cmd.Wait()
	p.Wall = time.Since(start)
	cmd.Stderr.(*lineWriter).flush()
	p.Stdout, p.StdoutLines = stdout.buf.Bytes(), stdout.lines
	if st := cmd.ProcessState; st != nil {
		p.Exit = st.ExitCode()
		if ru, ok := st.SysUsage().(*syscall.Rusage); ok {
			p.MaxRSSKiB = ru.Maxrss
			p.WriteBytes = ru.Oublock * 512
		}
	}
	var exitErr *exec.ExitError
	switch {
	case ctx.Err() != nil:
		p.Err = fmt.Errorf("timed out after %v (exit %d)", timeout, p.Exit)
	case errors.As(err, &exitErr) && p.Exit == -1:
		p.Err = fmt.Errorf("killed: %v", exitErr)
	case err != nil && !errors.As(err, &exitErr):
		p.Err = err
	}
	return p
}

// stderrLine takes one line of the process's stderr.
func (p *proc) stderrLine(line string) {
	if strings.TrimSpace(line) == "" {
		return
	}
	var rec struct {
		Msg       string          `json:"msg"`
		Took      json.RawMessage `json:"took"`
		TookS     *float64        `json:"took_s"` // the log's durations are in seconds
		CopyTookS *float64        `json:"copy_took_s"`
		CopyDue   string          `json:"copy_due"`
	}
	if json.Unmarshal([]byte(line), &rec) == nil {
		took := logDuration(rec.Took)
		if rec.TookS != nil {
			took = time.Duration(*rec.TookS * float64(time.Second))
		}
		switch rec.Msg {
		case "published":
			p.Publish = took
			p.CopyTook, p.CopyDue = 0, rec.CopyDue
			if rec.CopyTookS != nil {
				p.CopyTook = time.Duration(*rec.CopyTookS * float64(time.Second))
			}
		case "run finished", "run failed":
			p.RunTook = took
		}
	}
	p.Tail = append(p.Tail, shortLine(line))
	if len(p.Tail) > tailLines {
		p.Tail = p.Tail[1:]
	}
}

// shortLine makes a stderr line fit a table cell: a JSON log line becomes
// "LEVEL msg k=v…" with only the keys that explain a failure.
func shortLine(line string) string {
	var rec map[string]any
	if json.Unmarshal([]byte(line), &rec) == nil {
		var sb strings.Builder
		fmt.Fprintf(&sb, "%v %v", rec["level"], rec["msg"])
		for _, k := range []string{"status", "error"} {
			if v, ok := rec[k]; ok {
				fmt.Fprintf(&sb, " %s=%v", k, v)
			}
		}
		line = sb.String()
	}
	if len(line) > 300 {
		line = line[:300] + "…"
	}
	return line
}

// lineWriter calls line for each line written to it (os/exec writes from
// one goroutine); flush passes on a last line without a newline.
type lineWriter struct {
	line func(string)
	part []byte
}

func (w *lineWriter) Write(b []byte) (int, error) {
	n := len(b)
	for {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			break
		}
		w.line(string(append(w.part, b[:i]...)))
		w.part, b = w.part[:0], b[i+1:]
	}
	w.part = append(w.part, b...)
	return n, nil
}

func (w *lineWriter) flush() {
	if len(w.part) > 0 {
		w.line(string(w.part))
		w.part = nil
	}
}

// logDuration reads a slog duration: nanoseconds from the JSON handler, or
// a Go duration string.
func logDuration(raw json.RawMessage) time.Duration {
	var ns int64
	if json.Unmarshal(raw, &ns) == nil {
		return time.Duration(ns)
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		if d, err := time.ParseDuration(s); err == nil {
			return d
		}
	}
	return -1
}

// headWriter keeps the first keep bytes written to it and counts the lines.
type headWriter struct {
	buf   bytes.Buffer
	keep  int
	lines int64
}

func (w *headWriter) Write(b []byte) (int, error) {
	if room := w.keep - w.buf.Len(); room > 0 {
		w.buf.Write(b[:min(room, len(b))])
	}
	w.lines += int64(bytes.Count(b, []byte{'\n'}))
	return len(b), nil
}

// writtenSince sums the sizes of the regular files under paths (files or
// directories; missing ones count 0) modified at or after since: what a
// run (re)wrote of the published outputs.
func writtenSince(since time.Time, paths ...string) int64 {
	var n int64
	for _, root := range paths {
		filepath.WalkDir(root, func(_ string, d fs.DirEntry, err error) error {
			if err != nil || !d.Type().IsRegular() {
				return nil
			}
			if fi, err := d.Info(); err == nil && !fi.ModTime().Before(since) {
				n += fi.Size()
			}
			return nil
		})
	}
	return n
}

// fakeProc is `stackhouse fake-api` running in its own process.
type fakeProc struct {
	cmd    *exec.Cmd
	base   string // http://127.0.0.1:port
	token  string
	sub    string
	hc     *http.Client
	exited chan struct{}
}

// startFake starts the fake with candidates applications and jobs jobs on a
// free loopback port and returns once it serves.
func startFake(bin string, candidates, jobs int) (*fakeProc, error) {
	f := &fakeProc{token: "scale-token", sub: "demo", hc: &http.Client{Timeout: 5 * time.Minute}, exited: make(chan struct{})}
	f.cmd = exec.Command(bin, "fake-api", "-addr", "127.0.0.1:0", "-subdomain", f.sub, "-token", f.token,
		"-candidates", strconv.Itoa(candidates), "-jobs", strconv.Itoa(jobs))
	f.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	var stderr bytes.Buffer
	f.cmd.Stderr = &stderr
	out, err := f.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := f.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start fake-api: %w", err)
	}
	addr := make(chan string, 1)
	go func() {
		defer close(f.exited)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if _, u, ok := strings.Cut(sc.Text(), " serving at "); ok {
				addr <- strings.TrimSpace(u)
			}
		}
		f.cmd.Wait()
	}()
	select {
	case f.base = <-addr:
		return f, nil
	case <-f.exited:
		return nil, fmt.Errorf("fake-api exited before serving: %s", strings.TrimSpace(stderr.String()))
	case <-time.After(2 * time.Minute):
		f.stop()
		return nil, errors.New("fake-api: no address after 2m")
	}
}

// stop interrupts the fake and waits for it (killing it after 10 s).
func (f *fakeProc) stop() {
	f.cmd.Process.Signal(os.Interrupt)
	select {
	case <-f.exited:
	case <-time.After(10 * time.Second):
		f.cmd.Process.Kill()
		<-f.exited
	}
	f.hc.CloseIdleConnections()
}

// admin calls the fake's admin API; out, if not nil, receives the answer.
func (f *fakeProc) admin(method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, f.base+"/_fake/tenants/"+f.sub+path, rd)
	if err != nil {
		return err
	}
	resp, err := f.hc.Do(req)
	if err != nil {
		return fmt.Errorf("admin %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("admin %s %s: status %d: %s", method, path, resp.StatusCode, bytes.TrimSpace(msg))
	}
	if out == nil {
		_, err = io.Copy(io.Discard, resp.Body)
		return err
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("admin %s %s: %w", method, path, err)
	}
	return nil
}

// serials returns the live serials of a list (fake.ListJobs, fake.ListCandidates).
func (f *fakeProc) serials(list string) ([]string, error) {
	var s []string
	err := f.admin(http.MethodGet, "/serials/"+list, nil, &s)
	return s, err
}

// moveMany changes count applications' stage, spread over the list from
// position from on (the fake's MoveMany), and returns their serials.
func (f *fakeProc) moveMany(count, from int) ([]string, error) {
	var out struct {
		Serials []string `json:"serials"`
	}
	err := f.admin(http.MethodPost, "/candidates/moves", map[string]int{"count": count, "from": from}, &out)
	return out.Serials, err
}

func (f *fakeProc) resetStats() error { return f.admin(http.MethodDelete, "/stats", nil, nil) }

// requests returns the API requests the fake answered since the last reset.
func (f *fakeProc) requests() (int64, error) {
	var st fake.Stats
	if err := f.admin(http.MethodGet, "/stats", nil, &st); err != nil {
		return 0, err
	}
	var n int64
	for _, c := range st.Requests {
		n += c
	}
	return n, nil
}

// bare is one run of the bare fetch loop.
type bare struct {
	List, Total time.Duration
	Requests    int
	Err         error
}

// bareLoop makes, with plain net/http at concurrency conc, first every
// request of lists, then every request of details (paths on the fake),
// discarding the bodies: what the same requests cost with no decoding and
// no warehouse.
func (f *fakeProc) bareLoop(conc int, lists, details []string) bare {
	hc := &http.Client{Timeout: time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: conc}}
	defer hc.CloseIdleConnections()
	get := func(ctx context.Context, path string) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, f.base+path, nil)
		if err != nil {
			return err
		}
		req.Header.Set("Token", f.token)
		resp, err := hc.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if _, err := io.Copy(io.Discard, resp.Body); err != nil {
			return fmt.Errorf("GET %s: %w", path, err)
		}
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("GET %s: status %d", path, resp.StatusCode)
		}
		return nil
	}
	all := func(paths []string) error {
		g, ctx := errgroup.WithContext(context.Background())
		g.SetLimit(conc)
		for _, p := range paths {
			g.Go(func() error { return get(ctx, p) })
		}
		return g.Wait()
	}
	var b bare
	start := time.Now()
	if b.Err = all(lists); b.Err != nil {
		return b
	}
	b.List = time.Since(start)
	b.Err = all(details)
	b.Total = time.Since(start)
	b.Requests = len(lists) + len(details)
	return b
}

// pages returns the list page paths from first to last (1-based).
func pages(prefix string, first, last int) []string {
	var out []string
	for p := first; p <= last; p++ {
		out = append(out, prefix+strconv.Itoa(p))
	}
	return out
}

// detailPaths returns prefix+serial for each serial.
func detailPaths(prefix string, serials []string) []string {
	out := make([]string, len(serials))
	for i, s := range serials {
		out[i] = prefix + s
	}
	return out
}

// numPagesOf is the NumPages of a list of n records.
func numPagesOf(n int) int { return (n + fake.PageSize - 1) / fake.PageSize }

// TestProc_stderrLine: the benchmark reads the run's and the publish's
// durations from the log, in seconds (took_s) or as a slog duration (took).
func TestProc_stderrLine(t *testing.T) {
	p := &proc{Publish: -1, RunTook: -1}
	p.stderrLine(`{"level":"INFO","msg":"run finished","took_s":2.389}`)
	p.stderrLine(`{"level":"INFO","msg":"published","took":1500000000}`)
	if p.RunTook != 2389*time.Millisecond || p.Publish != 1500*time.Millisecond {
		t.Errorf("run took %v, publish %v; want 2.389s and 1.5s", p.RunTook, p.Publish)
	}
	p.Wall = time.Minute
	p.stderrLine(`{"level":"INFO","msg":"published","took_s":18.2,"copy_replaced":true,"copy_took_s":17.7}`)
	if p.CopyTook != 17700*time.Millisecond || p.CopyDue != "" || !strings.Contains(runNote(p), "read-only copy 17.70 s") {
		t.Errorf("copy took %v (due %q), note %q; want 17.7s", p.CopyTook, p.CopyDue, runNote(p))
	}
	p.stderrLine(`{"level":"INFO","msg":"published","took_s":5.4,"copy_replaced":false,"copy_due":"2026-11-30T06:00:00Z"}`)
	if p.CopyTook != 0 || !strings.Contains(runNote(p), "read-only copy kept until 2026-11-30T06:00:00Z") {
		t.Errorf("copy took %v, note %q; want the copy kept", p.CopyTook, runNote(p))
	}
}
