package applicantstack

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"os"
	"path"
	"strings"
	"time"
)

// FileConnRetries caps the retries of a file download that got no answer
// at all (connection refused or reset, a timeout): a file host that is down
// stays down for longer than backing off is worth, and the caller leaves
// the file for its next run (see Download).
const FileConnRetries = 2

// Download is a downloaded attachment.
type Download struct {
	Serial      string // the file serial from the URL path (a6…)
	Bytes       int64
	SHA256      string // hex
	ContentType string
	FileName    string // from Content-Disposition, if sent
}

// FileSerial returns the serial of a signed attachment link
// ("…/x/attachment/{serial}?apikey=…"). The serial is the stable key of a
// file; the apikey changes daily.
func FileSerial(fileURL string) (string, error) {
	u, err := url.Parse(fileURL)
	if err != nil {
		return "", fmt.Errorf("attachment link: %v", scrub(err))
	}
	dir, serial := path.Split(strings.TrimRight(u.Path, "/"))
	if !strings.HasSuffix(dir, "/attachment/") || serial == "" {
		return "", fmt.Errorf("attachment link %q: no /attachment/{serial} in path", cleanPath(u.Path))
	}
	return serial, nil
}

// Download streams a candidate file from its signed link into w, capped at
// MaxFileSize, and returns its size and sha256. Links expire at the
// account's midnight, so download in the run that fetched the detail. The
// Token header is sent only when the link points at the account's own host.
//
// Temporary failures are retried (up to MaxRetries times, FileConnRetries
// when no answer came); a failure in mid-body is retried only when w is an
// *os.File or *bytes.Buffer, which Download rewinds. A failure that
// IsTemporary may succeed in a later run: the caller keeps the file pending.
func (c *Client) Download(ctx context.Context, fileURL string, w io.Writer) (*Download, error) {
	if err := c.init(); err != nil {
		return nil, err
	}
	serial, err := FileSerial(fileURL)
	if err != nil {
		return nil, err
	}
	u, _ := url.Parse(fileURL)
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("attachment %s: link is not http(s)", serial)
	}
	if err := c.acquire(ctx); err != nil {
		return nil, err
	}
	defer func() { <-c.sem }()
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			c.stats.retries.Add(1)
		}
		d, written, err := c.download1(ctx, u, w)
		if err == nil {
			d.Serial = serial
			c.speedUp()
			return d, nil
		}
		e, _ := err.(*Error)
		limit := c.MaxRetries
		if e != nil && e.Status == 0 && !errors.Is(e.Err, ErrTruncated) {
			limit = min(limit, FileConnRetries)
		}
		retry := e != nil && e.Temporary() && attempt < limit && ctx.Err() == nil
		if retry && written > 0 {
			retry = rewind(w)
		}
		if !retry {
			return nil, c.giveUp(ctx, err)
		}
		if err := c.waitToRetry(ctx, e, attempt); err != nil {
			return nil, err
		}
	}
}

func (c *Client) download1(ctx context.Context, u *url.URL, w io.Writer) (*Download, int64, error) {
	if err := c.waitTurn(ctx); err != nil {
		return nil, 0, err
	}
	e := &Error{Method: http.MethodGet, Path: cleanPath(u.Path)}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		e.Err = err
		return nil, 0, e
	}
	if u.Host == c.base.Host {
		c.setHeaders(req)
	}
	req.Header.Set("Accept", "*/*")
	c.stats.requests.Add(1)
	resp, err := c.HTTPClient.Do(req)
	if err != nil {
		e.Err = scrub(err)
		return nil, 0, e
	}
	defer drain(resp.Body)
	e.Status = resp.StatusCode
	e.RetryAfter = ParseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		e.Result, e.Message = resultOf(body)
		if e.Message == "" {
			e.Message = excerpt(body)
		}
		return nil, 0, e
	}
	if resp.ContentLength > c.MaxFileSize {
		e.Err = fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, resp.ContentLength, c.MaxFileSize)
		return nil, 0, e
	}
	h := sha256.New()
	// A JSON answer may be the API's "Method Result" failure sent with
	// status 200 instead of the file: keep the start of it to look.
	var head capped
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt == "application/json" {
		head.limit = 64 << 10
	}
	n, err := io.Copy(io.MultiWriter(w, h, &head), io.LimitReader(resp.Body, c.MaxFileSize+1))
	if err != nil {
		e.Err = fmt.Errorf("%w: %v", ErrTruncated, scrub(err))
		return nil, n, e
	}
	if n > c.MaxFileSize {
		e.Err = fmt.Errorf("%w: over %d bytes", ErrTooLarge, c.MaxFileSize)
		return nil, n, e
	}
	if resp.ContentLength >= 0 && n != resp.ContentLength {
		e.Err = fmt.Errorf("%w: %d of %d bytes", ErrTruncated, n, resp.ContentLength)
		return nil, n, e
	}
	if head.limit > 0 && int64(len(head.buf)) == n {
		if res, msg := resultOf(head.buf); res != "" && res != "Success" {
			e.Result, e.Message = res, msg
			return nil, n, e
		}
	}
	d := &Download{Bytes: n, SHA256: hex.EncodeToString(h.Sum(nil))}
	d.ContentType, _, _ = mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if _, params, err := mime.ParseMediaType(resp.Header.Get("Content-Disposition")); err == nil {
		d.FileName = path.Base(params["filename"])
	}
	return d, n, nil
}

func rewind(w io.Writer) bool {
	switch f := w.(type) {
	case *os.File:
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return false
		}
		return f.Truncate(0) == nil
	case *bytes.Buffer:
		f.Reset()
		return true
	}
	return false
}

// capped keeps the first limit bytes written to it.
type capped struct {
	buf   []byte
	limit int
}

func (c *capped) Write(p []byte) (int, error) {
	if room := c.limit - len(c.buf); room > 0 {
		c.buf = append(c.buf, p[:min(room, len(p))]...)
	}
	return len(p), nil
}
