package applicantstack

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"syscall"
	"time"
)

// Sentinel errors. Use errors.Is; *Error wraps the matching one.
var (
	ErrUnauthorized = errors.New("applicantstack: unauthorized (bad token or wrong subdomain)")
	ErrNotFound     = errors.New("applicantstack: not found")
	ErrFailure      = errors.New("applicantstack: method result not success")
	ErrTruncated    = errors.New("applicantstack: truncated response")
	ErrTooLarge     = errors.New("applicantstack: file too large")
)

// Error is a failed API call: an HTTP status other than 2xx, a "Method
// Result" other than "Success" (Status 200), or a body that was cut off.
// It never contains the token.
type Error struct {
	Method     string
	Path       string        // path only: no host, no query (signed links carry keys)
	Status     int           // HTTP status; 0 when the request never got one
	Result     string        // "Method Result" when the body had one
	Message    string        // the API's "Error" text, or a body excerpt
	RetryAfter time.Duration // from a Retry-After header, 0 when absent
	Err        error         // underlying cause (network, decoding, or a sentinel)
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Method + " " + e.Path + ": ")
	switch {
	case e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden && strings.HasPrefix(e.Path, "/api"):
		fmt.Fprintf(&b, "%d %s: check the account's token and subdomain", e.Status, http.StatusText(e.Status))
	case e.Status == http.StatusNotFound && strings.HasPrefix(e.Path, "/o/api"):
		b.WriteString("404 Not Found: the onboarding (hires) module may not be enabled for this account")
	case e.Status != 0 && e.Status != http.StatusOK:
		fmt.Fprintf(&b, "%d %s", e.Status, http.StatusText(e.Status))
	case e.Result != "":
		fmt.Fprintf(&b, "method result %q", e.Result)
	}
	if e.Message != "" {
		if b.Len() > len(e.Method)+len(e.Path)+3 {
			b.WriteString(": ")
		}
		b.WriteString(e.Message)
	}
	if e.Err != nil && !isSentinel(e.Err) {
		if b.Len() > len(e.Method)+len(e.Path)+3 {
			b.WriteString(": ")
		}
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

func (e *Error) Unwrap() error {
	switch {
	case e.Err != nil:
		return e.Err
	case e.Status == http.StatusUnauthorized:
		return ErrUnauthorized
	case e.Status == http.StatusNotFound:
		return ErrNotFound
	case e.Result != "" && e.Result != "Success":
		return ErrFailure
	}
	return nil
}

// Temporary reports whether retrying the same request may succeed: network
// errors, timeouts, 429, 5xx, truncated bodies and "Method Result" failures
// (the API gives no way to tell a transient failure from a permanent one).
// A host name the resolver says does not exist is not temporary: retrying
// it only delays the error (by 16–20 s with the default backoff).
func (e *Error) Temporary() bool {
	switch {
	case e.Status == http.StatusTooManyRequests, e.Status >= 500:
		return true
	case e.Status == 0:
		return e.Err != nil && !errors.Is(e.Err, ErrTooLarge) && !noSuchHost(e.Err)
	case errors.Is(e.Err, ErrTruncated):
		return true
	case e.Status == http.StatusOK && e.Result != "" && e.Result != "Success":
		return true
	}
	return false
}

func isSentinel(err error) bool {
	for _, s := range []error{ErrUnauthorized, ErrNotFound, ErrFailure, ErrTruncated} {
		if err == s {
			return true
		}
	}
	return false
}

// Unreachable reports whether the request never reached a server: its host
// name does not resolve, or the connection was refused. Both usually mean a
// wrong base URL or subdomain.
func (e *Error) Unreachable() bool {
	if e.Status != 0 || e.Err == nil {
		return false
	}
	var dns *net.DNSError
	return errors.As(e.Err, &dns) || errors.Is(e.Err, syscall.ECONNREFUSED)
}

// noSuchHost reports a DNS answer that the name does not exist, which no
// retry heals (a resolver timeout or SERVFAIL may).
func noSuchHost(err error) bool {
	var dns *net.DNSError
	return errors.As(err, &dns) && dns.IsNotFound
}

// IsUnreachable reports whether err is an *Error whose request never
// reached a server (see Error.Unreachable).
func IsUnreachable(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Unreachable()
}

// IsTemporary reports whether err is an *Error that may succeed on retry.
func IsTemporary(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Temporary()
}

// RecordError is one record of a page that could not be decoded. The page
// itself succeeded; the caller quarantines the record.
type RecordError struct {
	Resource string // job, candidate, hire
	Index    int    // position in the page
	Serial   string // the record's serial when it could be read
	Raw      []byte // the record, sanitized (see Sanitize); nil when it is not JSON
	Err      error
}

func (e *RecordError) Error() string {
	id := e.Serial
	if id == "" {
		id = fmt.Sprintf("#%d", e.Index)
	}
	return fmt.Sprintf("%s %s: %v", e.Resource, id, e.Err)
}

func (e *RecordError) Unwrap() error { return e.Err }
