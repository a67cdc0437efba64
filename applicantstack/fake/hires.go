package fake

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
)

// hireEntry places one hire in the (create-time ordered) hire list.
type hireEntry struct {
	create int64
	cand   int // candidate index; -1 for a hire entered directly in onboarding
	key    int // block number, or direct-hire number, for its random draws
}

// blockRoles returns the positions in block b of the linked hire and of
// the hired candidate without a hire record.
func (t *tenant) blockRoles(b int) (linked, hired int) {
	h := hash(t.seed, streamBlock, uint64(b))
	p := int(h % blockSize)
	return p, (p + 1 + int((h>>20)%(blockSize-1))) % blockSize
}

// setupHires finds the hire of each candidate block (one history per
// block), adds some hires with no candidate, and orders them by creation
// time, made strictly increasing so the list order is the index order.
func (t *tenant) setupHires() {
	if !t.cfg.Onboarding || len(t.jobs) == 0 {
		return
	}
	for b := 0; b < t.cfg.Candidates/blockSize; b++ {
		p, _ := t.blockRoles(b)
		idx := b*blockSize + p
		evs := t.baseEvents(idx, t.createOf(idx), "")
		last := evs[len(evs)-1]
		if last.value != stageHired {
			continue // the pipeline had not finished by the tenant's now
		}
		r := newRNG(t.seed, streamHire, uint64(b))
		create := last.ts + 3600 + r.int64n(47*3600)
		if create < t.genNow {
			t.hires = append(t.hires, hireEntry{create: create, cand: idx, key: b})
		}
	}
	for d := range len(t.hires)/8 + 1 {
		r := newRNG(t.seed, streamDirectHire, uint64(d))
		t.hires = append(t.hires, hireEntry{create: t.candStart + r.int64n(t.candSpan), cand: -1, key: d})
	}
	sort.Slice(t.hires, func(i, j int) bool { return t.hires[i].create < t.hires[j].create })
	for i := 1; i < len(t.hires); i++ {
		if t.hires[i].create <= t.hires[i-1].create {
			t.hires[i].create = t.hires[i-1].create + 1
		}
	}
}

// hire is a generated hire with its changes applied.
type hire struct {
	idx       int
	entry     hireEntry
	person    person
	job       int
	stage     string
	modified  int64
	startDate string
	payRate   string
	dob, ssn  string
	manager   string
	r         rng // continues the draws for detail fields
}

// makeHire generates hire j; callers hold t.mu.
func (t *tenant) makeHire(j int) *hire {
	e := t.hires[j]
	h := &hire{idx: j, entry: e}
	if e.cand >= 0 {
		h.r = newRNG(t.seed, streamHire, uint64(e.key), 1)
		h.person = t.makePerson(t.personOf(e.cand))
		h.job = t.jobOf(e.cand)
	} else {
		h.r = newRNG(t.seed, streamDirectHire, uint64(e.key), 1)
		h.person = t.makePerson(MaxCandidates + e.key)
		h.job = sort.Search(len(t.jobs), func(i int) bool { return t.jobs[i].create >= e.create })
		h.job = h.r.intn(max(h.job, 1))
	}
	r := &h.r
	age := t.genNow - e.create
	switch {
	case age > 30*86400:
		h.stage = hireStages[1+boolInt(r.chance(0.85))]
	case age > 7*86400:
		h.stage = hireStages[r.weighted([]int{2, 6, 2})]
	default:
		h.stage = hireStages[r.weighted([]int{7, 3, 0})]
	}
	h.modified = e.create + r.int64n(t.genNow-e.create+1)
	if ed := t.hireEdit[j]; ed != nil {
		h.stage, h.modified = ed.stage, ed.modified
	}
	if !r.chance(0.1) {
		h.startDate = t.date(e.create + int64(7+r.intn(15))*86400)
	}
	jb := &t.jobs[h.job]
	if departments[jb.dept].exempt {
		h.payRate = strconv.Itoa(40000+1000*r.intn(60)) + ".00"
	} else {
		h.payRate = fmt.Sprintf("%d.%02d", 14+r.intn(26), 25*r.intn(4))
	}
	if r.chance(0.1) {
		h.payRate = "Per offer letter"
	}
	h.dob = fmt.Sprintf("%02d/%02d/%d", 1+r.intn(12), 1+r.intn(28), 1960+r.intn(45))
	h.ssn = fmt.Sprintf("900-%02d-%04d", r.intn(100), r.intn(10000))
	h.manager = t.users[3+r.intn(len(t.users)-3)].name
	return h
}

// hireRow returns the list row of a hire. Hires have no "… Timestamp" keys.
func (t *tenant) hireRow(h *hire) record {
	p := &h.person
	return slices.Concat(record{
		{"Hire Serial", t.hireSer.format(h.idx)},
		{"First Name", p.first},
		{"Last Name", p.last},
		{"Email", p.email},
	}, p.address(), record{
		{"Start Date", h.startDate},
		{"Job Name", t.jobField(h.job, "Job Name")},
		{"Location", t.jobField(h.job, "Location")},
		{"Job Category", t.jobField(h.job, "Job Category")},
		{"Job Type", t.jobField(h.job, "Job Type")},
		{"Pay Rate", h.payRate},
		{"Date of Hire", t.date(h.entry.create)},
		{"DOB", h.dob},
		{"SSN", h.ssn},
		{"Stage", h.stage},
		{"Manager", h.manager},
		{"Create Date", t.dateTime(h.entry.create)},
		{"Last Modified Date", t.dateTime(h.modified)},
	})
}

// hireDetail returns the detail object of a hire, with its onboarding
// questionnaire and e-signed forms (which hold the SSN, DOB and bank data
// that must never reach the warehouse).
func (t *tenant) hireDetail(h *hire) record {
	r := h.r // a copy: detail draws do not disturb the row
	cand := ""
	if h.entry.cand >= 0 {
		cand = t.candSer.format(h.entry.cand)
	}
	d := append(record{{keyMethodResult, resultSuccess}}, t.hireRow(h)...)
	d = append(d, field{"Candidate Serial", cand}, field{"Department", t.jobField(h.job, "Department")})
	var quests, forms []record
	if h.stage != hireStages[0] {
		submitted := h.entry.create + 86400
		name := escapeEntities(h.person.first + " " + h.person.last)
		quests = append(quests, record{
			{"Questionnaire Name", "New Hire Information"},
			{"Questionnaire Serial", t.formSer.format(h.idx*4 + 3)},
			{"Submit Date", t.dateTime(submitted)},
			{"User", h.manager},
			{"Questions", []record{
				{{"Question", "Emergency Contact Name"}, {"Value", pick(&r, firstNames) + " " + pick(&r, lastNames)}},
				{{"Question", "Emergency Contact Phone"}, {"Value", "555-01" + fmt.Sprintf("%02d", r.intn(100))}},
				{{"Question", "T-Shirt Size"}, {"Value", pick(&r, []string{"S", "M", "L", "XL"})}},
			}},
		})
		forms = append(forms,
			record{
				{"Form Name", "W-4"},
				{"Form Serial", t.formSer.format(h.idx * 4)},
				{"Submit Date", t.dateTime(submitted)},
				{"Questions", []record{
					{{"Question", "First name and middle initial"}, {"Value", h.person.first}},
					{{"Question", "Last name"}, {"Value", h.person.last}},
					{{"Question", "Social Security Number"}, {"Value", h.ssn}},
					{{"Question", "Filing Status"}, {"Value", pick(&r, []string{"Single or Married filing separately", "Married filing jointly", "Head of household"})}},
					{{"Question", "Signature"}, {"Value", `<span class="signature">` + name + `</span>`}},
				}},
			},
			record{
				{"Form Name", "I-9"},
				{"Form Serial", t.formSer.format(h.idx*4 + 1)},
				{"Submit Date", t.dateTime(submitted)},
				{"Questions", []record{
					{{"Question", "Social Security Number"}, {"Value", h.ssn}},
					{{"Question", "Date of Birth"}, {"Value", h.dob}},
					{{"Question", "Citizenship Status"}, {"Value", "A citizen of the United States"}},
					{{"Question", "Document Title"}, {"Value", "U.S. Passport"}},
					{{"Question", "Document Number"}, {"Value", t.sensitiveNumber(h, 1)}},
				}},
			},
			record{
				{"Form Name", "Direct Deposit Authorization"},
				{"Form Serial", t.formSer.format(h.idx*4 + 2)},
				{"Submit Date", t.dateTime(submitted)},
				{"Questions", []record{
					{{"Question", "Bank Name"}, {"Value", "First Example Bank"}},
					{{"Question", "Routing Number"}, {"Value", "999" + t.sensitiveNumber(h, 2)[:6]}},
					{{"Question", "Account Number"}, {"Value", t.sensitiveNumber(h, 3)}},
				}},
			},
		)
	}
	return append(d, field{"Questionnaires", nonNil(quests)}, field{"Forms", nonNil(forms)})
}

// sensitiveNumber returns a fake 9-digit document or account number.
func (t *tenant) sensitiveNumber(h *hire, k uint64) string {
	return fmt.Sprintf("9%08d", hash(t.seed, streamForm, uint64(h.idx), k)%100000000)
}

func nonNil(rs []record) []record {
	if rs == nil {
		return []record{}
	}
	return rs
}
