package fake

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"sync"
	"time"
)

// Defaults for NewTenant and AddTenant.
const (
	DefaultJobs       = 50
	DefaultCandidates = 5000
	DefaultTimeZone   = "America/New_York"

	// PageSize is the fixed number of records in a list page.
	PageSize = 100

	// MaxCandidates bounds Tenant.Candidates plus later additions: every
	// candidate owns three file serials out of 36^5 per kind.
	MaxCandidates = serialSpace / filesPerCandidate
	// MaxJobs bounds Tenant.Jobs.
	MaxJobs = 100000
)

// historyMonths is how far back generated applications go.
const historyMonths = 18

// Tenant configures one fake ApplicantStack account. The zero value of a
// field means "none" (no jobs, no candidates, onboarding off); start from
// NewTenant for a realistic account.
type Tenant struct {
	// Subdomain names the account ("acme" in acme.applicantstack.com). Required:
	// lowercase letters, digits and '-'.
	Subdomain string `json:"subdomain"`
	// Token is the static API access token the Token header must carry. Required.
	Token string `json:"token"`
	// WebhookURL receives stage-change notifications; empty disables them.
	WebhookURL string `json:"webhook_url,omitempty"`
	// WebhookSecret is sent as "Secret" in every notification.
	WebhookSecret string `json:"webhook_secret,omitempty"`
	// TimeZone is the IANA zone of display dates; "" means DefaultTimeZone.
	TimeZone string `json:"time_zone,omitempty"`
	// Seed selects the generated data: same seed, same bytes.
	Seed int64 `json:"seed"`
	// Jobs and Candidates are the generated record counts.
	Jobs       int `json:"jobs"`
	Candidates int `json:"candidates"`
	// Onboarding enables the hires module (/o/api/...). When false every
	// /o/api route answers 404.
	Onboarding bool `json:"onboarding"`
	// CustomFields adds tenant-defined label keys to candidate records.
	CustomFields bool `json:"custom_fields"`
}

// NewTenant returns a Tenant for subdomain with the defaults: seed 1,
// DefaultJobs jobs, DefaultCandidates candidates, onboarding on, a token
// derived from the subdomain, and DefaultTimeZone.
func NewTenant(subdomain string) Tenant {
	sum := sha256.Sum256([]byte("stackhouse-fake-token:" + subdomain))
	return Tenant{
		Subdomain:  subdomain,
		Token:      hex.EncodeToString(sum[:20]),
		TimeZone:   DefaultTimeZone,
		Seed:       1,
		Jobs:       DefaultJobs,
		Candidates: DefaultCandidates,
		Onboarding: true,
	}
}

func (c Tenant) validate() error {
	if c.Subdomain == "" {
		return errors.New("subdomain: required")
	}
	for _, r := range c.Subdomain {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			return fmt.Errorf("subdomain %q: only lowercase letters, digits and '-'", c.Subdomain)
		}
	}
	if c.Token == "" {
		return errors.New("token: required")
	}
	if c.Jobs < 0 || c.Jobs > MaxJobs {
		return fmt.Errorf("jobs: %d out of range [0, %d]", c.Jobs, MaxJobs)
	}
	if c.Candidates < 0 || c.Candidates > MaxCandidates {
		return fmt.Errorf("candidates: %d out of range [0, %d]", c.Candidates, MaxCandidates)
	}
	if c.Candidates > 0 && c.Jobs == 0 {
		return errors.New("jobs: candidates need at least one job")
	}
	return nil
}

type user struct {
	name, serial string
}

// tenant is one account: the configuration, everything derived from the
// seed at creation, and the (small) record of changes made since.
type tenant struct {
	cfg  Tenant
	loc  *time.Location
	seed uint64
	code string

	jobSer, candSer, fileSer, questSer, hireSer, formSer serials
	signKey                                              []byte // signs attachment links

	genNow    int64 // the fake's clock when the tenant was generated
	candStart int64 // first possible application time
	candSpan  int64 // applications spread over [candStart, candStart+candSpan)
	jobs      []jobBase

	users     []user // recruiters first, then hiring managers
	active    []string
	stages    []string // every stage name of the pipeline
	withdrawn string   // "" when the tenant has no Withdrawn stage
	hires     []hireEntry

	mu       sync.RWMutex
	added    []addedCandidate
	deleted  []int // sorted candidate indexes
	moves    map[int][]event
	jobEdits map[int]*jobEdit
	hireEdit map[int]*hireEdit

	faults *faultState
	stats  *statsState
}

type addedCandidate struct {
	create int64
	job    int
}

type jobEdit struct {
	fields   map[string]string
	modified int64
}

type hireEdit struct {
	stage    string
	modified int64
}

// Stage names every generated pipeline has.
const (
	stageNew      = "New"
	stageHired    = "Hired"
	stageRejected = "Do Not Pursue"
)

// newTenant derives everything the generator needs from cfg at the fake
// time now. Its cost is O(Jobs + Candidates/blockSize): candidates
// themselves are produced on demand.
func newTenant(cfg Tenant, code string, now time.Time) (*tenant, error) {
	if cfg.TimeZone == "" {
		cfg.TimeZone = DefaultTimeZone
	}
	loc, err := time.LoadLocation(cfg.TimeZone)
	if err != nil {
		return nil, fmt.Errorf("time zone %q: %w", cfg.TimeZone, err)
	}
	seed := uint64(cfg.Seed)
	t := &tenant{
		cfg:      cfg,
		loc:      loc,
		seed:     seed,
		code:     code,
		jobSer:   newSerials(prefixJob, code, seed),
		candSer:  newSerials(prefixCandidate, code, seed),
		fileSer:  newSerials(prefixFile, code, seed),
		questSer: newSerials(prefixQuestionnaire, code, seed),
		hireSer:  newSerials(prefixHire, code, seed),
		formSer:  newSerials(prefixForm, code, seed),
		genNow:   now.Unix(),
		moves:    make(map[int][]event),
		jobEdits: make(map[int]*jobEdit),
		hireEdit: make(map[int]*hireEdit),
		faults:   &faultState{},
		stats:    newStatsState(),
	}
	key := sha256.Sum256([]byte(cfg.Subdomain + "\x00" + cfg.Token + "\x00" + strconv.FormatInt(cfg.Seed, 10)))
	t.signKey = key[:]

	local := now.In(loc)
	t.candStart = local.AddDate(0, -historyMonths, 0).Unix()
	t.candSpan = t.genNow - 60 - t.candStart

	t.setupUsers()
	t.setupPipeline()
	t.setupJobs(local)
	t.setupHires()
	return t, nil
}

func (t *tenant) setupUsers() {
	r := newRNG(t.seed, streamUser)
	order := make([]int, len(userNames))
	for i := range order {
		order[i] = i
	}
	for i := len(order) - 1; i > 0; i-- {
		j := r.intn(i + 1)
		order[i], order[j] = order[j], order[i]
	}
	userSer := newSerials(prefixUser, t.code, t.seed)
	n := 6 + r.intn(4)
	for i := 0; i < n; i++ {
		t.users = append(t.users, user{name: userNames[order[i]], serial: userSer.format(i)})
	}
	// Kelly O'Brien works everywhere, so every tenant has notes that need
	// entity escaping.
	if !slices.ContainsFunc(t.users, func(u user) bool { return u.name == userNames[0] }) {
		t.users[1].name = userNames[0]
	}
}

func (t *tenant) setupPipeline() {
	r := newRNG(t.seed, streamTenant, 1)
	t.active = []string{stageNew, "Interested in Pursuing"}
	if r.chance(0.5) {
		t.active = append(t.active, "Phone Screen")
	}
	t.active = append(t.active, "Manager Review", "Interview", "Offer")
	t.stages = append(append([]string(nil), t.active...), stageHired, stageRejected)
	if r.chance(0.6) {
		t.withdrawn = "Withdrawn"
		t.stages = append(t.stages, t.withdrawn)
	}
}

// spread returns the time of record i of n spread over [start, start+span):
// slot i plus a jitter inside the slot, so times strictly increase with i
// whenever span >= n.
func spread(start, span int64, i, n int, h uint64) int64 {
	base := start + int64(i)*span/int64(n)
	slot := span / int64(n)
	if slot < 1 {
		slot = 1
	}
	return base + int64(h%uint64(slot))
}

// stageType is the category of a candidate stage.
func (t *tenant) stageType(stage string) string {
	switch {
	case stage == stageHired:
		return "Hired"
	case stage == stageRejected, stage != "" && stage == t.withdrawn:
		return stageRejected
	}
	return ""
}

func (t *tenant) hasStage(stage string) bool {
	return slices.Contains(t.stages, stage)
}

// totalCandidates is the number of candidate indexes ever used, deleted or not.
func (t *tenant) totalCandidates() int { return t.cfg.Candidates + len(t.added) }

// liveCandidates is the number of candidates the list returns.
func (t *tenant) liveCandidates() int { return t.totalCandidates() - len(t.deleted) }

func (t *tenant) isDeleted(idx int) bool {
	i := sort.SearchInts(t.deleted, idx)
	return i < len(t.deleted) && t.deleted[i] == idx
}

// candidateAt returns the index of the live candidate at list position
// rank (0-based), in O(log deleted): deleted holds sorted indexes, and the
// number of deletions at or below the answer is the largest k with
// deleted[k-1]-(k-1) <= rank.
func (t *tenant) candidateAt(rank int) int {
	k := sort.Search(len(t.deleted), func(j int) bool { return t.deleted[j]-j > rank })
	return rank + k
}

// candidateIndex resolves a candidate serial to a live index.
func (t *tenant) candidateIndex(serial string) (int, bool) {
	idx, err := t.candSer.parse(serial)
	if err != nil || idx >= t.totalCandidates() || t.isDeleted(idx) {
		return 0, false
	}
	return idx, true
}

func (t *tenant) jobIndex(serial string) (int, bool) {
	idx, err := t.jobSer.parse(serial)
	if err != nil || idx >= t.cfg.Jobs {
		return 0, false
	}
	return idx, true
}

func (t *tenant) hireIndex(serial string) (int, bool) {
	idx, err := t.hireSer.parse(serial)
	if err != nil || idx >= len(t.hires) {
		return 0, false
	}
	return idx, true
}

// numPages is the NumPages of a list of n records.
func numPages(n int) int { return (n + PageSize - 1) / PageSize }
