package queries

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
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
// protocol and checks what a reader sees at 1280 px: every headline tile
// with a value, every chart drawn with visible bars, no horizontal scroll,
// no console error or exception, no request but its own file; it also
// prints to PDF. It reads the hand-built report, or the file named by
// $STACKHOUSE_REPORT_HTML (the demo's: make report-png). With
// $STACKHOUSE_REPORT_PNG set it saves a 1400-px-wide full-page screenshot
// there (docs/report.png).
func TestReport_Browser(t *testing.T) {
	t.Parallel()
	if os.Getenv("STACKHOUSE_SKIP_BROWSER") == "1" {
		t.Skip("STACKHOUSE_SKIP_BROWSER=1")
	}
	bin := findChromium()
	if bin == "" {
		t.Fatal("chromium not found in PATH; install it (Debian: apt-get update && apt-get install -y chromium) " +
			"or set STACKHOUSE_SKIP_BROWSER=1 to skip this test")
	}
	dir := t.TempDir()
	path := os.Getenv("STACKHOUSE_REPORT_HTML")
	wantCharts := reportCharts
	if path == "" {
		path, _ = writeReport(t, dir)
	} else if path, _ = filepath.Abs(path); true {
		t.Logf("checking %s", path)
	}
	fileURL := (&url.URL{Scheme: "file", Path: path}).String()

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c := startChromium(ctx, t, bin, dir)
	defer c.Close()
	for _, domain := range []string{"Network", "Runtime", "Log", "Page"} {
		if err := c.call(ctx, domain+".enable", nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.call(ctx, "Emulation.setDeviceMetricsOverride", map[string]any{
		"width": 1280, "height": 800, "deviceScaleFactor": 1, "mobile": false}, nil); err != nil {
		t.Fatal(err)
	}
	if err := c.call(ctx, "Page.navigate", map[string]any{"url": fileURL}, nil); err != nil {
		t.Fatal(err)
	}
	if err := c.waitEvent(ctx, "Page.loadEventFired"); err != nil {
		t.Fatal(err)
	}

	// What rendered: the tiles, the charts with their on-screen size and
	// bars, and the page's width against the window's.
	js := `new Promise(r => requestAnimationFrame(() => r(JSON.stringify({
		title: document.title,
		tiles: [...document.querySelector('main > .cards').querySelectorAll('.card')].map(c => ({
			label: c.querySelector('.label').innerText, value: c.querySelector('.value').innerText,
			change: (c.querySelector('.change') || {innerText: ''}).innerText,
			visible: c.getBoundingClientRect().width > 50 && c.getBoundingClientRect().height > 30 })),
		charts: [...document.querySelectorAll('svg[data-chart]')].map(s => ({
			id: s.dataset.chart, width: s.getBoundingClientRect().width, height: s.getBoundingClientRect().height,
			bars: [...s.querySelectorAll('rect.bar')].filter(b => b.getBoundingClientRect().height > 0).length })),
		tables: document.querySelectorAll('table').length,
		resources: [...document.querySelectorAll('[src], link[href], [style*="url("]')].length,
		scrollWidth: document.documentElement.scrollWidth, clientWidth: document.documentElement.clientWidth
	}))))`
	var dom struct {
		Title string
		Tiles []struct {
			Label, Value, Change string
			Visible              bool
		}
		Charts []struct {
			ID            string
			Width, Height float64
			Bars          int
		}
		Tables, Resources        int
		ScrollWidth, ClientWidth float64
	}
	c.eval(ctx, t, js, &dom)
	wantTiles := []string{"Median time to fill", "Median time to hire", "Open jobs", "Active applications",
		"Hires this period", "Offer acceptance"}
	var labels []string
	for _, tl := range dom.Tiles {
		labels = append(labels, tl.Label)
		if !tl.Visible || strings.TrimSpace(tl.Value) == "" || tl.Value == "–" {
			t.Errorf("tile %q shows %q (visible %v)", tl.Label, tl.Value, tl.Visible)
		}
	}
	if !slices.Equal(labels, wantTiles) {
		t.Errorf("tiles %v, want %v", labels, wantTiles)
	}
	seen := map[string]bool{}
	for _, ch := range dom.Charts {
		seen[ch.ID] = true
		if ch.Width < 300 || ch.Height < 80 || ch.Bars == 0 {
			t.Errorf("chart %s rendered %vx%v with %d visible bars", ch.ID, ch.Width, ch.Height, ch.Bars)
		}
	}
	for _, id := range wantCharts {
		if !seen[id] {
			t.Errorf("chart %s not drawn", id)
		}
	}
	if dom.Tables < len(wantCharts) || dom.Resources != 0 || !strings.HasPrefix(dom.Title, "Hiring report") {
		t.Errorf("title %q, %d tables, %d resource references", dom.Title, dom.Tables, dom.Resources)
	}
	if dom.ScrollWidth > dom.ClientWidth {
		t.Errorf("page is %v px wide in a %v px window: it scrolls sideways", dom.ScrollWidth, dom.ClientWidth)
	}

	// A screenshot at 1400 px, the full page.
	if err := c.call(ctx, "Emulation.setDeviceMetricsOverride", map[string]any{
		"width": 1400, "height": 900, "deviceScaleFactor": 1, "mobile": false}, nil); err != nil {
		t.Fatal(err)
	}
	var shot struct{ Data string }
	if err := c.call(ctx, "Page.captureScreenshot", map[string]any{"format": "png", "captureBeyondViewport": true}, &shot); err != nil {
		t.Fatal(err)
	}
	png, err := base64.StdEncoding.DecodeString(shot.Data)
	if err != nil || !bytes.HasPrefix(png, []byte("\x89PNG\r\n\x1a\n")) || len(png) < 10_000 {
		t.Fatalf("screenshot: %d bytes, %v", len(png), err)
	}
	if w := binary.BigEndian.Uint32(png[16:20]); w != 1400 {
		t.Errorf("screenshot is %d px wide, want 1400", w)
	}
	if out := os.Getenv("STACKHOUSE_REPORT_PNG"); out != "" {
		if err := os.WriteFile(out, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot: %s (%d bytes)", out, len(png))
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

// startChromium starts headless Chromium with its profile in dir and
// returns a DevTools client on its page; the browser and its children are
// killed at the test's end.
func startChromium(ctx context.Context, t *testing.T, bin, dir string) *cdpClient {
	t.Helper()
	cmd := exec.Command(bin, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-extensions", "--disable-default-apps", "--no-default-browser-check", "--hide-scrollbars",
		"--user-data-dir="+filepath.Join(dir, "profile"),
		"--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0", "about:blank")
	ownGroup(cmd)
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
		// The whole group: a child still writing to the profile would
		// make the removal of dir fail.
		killGroup(cmd)
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
	select {
	case f := <-ch:
		if f.err != nil {
			t.Fatal(f.err)
		}
		return newCDP(connectPage(ctx, t, f.url))
	case <-ctx.Done():
		t.Fatal("chromium did not print its DevTools address")
	}
	return nil
}

// eval runs a script returning JSON in the page and decodes it into v.
func (c *cdpClient) eval(ctx context.Context, t *testing.T, js string, v any) {
	t.Helper()
	var res struct {
		Result struct {
			Value string `json:"value"`
		} `json:"result"`
		ExceptionDetails any `json:"exceptionDetails"`
	}
	if err := c.call(ctx, "Runtime.evaluate", map[string]any{"expression": js, "awaitPromise": true, "returnByValue": true}, &res); err != nil {
		t.Fatal(err)
	}
	if res.ExceptionDetails != nil {
		t.Fatalf("evaluate: %v", res.ExceptionDetails)
	}
	if err := json.Unmarshal([]byte(res.Result.Value), v); err != nil {
		t.Fatal(err)
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
