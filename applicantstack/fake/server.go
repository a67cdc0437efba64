package fake

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Defaults of NewServer.
const (
	DefaultWebhookRetries = 3
	DefaultWebhookBackoff = 100 * time.Millisecond
	DefaultWebhookTimeout = 5 * time.Second
	DefaultWebhookHold    = 200 * time.Millisecond
)

// Errors of the Go API.
var (
	ErrUnknownTenant = errors.New("fake: unknown tenant")
	ErrNotFound      = errors.New("fake: not found")
	ErrClosed        = errors.New("fake: server closed")
)

// Server is a fake ApplicantStack serving any number of tenants. Set its
// exported fields before the first AddTenant; then serve it with
// httptest.NewServer(s) or Start, and end it with Close.
type Server struct {
	// Epoch is the fake clock's starting time; generated history ends at
	// the clock's time when a tenant is added, so with a fixed Epoch a seed
	// always gives the same bytes. Default: 2026-03-16 14:30 UTC.
	Epoch time.Time
	// WallClock makes the fake clock also follow real time from NewServer,
	// as a demo wants; tests leave it off and move the clock with Advance.
	WallClock bool
	// WebhookClient posts notifications (default: a client with
	// DefaultWebhookTimeout).
	WebhookClient *http.Client
	// WebhookRetries is how many times a notification is posted before it
	// is given up; WebhookBackoff is the first wait between tries, doubled
	// each time.
	WebhookRetries int
	WebhookBackoff time.Duration

	created time.Time

	mu       sync.RWMutex
	offset   time.Duration
	tenants  map[string]*tenant // by subdomain
	byToken  map[string]*tenant
	byCode   map[string]*tenant
	order    []string
	http     *http.Server
	closed   bool
	admin    *http.ServeMux
	hooks    *emitter
	serveErr chan error
}

// NewServer returns a Server with no tenants and default settings.
func NewServer() *Server {
	s := &Server{
		Epoch:          time.Date(2026, 3, 16, 14, 30, 0, 0, time.UTC),
		WebhookClient:  &http.Client{Timeout: DefaultWebhookTimeout},
		WebhookRetries: DefaultWebhookRetries,
		WebhookBackoff: DefaultWebhookBackoff,
		created:        time.Now(),
		tenants:        make(map[string]*tenant),
		byToken:        make(map[string]*tenant),
		byCode:         make(map[string]*tenant),
	}
	s.admin = s.adminMux()
	s.hooks = newEmitter(s)
	return s
}

// AddTenant generates a tenant from cfg at the fake clock's current time.
// It fails if the subdomain or token is taken or cfg is invalid. Its cost
// does not grow with the number of candidates beyond a light pass over one
// candidate in forty (to find hires).
func (s *Server) AddTenant(cfg Tenant) error {
	if err := cfg.validate(); err != nil {
		return fmt.Errorf("tenant %q: %w", cfg.Subdomain, err)
	}
	now := s.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	if _, ok := s.tenants[cfg.Subdomain]; ok {
		return fmt.Errorf("tenant %q: subdomain already added", cfg.Subdomain)
	}
	if _, ok := s.byToken[cfg.Token]; ok {
		return fmt.Errorf("tenant %q: token already used by another tenant", cfg.Subdomain)
	}
	code := tenantCode(cfg.Subdomain, 0)
	for salt := 1; s.byCode[code] != nil; salt++ {
		code = tenantCode(cfg.Subdomain, salt)
	}
	t, err := newTenant(cfg, code, now)
	if err != nil {
		return fmt.Errorf("tenant %q: %w", cfg.Subdomain, err)
	}
	t.faults.set(Faults{}, cfg.Seed)
	s.tenants[cfg.Subdomain] = t
	s.byToken[cfg.Token] = t
	s.byCode[code] = t
	s.order = append(s.order, cfg.Subdomain)
	return nil
}

// Tenants returns the configuration of every tenant, in the order added.
func (s *Server) Tenants() []Tenant {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]Tenant, 0, len(s.order))
	for _, sub := range s.order {
		out = append(out, s.tenants[sub].cfg)
	}
	return out
}

func (s *Server) tenant(subdomain string) (*tenant, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	t := s.tenants[subdomain]
	if t == nil {
		return nil, fmt.Errorf("%w %q", ErrUnknownTenant, subdomain)
	}
	return t, nil
}

// Now returns the fake clock: Epoch, plus every Advance, plus the real
// time since NewServer if WallClock is set; whole seconds.
func (s *Server) Now() time.Time {
	s.mu.RLock()
	now := s.Epoch.Add(s.offset)
	s.mu.RUnlock()
	if s.WallClock {
		now = now.Add(time.Since(s.created))
	}
	return now.Truncate(time.Second)
}

// Advance moves the fake clock forward by d (negative d is ignored) and
// returns the new time.
func (s *Server) Advance(d time.Duration) time.Time {
	if d > 0 {
		s.mu.Lock()
		s.offset += d
		s.mu.Unlock()
	}
	return s.Now()
}

// Start serves s on addr ("127.0.0.1:0" picks a port) in a goroutine that
// Close ends, and returns the base URL, e.g. "http://127.0.0.1:8089".
func (s *Server) Start(addr string) (string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("fake: listen: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || s.http != nil {
		ln.Close()
		return "", errors.New("fake: server closed or already started")
	}
	s.http = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	s.serveErr = make(chan error, 1)
	go func() { s.serveErr <- s.http.Serve(ln) }()
	return "http://" + ln.Addr().String(), nil
}

// Close stops the listener started by Start (waiting up to 5 seconds for
// requests in flight), then stops webhook delivery and waits for its
// goroutines. Pending notifications are dropped; call FlushWebhooks first
// to deliver them. Close is idempotent.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	srv, serveErr := s.http, s.serveErr
	s.mu.Unlock()

	var err error
	if srv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err = srv.Shutdown(ctx)
		cancel()
		if err != nil {
			srv.Close()
		}
		if e := <-serveErr; e != nil && !errors.Is(e, http.ErrServerClosed) {
			err = errors.Join(err, e)
		}
	}
	s.hooks.close()
	return err
}

// ServeHTTP answers the ApplicantStack API routes and, for loopback
// clients, the /_fake/ admin API.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := cleanPath(r.URL.Path)
	if p == "/_fake" || strings.HasPrefix(p, "/_fake/") {
		s.serveAdmin(w, r, p)
		return
	}
	s.serveAPI(w, r, p)
}

// cleanPath collapses repeated slashes and drops a trailing slash, which
// the real API tolerates ("//api/jobs/1", "/api/candidates/").
func cleanPath(p string) string {
	if !strings.Contains(p, "//") && (len(p) <= 1 || !strings.HasSuffix(p, "/")) {
		return p
	}
	var b strings.Builder
	for _, seg := range strings.Split(p, "/") {
		if seg != "" {
			b.WriteByte('/')
			b.WriteString(seg)
		}
	}
	if b.Len() == 0 {
		return "/"
	}
	return b.String()
}

// resolve finds the tenant of an API request: by the host's first label
// when it names a tenant ("acme.localhost:8089"), otherwise by the token.
// hostTenant is the tenant the host names, even when the token is wrong,
// so that failures can be counted against it.
func (s *Server) resolve(r *http.Request) (t, hostTenant *tenant) {
	token := r.Header.Get("Token") // header names are case-insensitive
	s.mu.RLock()
	defer s.mu.RUnlock()
	if ht := s.tenantByHost(r.Host); ht != nil {
		if token != "" && token == ht.cfg.Token {
			return ht, ht
		}
		return nil, ht
	}
	if token == "" {
		return nil, nil
	}
	return s.byToken[token], nil
}

// tenantByHost returns the tenant the host's first label names, or nil;
// callers hold s.mu.
func (s *Server) tenantByHost(hostport string) *tenant {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	if net.ParseIP(host) != nil {
		return nil
	}
	label, _, ok := strings.Cut(host, ".")
	if !ok {
		return nil
	}
	return s.tenants[strings.ToLower(label)]
}

// baseURL is the scheme and host the client used, for links in responses.
func baseURL(r *http.Request) string {
	if r.TLS != nil {
		return "https://" + r.Host
	}
	return "http://" + r.Host
}
