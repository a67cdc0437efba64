package fake

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// jobBase is the generated part of a job that candidates and hires need;
// jobs are few, so they are built once per tenant.
type jobBase struct {
	name     string
	dept     int
	place    int
	fullLoc  bool // "Fort Myers, Florida" rather than "Fort Myers, FL"
	jobType  string
	salary   string
	campaign int64
	create   int64
	modified int64
	stage    string
}

// setupJobs spreads job creation times over [now-19 months, now-7 days],
// strictly increasing with the index so the list order is the index order,
// and generates the fields candidates and hires copy.
func (t *tenant) setupJobs(local time.Time) {
	n := t.cfg.Jobs
	t.jobs = make([]jobBase, n)
	start := local.AddDate(0, -historyMonths-1, 0).Unix()
	span := t.genNow - 7*86400 - start
	for i := range n {
		create := start // the first job predates every application
		if i > 0 {
			create = spread(start, span, i, n, hash(t.seed, streamJob, uint64(i), 0))
		}
		r := newRNG(t.seed, streamJob, uint64(i), 1)
		d := r.intn(len(departments))
		dep := departments[d]
		name := pick(&r, dep.titles)
		switch r.intn(10) {
		case 0:
			name += " PRN"
		case 1:
			name += " - Night Shift"
		case 2:
			name += " (Part-Time)"
		}
		jb := jobBase{name: name, dept: d, place: r.intn(len(places)), fullLoc: r.chance(0.05), create: create}
		if dep.exempt {
			jb.jobType = "Exempt (salaried)"
			lo := 40 + 5*r.intn(16)
			jb.salary = fmt.Sprintf("$%s-$%s/year", thousands(lo*1000), thousands((lo+5+5*r.intn(4))*1000))
		} else {
			jb.jobType = "Non-exempt (hourly)"
			lo := 14 + r.intn(26)
			jb.salary = fmt.Sprintf("$%d-$%d/hour", lo, lo+2+r.intn(6))
		}
		if r.chance(0.08) {
			jb.salary = ""
		}
		jb.campaign = create + int64(r.intn(5))*86400
		age := t.genNow - create
		switch {
		case age < 60*86400:
			jb.stage = []string{"Open", "Open", "Open", "Open", "Open", "On Hold"}[r.intn(6)]
		case age < 180*86400:
			jb.stage = []string{"Open", "Open", "Filled", "Filled", "Closed", "On Hold"}[r.intn(6)]
		default:
			jb.stage = []string{"Open", "Filled", "Filled", "Filled", "Closed", "Closed", "On Hold"}[r.intn(7)]
		}
		jb.modified = create + r.int64n(t.genNow-create+1)
		t.jobs[i] = jb
	}
}

// thousands formats n with comma separators.
func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func (t *tenant) jobID(j int) string { return strconv.Itoa(1001 + j) }

// jobField returns the current value of a job's string field, edits
// applied; callers hold t.mu.
func (t *tenant) jobField(j int, key string) string {
	if e := t.jobEdits[j]; e != nil {
		if v, ok := e.fields[key]; ok {
			return v
		}
	}
	jb := &t.jobs[j]
	switch key {
	case "Job Name":
		return jb.name
	case "Stage":
		return jb.stage
	case "Salary Range":
		return jb.salary
	case "Location":
		p := places[jb.place]
		if jb.fullLoc {
			return p.city + ", " + p.stateName
		}
		return p.city + ", " + p.state
	case "Job Category":
		return departments[jb.dept].category
	case "Job Type":
		return jb.jobType
	case "Department":
		return departments[jb.dept].name
	}
	return ""
}

// person is the applicant behind one or more candidate records.
type person struct {
	first, last, email, phone      string
	addr1, addr2, city, state, zip string
}

// address returns the person's postal address and phone as list-row fields,
// in the order candidate and hire rows share.
func (p *person) address() record {
	return record{
		{"Address 1", p.addr1},
		{"Address 2", p.addr2},
		{"City", p.city},
		{"State", p.state},
		{"Zip", p.zip},
		{"Phone", p.phone},
	}
}

const repeatShare = 0.04 // share of applications by someone who applied before

// personOf returns the person index of candidate idx: its own index, or for
// a repeat applicant the index of an earlier application by the same person.
func (t *tenant) personOf(idx int) int {
	if p, ok := t.repeatOf(idx); ok {
		if _, again := t.repeatOf(p); !again && t.otherJob(idx, p) >= 0 {
			return p
		}
	}
	return idx
}

// otherJob returns the job of candidate idx when its applicant already
// applied as candidate p: not p's job, and one created before idx applied;
// -1 if there is none.
func (t *tenant) otherJob(idx, p int) int {
	j := t.baseJobOf(idx)
	switch {
	case j != t.baseJobOf(p):
		return j
	case j > 0:
		return j - 1
	case len(t.jobs) > 1 && t.jobs[1].create < t.createOf(idx)-3600:
		return 1
	}
	return -1
}

func (t *tenant) repeatOf(idx int) (int, bool) {
	if idx == 0 || idx >= t.cfg.Candidates { // added candidates are new people
		return 0, false
	}
	r := newRNG(t.seed, streamPerson, uint64(idx), 1)
	if !r.chance(repeatShare) {
		return 0, false
	}
	return idx - 1 - r.intn(min(300, idx)), true
}

// makePerson generates person p. Hires that are not linked to a candidate
// use person numbers above MaxCandidates.
func (t *tenant) makePerson(p int) person {
	r := newRNG(t.seed, streamPerson, uint64(p))
	pl := places[r.intn(len(places))]
	ps := person{first: pick(&r, firstNames), last: pick(&r, lastNames), city: pl.city, zip: pl.zip + twoDigits(r.intn(100))}
	local := fold(ps.first) + "." + fold(ps.last)
	if r.chance(0.3) {
		local = fold(ps.first)[:1] + fold(ps.last)
	}
	ps.email = local + strconv.Itoa(p) + "@" + pick(&r, emailDomains)
	line := "5550" + strconv.Itoa(100+r.intn(100))
	switch r.intn(3) {
	case 0:
		ps.phone = pl.area + line
	case 1:
		ps.phone = pl.area + "-" + line[:3] + "-" + line[3:]
	default:
		ps.phone = "(" + pl.area + ") " + line[:3] + "-" + line[3:]
	}
	ps.addr1 = strconv.Itoa(100+r.intn(9800)) + " " + pick(&r, streets)
	if r.chance(0.2) {
		ps.addr2 = "Apt " + strconv.Itoa(1+r.intn(40)) + string(rune('A'+r.intn(4)))
	}
	switch n := r.intn(10); {
	case n == 0:
		ps.state = pl.state + " " // trailing spaces happen in real data
	case n == 1:
		ps.state = pl.stateName
	default:
		ps.state = pl.state
	}
	return ps
}

func twoDigits(n int) string { return string([]byte{byte('0' + n/10), byte('0' + n%10)}) }

var foldReplacer = strings.NewReplacer(
	"é", "e", "ë", "e", "è", "e", "á", "a", "à", "a", "í", "i", "ñ", "n", "ó", "o", "ö", "o",
	"ú", "u", "ü", "u", "ễ", "e", "ầ", "a", "ă", "a", "ø", "o", "Ł", "l", "Á", "a", "É", "e",
	"'", "", " ", "", "-", "", ".", "",
)

// fold turns a name into the ASCII letters of an e-mail local part.
func fold(s string) string {
	ascii := true
	for i := 0; i < len(s) && ascii; i++ {
		ascii = s[i] >= 'a' && s[i] <= 'z' || i == 0 && s[i] >= 'A' && s[i] <= 'Z'
	}
	if ascii { // the common case: "Smith" → "smith"
		return strings.ToLower(s)
	}
	s = strings.ToLower(foldReplacer.Replace(s))
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' {
			return r
		}
		return -1
	}, s)
}

// Hire roles of candidates: in every block of blockSize consecutive base
// candidates exactly one is hired and has a hire record, and another is
// hired without one (if their pipeline finished before the tenant's now).
// The fixed structure lets hires be found without generating every
// candidate, while about half of hired candidates have a hire.
const blockSize = 40

const (
	roleNone = iota
	roleLinked
	roleHired
)

func (t *tenant) hireRole(idx int) int {
	if idx >= t.cfg.Candidates || (idx/blockSize+1)*blockSize > t.cfg.Candidates {
		return roleNone
	}
	p, q := t.blockRoles(idx / blockSize)
	switch idx % blockSize {
	case p:
		return roleLinked
	case q:
		return roleHired
	}
	return roleNone
}

// createOf returns the application time of candidate idx; callers hold t.mu.
func (t *tenant) createOf(idx int) int64 {
	if idx >= t.cfg.Candidates {
		return t.added[idx-t.cfg.Candidates].create
	}
	return spread(t.candStart, t.candSpan, idx, t.cfg.Candidates, hash(t.seed, streamCandidate, uint64(idx), 0))
}

// jobOf returns the job of candidate idx: one created before the application,
// preferably in the 150 days before it, and for a repeat applicant not the
// job of their earlier application.
func (t *tenant) jobOf(idx int) int {
	if idx >= t.cfg.Candidates {
		return t.added[idx-t.cfg.Candidates].job
	}
	if p := t.personOf(idx); p != idx {
		return t.otherJob(idx, p)
	}
	return t.baseJobOf(idx)
}

func (t *tenant) baseJobOf(idx int) int {
	create := t.createOf(idx)
	hi := sort.Search(len(t.jobs), func(i int) bool { return t.jobs[i].create >= create-3600 })
	lo := sort.Search(len(t.jobs), func(i int) bool { return t.jobs[i].create >= create-150*86400 })
	if hi == 0 {
		hi = 1
	}
	if hi-lo < 3 {
		lo = max(0, hi-3)
	}
	r := newRNG(t.seed, streamCandidate, uint64(idx), 1)
	return lo + r.intn(hi-lo)
}

// Event kinds of a candidate's activity log.
const (
	evApplied = iota
	evStage
	evRating
	evComment
)

// event is one entry of a candidate's activity (one note in detail).
type event struct {
	ts          int64
	kind        int
	user        string // display name; "System" for automation
	userSerial  string // "" unless a tenant user acted
	userType    string // webhook "User Type": USER, API or SYSTEM
	value       string // stage, rating or comment text
	disposition string // reject reason, for moves into a rejected stage
}

const systemUser = "System"

// baseEvents generates the activity of candidate idx up to the tenant's
// generation time: the application, then stage moves with strictly
// increasing times, ratings and comments. Candidates whose hire role says
// so walk the pipeline to Hired; others stop, are rejected or withdraw.
func (t *tenant) baseEvents(idx int, create int64, source string) []event {
	evs := make([]event, 1, 8)
	evs[0] = event{ts: create, kind: evApplied, user: systemUser, userType: "SYSTEM", value: source}
	if idx >= t.cfg.Candidates {
		return evs // added candidates have just applied
	}
	r := newRNG(t.seed, streamCandidate, uint64(idx), 2)
	role := t.hireRole(idx)
	cur, at := create, 0
	for {
		var delay int64
		if at == 0 {
			delay = 3600 + r.int64n(6*86400)
		} else {
			delay = 86400 + r.int64n(12*86400)
		}
		next := cur + delay
		if next >= t.genNow {
			break
		}
		if r.chance(0.18) { // a rating or a comment between two moves
			e := event{ts: cur + delay/2, kind: evRating, value: pick(&r, ratings), userType: "USER"}
			if r.chance(0.4) {
				e.kind, e.value = evComment, pick(&r, comments)
			}
			t.actor(&r, &e, at)
			if e.kind == evComment && e.user == systemUser {
				e.user, e.userSerial, e.userType = t.users[0].name, t.users[0].serial, "USER"
			}
			evs = append(evs, e)
		}
		e := event{ts: next, kind: evStage, userType: "USER"}
		t.actor(&r, &e, at)
		if role != roleNone {
			at++
			if t.active[min(at, len(t.active)-1)] == "Manager Review" && r.chance(0.3) {
				at++ // some hires skip the manager review
			}
			if at >= len(t.active) {
				e.value = stageHired
			} else {
				e.value = t.active[at]
			}
		} else {
			roll := r.float()
			rejectP := []float64{0.40, 0.25, 0.30, 0.30, 0.40, 0.45, 0.45}[min(at, 6)]
			last := at == len(t.active)-1 // non-hires never pass the offer
			switch {
			case roll < 0.12:
				return evs // the application stalls in its stage
			case roll < 0.12+rejectP:
				e.value = stageRejected
				e.disposition = pick(&r, dispositions)
			case t.withdrawn != "" && (roll < 0.17+rejectP || last):
				e.value = t.withdrawn
				e.disposition = "Candidate Withdrew"
			case last:
				e.value = stageRejected
				e.disposition = "Offer Declined"
			default:
				at++
				e.value = t.active[at]
			}
		}
		evs = append(evs, e)
		if e.value == stageHired || t.stageType(e.value) != "" {
			return evs
		}
		cur = next
	}
	return evs
}

// actor sets who performs an event at pipeline step at: recruiters early,
// hiring managers later, the system now and then.
func (t *tenant) actor(r *rng, e *event, at int) {
	recruiters := 3
	var u user
	switch {
	case r.chance(0.05):
		e.user, e.userSerial, e.userType = systemUser, "", "SYSTEM"
		return
	case at < 2:
		u = t.users[r.intn(recruiters)]
	default:
		u = t.users[recruiters+r.intn(len(t.users)-recruiters)]
	}
	e.user, e.userSerial = u.name, u.serial
}

// candidate is a fully generated candidate record with its changes applied.
type candidate struct {
	idx         int
	create      int64
	job         int
	person      person
	source      string
	referredBy  string
	events      []event
	stage       string
	stageType   string
	disposition string
	rating      string
	score       int
	screened    bool
}

// makeCandidate generates candidate idx with its recorded moves; callers
// hold t.mu.
func (t *tenant) makeCandidate(idx int) *candidate {
	r := newRNG(t.seed, streamCandidate, uint64(idx), 3)
	c := &candidate{idx: idx, create: t.createOf(idx), job: t.jobOf(idx)}
	p := t.personOf(idx)
	c.person = t.makePerson(p)
	if p != idx && r.chance(0.3) {
		c.person.email = strings.ToUpper(c.person.email[:1]) + c.person.email[1:]
	}
	c.source = sources[r.weighted(sourceWeights)]
	if c.source == "Referral" {
		c.referredBy = pick(&r, firstNames) + " " + pick(&r, lastNames)
	}
	c.screened = r.chance(0.7)
	if c.screened {
		c.score = 5 * r.intn(21)
	}
	c.events = t.baseEvents(idx, c.create, c.source)
	c.events = append(c.events, t.moves[idx]...)
	c.stage = stageNew
	for _, e := range c.events {
		switch e.kind {
		case evStage:
			c.stage, c.disposition = e.value, e.disposition
		case evRating:
			c.rating = e.value
		}
	}
	c.stageType = t.stageType(c.stage)
	if c.stageType != stageRejected {
		c.disposition = ""
	}
	return c
}

// lastEventTime returns the time of the newest activity of candidate idx.
func (c *candidate) lastEventTime() int64 { return c.events[len(c.events)-1].ts }

// eventTime converts epoch seconds to a time in loc.
func eventTime(ts int64, loc *time.Location) time.Time { return time.Unix(ts, 0).In(loc) }
