package fake

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// The admin API lets scripts and other-language tests drive the fake
// (see the package documentation for the routes). It answers only
// loopback clients, needs no token, and speaks JSON; errors are
// {"error": "..."} with 400, 403 or 404.

func (s *Server) serveAdmin(w http.ResponseWriter, r *http.Request, p string) {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
		adminJSON(w, http.StatusForbidden, map[string]string{"error": "the /_fake/ admin API answers loopback clients only"})
		return
	}
	r2 := new(http.Request)
	*r2 = *r
	u := *r.URL
	u.Path, u.RawPath = p, ""
	r2.URL = &u
	s.admin.ServeHTTP(w, r2)
}

func (s *Server) adminMux() *http.ServeMux {
	m := http.NewServeMux()
	h := func(pattern string, f func(r *http.Request) (any, error)) {
		m.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			v, err := f(r)
			if err != nil {
				adminJSON(w, adminStatus(err), map[string]string{"error": err.Error()})
				return
			}
			adminJSON(w, http.StatusOK, v)
		})
	}
	h("GET /_fake/clock", func(r *http.Request) (any, error) { return clockJSON{Now: s.Now()}, nil })
	h("POST /_fake/clock", func(r *http.Request) (any, error) {
		var c clockJSON
		if err := decode(r, &c); err != nil {
			return nil, err
		}
		d, err := time.ParseDuration(c.Advance)
		if err != nil || d < 0 {
			return nil, fmt.Errorf("advance: %q is not a positive duration", c.Advance)
		}
		return clockJSON{Now: s.Advance(d)}, nil
	})
	h("GET /_fake/tenants", func(r *http.Request) (any, error) { return s.Tenants(), nil })
	h("POST /_fake/tenants", func(r *http.Request) (any, error) {
		cfg := NewTenant("")
		cfg.Token = ""
		if err := decode(r, &cfg); err != nil {
			return nil, err
		}
		if cfg.Token == "" {
			cfg.Token = NewTenant(cfg.Subdomain).Token
		}
		if err := s.AddTenant(cfg); err != nil {
			return nil, err
		}
		return cfg, nil
	})
	h("GET /_fake/tenants/{sub}", func(r *http.Request) (any, error) { return s.tenantInfo(r.PathValue("sub")) })
	h("GET /_fake/tenants/{sub}/serials/{list}", func(r *http.Request) (any, error) {
		return s.Serials(r.PathValue("sub"), r.PathValue("list"))
	})
	h("GET /_fake/tenants/{sub}/malformed/{list}", func(r *http.Request) (any, error) {
		return s.Malformed(r.PathValue("sub"), r.PathValue("list"))
	})
	h("POST /_fake/tenants/{sub}/candidates", withBody(func(r *http.Request, body struct {
		Count int `json:"count"`
	}) (any, error) {
		serials, err := s.AddCandidates(r.PathValue("sub"), body.Count)
		return map[string][]string{"serials": serials}, err
	}))
	h("POST /_fake/tenants/{sub}/candidates/moves", withBody(func(r *http.Request, body struct {
		Count int `json:"count"`
		From  int `json:"from"`
	}) (any, error) {
		serials, err := s.MoveMany(r.PathValue("sub"), body.Count, body.From)
		return map[string][]string{"serials": serials}, err
	}))
	h("GET /_fake/tenants/{sub}/candidates/{serial}", func(r *http.Request) (any, error) {
		return s.Candidate(r.PathValue("sub"), r.PathValue("serial"), baseURL(r))
	})
	h("DELETE /_fake/tenants/{sub}/candidates/{serial}", func(r *http.Request) (any, error) {
		return ok(s.DeleteCandidate(r.PathValue("sub"), r.PathValue("serial")))
	})
	h("POST /_fake/tenants/{sub}/candidates/{serial}/stage", moveStage(s.MoveStage))
	h("POST /_fake/tenants/{sub}/hires/{serial}/stage", moveStage(s.MoveHireStage))
	h("GET /_fake/tenants/{sub}/jobs/{serial}", func(r *http.Request) (any, error) {
		return s.Job(r.PathValue("sub"), r.PathValue("serial"))
	})
	h("POST /_fake/tenants/{sub}/jobs/{serial}", withBody(func(r *http.Request, changes map[string]string) (any, error) {
		return ok(s.EditJob(r.PathValue("sub"), r.PathValue("serial"), changes))
	}))
	h("GET /_fake/tenants/{sub}/hires/{serial}", func(r *http.Request) (any, error) {
		return s.Hire(r.PathValue("sub"), r.PathValue("serial"))
	})
	h("GET /_fake/tenants/{sub}/faults", func(r *http.Request) (any, error) { return s.Faults(r.PathValue("sub")) })
	h("PUT /_fake/tenants/{sub}/faults", func(r *http.Request) (any, error) {
		var f Faults
		if err := decode(r, &f); err != nil {
			return nil, err
		}
		if err := s.SetFaults(r.PathValue("sub"), f); err != nil {
			return nil, err
		}
		return f, nil
	})
	h("GET /_fake/tenants/{sub}/stats", func(r *http.Request) (any, error) {
		if _, err := s.tenant(r.PathValue("sub")); err != nil {
			return nil, err
		}
		return s.Stats(r.PathValue("sub")), nil
	})
	h("DELETE /_fake/tenants/{sub}/stats", func(r *http.Request) (any, error) {
		if _, err := s.tenant(r.PathValue("sub")); err != nil {
			return nil, err
		}
		s.ResetStats(r.PathValue("sub"))
		return ok(nil)
	})
	h("POST /_fake/tenants/{sub}/webhooks/burst", withBody(func(r *http.Request, body struct {
		Count       int `json:"count"`
		Concurrency int `json:"concurrency"`
	}) (any, error) {
		return s.WebhookBurst(r.Context(), r.PathValue("sub"), body.Count, body.Concurrency)
	}))
	h("POST /_fake/webhooks/flush", func(r *http.Request) (any, error) { return ok(s.FlushWebhooks(r.Context())) })
	m.HandleFunc("/_fake/", func(w http.ResponseWriter, r *http.Request) {
		adminJSON(w, http.StatusNotFound, map[string]string{"error": "no admin route " + r.Method + " " + r.URL.Path})
	})
	return m
}

// moveStage is the handler of POST .../{serial}/stage with body
// {"stage": ...}: move (MoveStage, MoveHireStage) on the path's tenant and
// record.
func moveStage(move func(sub, serial, stage string) error) func(*http.Request) (any, error) {
	return withBody(func(r *http.Request, body struct {
		Stage string `json:"stage"`
	}) (any, error) {
		return ok(move(r.PathValue("sub"), r.PathValue("serial"), body.Stage))
	})
}

// withBody is an admin handler that decodes the request's JSON body (empty:
// the zero T) and passes it to handle.
func withBody[T any](handle func(r *http.Request, body T) (any, error)) func(*http.Request) (any, error) {
	return func(r *http.Request) (any, error) {
		var body T
		if err := decode(r, &body); err != nil {
			return nil, err
		}
		return handle(r, body)
	}
}

// tenantInfo is GET /_fake/tenants/{sub}.
func (s *Server) tenantInfo(sub string) (any, error) {
	return readTenant(s, sub, (*tenant).info)
}

// info is tenantInfo's answer; the caller holds t.mu (read).
func (t *tenant) info() (any, error) {
	hires := 0
	if t.cfg.Onboarding {
		hires = len(t.hires)
	}
	return map[string]any{
		"tenant":     t.cfg,
		"code":       t.code,
		"pipeline":   t.stages,
		"jobs":       len(t.jobs),
		"candidates": t.liveCandidates(),
		"hires":      hires,
		"generated":  eventTime(t.genNow, t.loc),
	}, nil
}

func adminStatus(err error) int {
	switch {
	case errors.Is(err, ErrUnknownTenant), errors.Is(err, ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, ErrClosed):
		return http.StatusServiceUnavailable
	}
	return http.StatusBadRequest
}

func ok(err error) (any, error) {
	if err != nil {
		return nil, err
	}
	return map[string]bool{"ok": true}, nil
}

// decode reads a JSON body into v; an empty body leaves v as it is.
func decode(r *http.Request, v any) error {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("read body: %w", err)
	}
	if len(body) == 0 {
		return nil
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("body: %w", err)
	}
	return nil
}

func adminJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":"cannot encode answer"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}
