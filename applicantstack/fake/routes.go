package fake

import (
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

// route is a parsed API path.
type route struct {
	kind    string
	list    string // for list kinds
	page    int    // for list kinds; 1 when the path has none
	badPage bool
	serial  string // for detail, update and attachment kinds
}

// parseRoute maps a cleaned path and method to a route.
func parseRoute(method, p string) (route, bool) {
	seg := strings.Split(strings.TrimPrefix(p, "/"), "/")
	hires := len(seg) >= 2 && seg[0] == "o" && seg[1] == "api"
	if hires {
		seg = seg[1:]
	}
	if len(seg) < 2 || len(seg) > 3 {
		return route{}, false
	}
	if seg[0] == "x" && seg[1] == "attachment" && len(seg) == 3 && !hires {
		return route{kind: KindAttachment, serial: seg[2]}, true
	}
	if seg[0] != "api" {
		return route{}, false
	}
	name := seg[1]
	if (name == "hires" || name == "hire") != hires {
		return route{}, false
	}
	var rt route
	switch name {
	case "jobs":
		rt = route{kind: KindJobsList, list: ListJobs, page: 1}
	case "candidates":
		rt = route{kind: KindCandidatesList, list: ListCandidates, page: 1}
	case "hires":
		rt = route{kind: KindHiresList, list: ListHires, page: 1}
	case "job":
		rt = route{kind: KindJob}
	case "candidate":
		rt = route{kind: KindCandidate}
		if method == http.MethodPut {
			rt.kind = KindCandidatePut
		}
	case "hire":
		rt = route{kind: KindHire}
		if method == http.MethodPut {
			rt.kind = KindHirePut
		}
	default:
		return route{}, false
	}
	switch {
	case rt.list != "" && len(seg) == 3:
		n, err := strconv.Atoi(seg[2])
		rt.page, rt.badPage = n, err != nil || n < 1
	case rt.list == "" && len(seg) == 3:
		rt.serial = seg[2]
	case rt.list == "":
		return route{}, false
	}
	return rt, true
}

func (rt route) methodOK(method string) bool {
	switch rt.kind {
	case KindCandidatePut, KindHirePut:
		return method == http.MethodPut
	}
	return method == http.MethodGet || method == http.MethodHead
}

// answer is a response before faults that act on bodies are applied.
type answer struct {
	status      int
	body        []byte
	contentType string
	header      http.Header // extra headers
	malformed   int
}

func jsonAnswer(status int, body []byte) answer {
	return answer{status: status, body: body, contentType: "application/json"}
}

// failure is the API's error body.
func failure(status int, msg string) answer {
	return jsonAnswer(status, record{{keyMethodResult, resultFailure}, {"Error", msg}}.marshal())
}

// gatewayPage is what a proxy in front of the API answers for 502 and 503.
func gatewayPage(status int) answer {
	text := strconv.Itoa(status) + " " + http.StatusText(status)
	return answer{status: status, body: []byte("<html><head><title>" + text + "</title></head><body><h1>" + text + "</h1></body></html>\n"), contentType: "text/html"}
}

func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request, p string) {
	rt, ok := parseRoute(r.Method, p)
	if !ok {
		a := failure(http.StatusNotFound, "Not found")
		if t, _ := s.resolve(r); t != nil {
			t.stats.answered(KindOther, a.status, false, false, 0)
		}
		write(w, a)
		return
	}
	if rt.kind == KindAttachment {
		s.serveAttachment(w, r, rt)
		return
	}
	t, ht := s.resolve(r)
	if t == nil {
		a := failure(http.StatusUnauthorized, "Invalid access token")
		if ht != nil {
			ht.stats.answered(rt.kind, a.status, false, false, 0)
		}
		write(w, a)
		return
	}
	var a answer
	var d decision
	switch {
	case !rt.methodOK(r.Method):
		a = failure(http.StatusMethodNotAllowed, "Method not allowed")
	case rt.list == ListHires || rt.kind == KindHire || rt.kind == KindHirePut:
		if !t.cfg.Onboarding {
			a = failure(http.StatusNotFound, "Not found")
			break
		}
		fallthrough
	default:
		if rt.badPage {
			a = failure(http.StatusBadRequest, "Invalid page number")
			break
		}
		a, d = s.faulty(t, r, rt, func() answer { return s.handle(t, r, rt) })
	}
	t.stats.answered(rt.kind, a.status, d.failure, d.truncate, a.malformed)
	write(w, a)
}

// faulty runs handle under the tenant's faults.
func (s *Server) faulty(t *tenant, r *http.Request, rt route, handle func() answer) (answer, decision) {
	key := rt.kind + "/" + rt.serial
	if rt.list != "" {
		key = rt.kind + "/" + strconv.Itoa(rt.page)
	}
	d := t.faults.decide(rt.kind, key, rt.list, rt.page, time.Now())
	if d.retryAfter != "" {
		a := failure(http.StatusTooManyRequests, "Too many requests")
		a.header = http.Header{"Retry-After": {d.retryAfter}}
		return a, d
	}
	if d.latency > 0 {
		timer := time.NewTimer(d.latency)
		select {
		case <-timer.C:
		case <-r.Context().Done():
			timer.Stop()
		}
	}
	switch {
	case d.status == http.StatusBadGateway, d.status == http.StatusServiceUnavailable:
		return gatewayPage(d.status), d
	case d.status != 0:
		return failure(d.status, "Internal server error"), d
	case d.failure:
		return failure(http.StatusOK, "An unexpected error occurred. Please try again later."), d
	}
	a := handle()
	if d.truncate && a.status == http.StatusOK && a.contentType == "application/json" {
		a.body = a.body[:max(1, int(float64(len(a.body))*d.cut))]
	} else {
		d.truncate = false
	}
	return a, d
}

// write sends an answer.
func write(w http.ResponseWriter, a answer) {
	h := w.Header()
	for k, v := range a.header {
		h[k] = v
	}
	h.Set("Content-Type", a.contentType)
	h.Set("Content-Length", strconv.Itoa(len(a.body)))
	w.WriteHeader(a.status)
	w.Write(a.body)
}

func (s *Server) handle(t *tenant, r *http.Request, rt route) answer {
	switch rt.kind {
	case KindJobsList, KindCandidatesList, KindHiresList:
		body, malformed := t.listPage(rt.list, rt.page)
		a := jsonAnswer(http.StatusOK, body)
		a.malformed = malformed
		return a
	case KindJob:
		t.mu.RLock()
		defer t.mu.RUnlock()
		if j, ok := t.jobIndex(rt.serial); ok {
			return jsonAnswer(http.StatusOK, t.jobDetail(j).marshal())
		}
		return failure(http.StatusNotFound, "Job not found")
	case KindCandidate:
		now := s.Now().Unix()
		t.mu.RLock()
		defer t.mu.RUnlock()
		if idx, ok := t.candidateIndex(rt.serial); ok {
			return jsonAnswer(http.StatusOK, t.candidateDetail(t.makeCandidate(idx), baseURL(r), now).marshal())
		}
		return failure(http.StatusNotFound, "Candidate not found")
	case KindHire:
		t.mu.RLock()
		defer t.mu.RUnlock()
		if j, ok := t.hireIndex(rt.serial); ok {
			return jsonAnswer(http.StatusOK, t.hireDetail(t.makeHire(j)).marshal())
		}
		return failure(http.StatusNotFound, "Hire not found")
	case KindCandidatePut, KindHirePut:
		return s.handlePut(t, r, rt)
	}
	return failure(http.StatusNotFound, "Not found")
}

// handlePut changes a candidate's or hire's stage: body {"Stage":"…"}. The
// Publisher header is required and names the actor in the note. Bad input
// answers HTTP 200 with "Method Result":"Failure", like create calls do.
func (s *Server) handlePut(t *tenant, r *http.Request, rt route) answer {
	publisher := r.Header.Get("Publisher")
	if publisher == "" {
		return failure(http.StatusBadRequest, "Publisher is required")
	}
	var body struct {
		Stage string `json:"Stage"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&body); err != nil || body.Stage == "" {
		return failure(http.StatusOK, "Invalid request body: Stage is required")
	}
	actor := event{user: publisher, userType: "API"}
	var err error
	key := "Candidate Serial"
	if rt.kind == KindHirePut {
		key = "Hire Serial"
		err = s.moveHire(t, rt.serial, body.Stage, actor)
	} else {
		err = s.moveCandidate(t, rt.serial, body.Stage, actor)
	}
	switch {
	case err == ErrNotFound && rt.kind == KindHirePut:
		return failure(http.StatusNotFound, "Hire not found")
	case err == ErrNotFound:
		return failure(http.StatusNotFound, "Candidate not found")
	case err != nil:
		return failure(http.StatusOK, "Invalid Stage: "+body.Stage)
	}
	return jsonAnswer(http.StatusOK, record{{keyMethodResult, resultSuccess}, {key, rt.serial}}.marshal())
}

// listPage renders one page of a list; malformed counts rows broken by
// faults.
func (t *tenant) listPage(list string, page int) (body []byte, malformed int) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	var total int
	var arrayKey, serialKey, tsKey string
	switch list {
	case ListJobs:
		total, arrayKey, serialKey, tsKey = len(t.jobs), "Jobs", "Job Serial", "Create Date Timestamp"
	case ListCandidates:
		total, arrayKey, serialKey, tsKey = t.liveCandidates(), "Candidates", "Candidate Serial", "Create Date Timestamp"
	default:
		total, arrayKey, serialKey, tsKey = len(t.hires), "Hires", "Hire Serial", "Create Date"
	}
	b := make([]byte, 0, 64<<10)
	b = append(b, `{"Method Result":"Success","NumPages":`...)
	b = strconv.AppendInt(b, int64(numPages(total)), 10)
	b = append(b, `,"TotalCount":`...)
	b = strconv.AppendInt(b, int64(total), 10)
	b = append(b, `,"`+arrayKey+`":[`...)
	first := (page - 1) * PageSize
	n := max(0, min(PageSize, total-first))
	idx, di := 0, 0
	if list == ListCandidates && n > 0 {
		idx = t.candidateAt(first)
		di = sort.SearchInts(t.deleted, idx)
	}
	for i := range n {
		var row record
		switch list {
		case ListJobs:
			row = t.jobRow(first + i)
		case ListCandidates:
			for di < len(t.deleted) && t.deleted[di] == idx {
				idx, di = idx+1, di+1
			}
			row = t.candidateRow(t.makeCandidate(idx))
			idx++
		default:
			row = t.hireRow(t.makeHire(first + i))
		}
		if kind := t.faults.malformedKind(row.str(serialKey)); kind != "" {
			row = breakRow(row, kind, serialKey, tsKey)
			malformed++
		}
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSON(b, row)
	}
	return append(b, "]}"...), malformed
}

// serveAttachment answers a signed file link. The link needs no token: the
// tenant is the host's, or the one whose code the serial carries.
func (s *Server) serveAttachment(w http.ResponseWriter, r *http.Request, rt route) {
	s.mu.RLock()
	t := s.tenantByHost(r.Host)
	if t == nil && len(rt.serial) == serialLen {
		t = s.byCode[rt.serial[2:7]]
	}
	s.mu.RUnlock()
	if t == nil {
		write(w, failure(http.StatusNotFound, "File not found"))
		return
	}
	if t.faults.get().DropFiles {
		t.stats.answered(rt.kind, 0, false, false, 0)
		dropConnection(w)
		return
	}
	a, d := s.faulty(t, r, rt, func() answer {
		if !rt.methodOK(r.Method) {
			return failure(http.StatusMethodNotAllowed, "Method not allowed")
		}
		ttl := t.faults.get().LinkTTL
		now := s.Now().Unix()
		t.mu.RLock()
		p, f, ok := t.fileBySerial(rt.serial)
		t.mu.RUnlock()
		switch {
		case !ok:
			return failure(http.StatusNotFound, "File not found")
		case !t.checkAPIKey(rt.serial, r.URL.Query().Get("apikey"), now, ttl):
			return answer{status: http.StatusForbidden, body: []byte("Access denied: this link is invalid or has expired.\n"), contentType: "text/plain; charset=utf-8"}
		}
		disp := mime.FormatMediaType("attachment", map[string]string{"filename": f.name})
		return answer{status: http.StatusOK, body: t.fileContent(rt.serial, f, p), contentType: contentTypes[f.format], header: http.Header{"Content-Disposition": {disp}}}
	})
	t.stats.answered(rt.kind, a.status, d.failure, d.truncate, 0)
	write(w, a)
}

// dropConnection closes the request's connection without an answer.
func dropConnection(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler) // HTTP/2: the server resets the stream
}
