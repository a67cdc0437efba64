package queries

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// findChromium returns the path of a Chromium or Chrome binary, or "".
func findChromium() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// TestReport_Browser opens the report in headless Chromium over the DevTools
// protocol and checks what a reader would get: the page loads with no
// console error or exception, requests nothing but its own file, renders
// every chart with visible size, takes a screenshot and prints to PDF.
func TestReport_Browser(t *testing.T) {
	if os.Getenv("STACKHOUSE_SKIP_BROWSER") == "1" {
		t.Skip("STACKHOUSE_SKIP_BROWSER=1")
	}
	bin := findChromium()
	if bin == "" {
		t.Fatal("chromium not found in PATH; install it (Debian: apt-get update && apt-get install -y chromium) " +
			"or set STACKHOUSE_SKIP_BROWSER=1 to skip this test")
	}
	dir := t.TempDir()
	path, _ := writeReport(t, dir)
	fileURL := (&url.URL{Scheme: "file", Path: path}).String()

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.Command(bin, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-extensions", "--disable-default-apps", "--no-default-browser-check",
		"--user-data-dir="+filepath.Join(dir, "profile"),
		"--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0", "about:blank")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	var logMu sync.Mutex
	var chromeLog strings.Builder
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			logMu.Lock()
			t.Logf("chromium stderr:\n%s", chromeLog.String())
			logMu.Unlock()
		}
	})
	type found struct {
		url string
		err error
	}
	ch := make(chan found, 1)
	go func() {
		u, err := devToolsURL(stderr, &chromeLog, &logMu)
		ch <- found{u, err}
	}()
	var browserWS string
	select {
	case f := <-ch:
		if f.err != nil {
			t.Fatal(f.err)
		}
		browserWS = f.url
	case <-ctx.Done():
		t.Fatal("chromium did not print its DevTools address")
	}

	c := newCDP(connectPage(ctx, t, browserWS))
	defer c.Close()
	for _, domain := range []string{"Network", "Runtime", "Log", "Page"} {
		if err := c.call(ctx, domain+".enable", nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	// A 1366x768 laptop screen.
	if err := c.call(ctx, "Emulation.setDeviceMetricsOverride", map[string]any{
		"width": 1366, "height": 768, "deviceScaleFactor": 1, "mobile": false}, nil); err != nil {
		t.Fatal(err)
	}
	if err := c.call(ctx, "Page.navigate", map[string]any{"url": fileURL}, nil); err != nil {
		t.Fatal(err)
	}
	if err := c.waitEvent(ctx, "Page.loadEventFired"); err != nil {
		t.Fatal(err)
	}

	// What rendered: the charts with their on-screen size and bars.
	var eval struct {
		Result struct {
			Value string `json:"value"`
		} `json:"result"`
		ExceptionDetails any `json:"exceptionDetails"`
	}
	js := `new Promise(r => requestAnimationFrame(() => r(JSON.stringify({
		title: document.title,
		charts: [...document.querySelectorAll('svg[data-chart]')].map(s => ({
			id: s.dataset.chart, width: s.getBoundingClientRect().width, height: s.getBoundingClientRect().height,
			bars: s.querySelectorAll('rect.bar').length })),
		tables: document.querySelectorAll('table').length,
		resources: [...document.querySelectorAll('[src], link[href], [style*="url("]')].length,
		pageWidth: document.documentElement.scrollWidth
	}))))`
	if err := c.call(ctx, "Runtime.evaluate", map[string]any{"expression": js, "awaitPromise": true, "returnByValue": true}, &eval); err != nil {
		t.Fatal(err)
	}
	if eval.ExceptionDetails != nil {
		t.Fatalf("evaluate: %v", eval.ExceptionDetails)
	}
	var dom struct {
		Title  string
		Charts []struct {
			ID            string
			Width, Height float64
			Bars          int
		}
		Tables, Resources int
		PageWidth         float64
	}
	if err := json.Unmarshal([]byte(eval.Result.Value), &dom); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, ch := range dom.Charts {
		ids = append(ids, ch.ID)
		if ch.Width < 300 || ch.Height < 80 || ch.Bars == 0 {
			t.Errorf("chart %s rendered %vx%v with %d bars", ch.ID, ch.Width, ch.Height, ch.Bars)
		}
	}
	if !slices.Equal(ids, reportCharts) {
		t.Errorf("rendered charts %v, want %v", ids, reportCharts)
	}
	if dom.Tables < len(reportCharts) || dom.Resources != 0 || !strings.HasPrefix(dom.Title, "Hiring report") {
		t.Errorf("title %q, %d tables, %d resource references", dom.Title, dom.Tables, dom.Resources)
	}
	if dom.PageWidth > 1366 {
		t.Errorf("page is %v px wide: it scrolls sideways on a laptop", dom.PageWidth)
	}

	var shot struct{ Data string }
	if err := c.call(ctx, "Page.captureScreenshot", map[string]any{"format": "png", "captureBeyondViewport": true}, &shot); err != nil {
		t.Fatal(err)
	}
	png, err := base64.StdEncoding.DecodeString(shot.Data)
	if err != nil || !bytes.HasPrefix(png, []byte("\x89PNG\r\n\x1a\n")) || len(png) < 10_000 {
		t.Fatalf("screenshot: %d bytes, %v", len(png), err)
	}
	shotPath := filepath.Join(dir, "report.png")
	if err := os.WriteFile(shotPath, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s (%d bytes)", shotPath, len(png))
	if os.Getenv("STACKHOUSE_REPORT_PNG") != "" { // keep a copy to look at
		os.WriteFile(os.Getenv("STACKHOUSE_REPORT_PNG"), png, 0o644)
	}

	var pdf struct{ Data string }
	if err := c.call(ctx, "Page.printToPDF", map[string]any{"printBackground": true}, &pdf); err != nil {
		t.Fatal(err)
	}
	if b, _ := base64.StdEncoding.DecodeString(pdf.Data); !bytes.HasPrefix(b, []byte("%PDF")) {
		t.Error("printing did not produce a PDF")
	}

	// Nothing but the file itself was requested, and nothing complained.
	requests := 0
	for _, e := range c.snapshot() {
		var p struct {
			Request struct{ URL string } `json:"request"`
			Type    string               `json:"type"`
			Entry   struct {
				Level, Text, URL string
			} `json:"entry"`
			Args             []struct{ Value any } `json:"args"`
			ExceptionDetails struct{ Text string } `json:"exceptionDetails"`
		}
		json.Unmarshal(e.Params, &p)
		switch e.Method {
		case "Network.requestWillBeSent":
			requests++
			if p.Request.URL != fileURL {
				t.Errorf("the report requested %s", p.Request.URL)
			}
		case "Runtime.consoleAPICalled":
			if p.Type == "error" || p.Type == "assert" || p.Type == "warning" {
				t.Errorf("console %s: %v", p.Type, p.Args)
			}
		case "Runtime.exceptionThrown":
			t.Errorf("exception: %s", p.ExceptionDetails.Text)
		case "Log.entryAdded":
			if p.Entry.Level == "error" || p.Entry.Level == "warning" {
				t.Errorf("log %s: %s %s", p.Entry.Level, p.Entry.Text, p.Entry.URL)
			}
		}
	}
	if requests != 1 {
		t.Errorf("%d requests, want exactly 1 (the report file)", requests)
	}
}

// connectPage finds the page target of the browser at browserWS and opens a
// WebSocket to it.
func connectPage(ctx context.Context, t *testing.T, browserWS string) *wsConn {
	t.Helper()
	u, err := url.Parse(browserWS)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequestWithContext(ctx, "GET", "http://"+u.Host+"/json/list", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var targets []struct {
		Type                 string `json:"type"`
		WebSocketDebuggerURL string `json:"webSocketDebuggerUrl"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&targets); err != nil {
		t.Fatal(err)
	}
	for _, tg := range targets {
		if tg.Type == "page" {
			ws, err := dialWS(ctx, tg.WebSocketDebuggerURL)
			if err != nil {
				t.Fatal(err)
			}
			return ws
		}
	}
	t.Fatalf("no page target among %v", targets)
	return nil
}
