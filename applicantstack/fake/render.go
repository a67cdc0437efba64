package fake

import (
	"slices"
	"strconv"
	"strings"
)

// This file turns generated records into the JSON objects the API serves,
// key for key and in the API's key order. Callers hold t.mu (read).

const (
	keyMethodResult = "Method Result"
	resultSuccess   = "Success"
	resultFailure   = "Failure"
)

// jobRow returns the list row of job j.
func (t *tenant) jobRow(j int) record {
	jb := &t.jobs[j]
	modified := jb.modified
	if e := t.jobEdits[j]; e != nil {
		modified = e.modified
	}
	stage := t.jobField(j, "Stage")
	return record{
		{"Job Serial", t.jobSer.format(j)},
		{"Job ID", t.jobID(j)},
		{"Job Name", t.jobField(j, "Job Name")},
		{"Stage", stage},
		{"Stage Type", stage},
		{"Location", t.jobField(j, "Location")},
		{"Department", t.jobField(j, "Department")},
		{"Job Category", t.jobField(j, "Job Category")},
		{"Job Type", t.jobField(j, "Job Type")},
		{"Campaign Start Date", t.date(jb.campaign)},
		{"Salary Range", t.jobField(j, "Salary Range")},
		{"Create Date", t.dateTime(jb.create)},
		{"Create Date Timestamp", jb.create},
		{"Last Modified Date", t.dateTime(modified)},
		{"Last Modified Date Timestamp", modified},
	}
}

// jobDetail returns the detail object of job j.
func (t *tenant) jobDetail(j int) record {
	jb := &t.jobs[j]
	r := newRNG(t.seed, streamJob, uint64(j), 2)
	var boards []string
	for _, b := range jobBoards {
		if b == "applicantstack" || r.chance(0.5) {
			boards = append(boards, b)
		}
	}
	name, dep := t.jobField(j, "Job Name"), departments[jb.dept]
	loc := t.jobField(j, "Location")
	duties := []string{"Provide excellent service to our clients", "Work closely with the " + dep.name + " team", "Maintain accurate records", "Follow all safety & compliance policies"}
	var text, html strings.Builder
	text.WriteString(name + "\r\n\r\nLocation: " + loc + "\r\nWe are looking for a " + name + " to join our " + dep.name + " team.\r\n\r\nResponsibilities:\r\n")
	html.WriteString("<p><strong>" + escapeEntities(name) + "</strong></p><p>Location: " + escapeEntities(loc) + "</p><p>We are looking for a " + escapeEntities(name) + " to join our " + escapeEntities(dep.name) + " team.</p><ul>")
	for _, d := range duties[:2+r.intn(3)] {
		text.WriteString("- " + d + "\r\n")
		html.WriteString("<li>" + escapeEntities(d) + "</li>")
	}
	html.WriteString("</ul>")
	note := ""
	if r.chance(0.2) {
		note = "Budget approved for " + strconv.Itoa(1+r.intn(4)) + " openings"
	}
	listing, listingHTML := text.String(), html.String()
	if e := t.jobEdits[j]; e != nil {
		if v, ok := e.fields["Job Listing"]; ok {
			listing, listingHTML = v, "<p>"+escapeEntities(v)+"</p>"
		}
		if v, ok := e.fields["Note"]; ok {
			note = v
		}
	}
	d := append(record{{keyMethodResult, resultSuccess}}, t.jobRow(j)...)
	return append(d,
		field{"Job Boards", boards},
		field{"Job Listing", listing},
		field{"Job Listing Html", listingHTML},
		field{"Questionnaire Serials", []string{t.questSer.format(0), t.questSer.format(1 + jb.dept)}},
		field{"Note", note},
	)
}

// candidateRow returns the list row of a candidate.
func (t *tenant) candidateRow(c *candidate) record {
	p := &c.person
	score := "0"
	if c.screened {
		score = strconv.Itoa(c.score)
	}
	row := slices.Concat(record{
		{"Candidate Serial", t.candSer.format(c.idx)},
		{"Job Serial", t.jobSer.format(c.job)},
		{"Job Name", t.jobField(c.job, "Job Name") + " [" + t.jobID(c.job) + "]"},
		{"First Name", p.first},
		{"Last Name", p.last},
	}, p.address(), record{
		{"Email", p.email},
		{"Source", c.source},
		{"Rating", c.rating},
		{"Disposition", c.disposition},
		{"Referred By", c.referredBy},
		{"Stage", c.stage},
		{"Stage Type", c.stageType},
		{"Score", score},
		{"Create Date", t.dateTime(c.create)},
		{"Create Date Timestamp", c.create},
	})
	if t.cfg.CustomFields {
		r := newRNG(t.seed, streamCandidate, uint64(c.idx), 5)
		for _, cf := range customFields {
			v := p.phone
			if cf.values != nil {
				v = pick(&r, cf.values)
			}
			row = append(row, field{cf.label, v})
		}
	}
	return row
}

// candidateDetail returns the detail object of a candidate as served at
// fake time now to a client that reached the server at base.
func (t *tenant) candidateDetail(c *candidate, base string, now int64) record {
	r := newRNG(t.seed, streamCandidate, uint64(c.idx), 4)
	d := append(record{{keyMethodResult, resultSuccess}}, t.candidateRow(c)...)
	d = append(d, field{"Cover Letter", pick(&r, coverLetters)})

	notes := make([]record, 0, len(c.events))
	for _, e := range c.events {
		notes = append(notes, record{{"text", noteText(e)}, {"type", noteType(e)}, {"timestamp", e.ts}})
	}
	d = append(d, field{"Notes", notes})

	specs := t.fileSpecs(c.idx, &c.person)
	files := make([]record, 0, len(specs))
	for _, f := range specs {
		serial := t.fileSer.format(f.index)
		files = append(files, record{
			{"name", f.name},
			{"url", base + "/x/attachment/" + serial + "?apikey=" + t.apikey(serial, now)},
			{"is_resume", boolInt(f.resume)},
			{"apikey_expires", t.nextMidnight(now)},
		})
	}
	d = append(d, field{"Files", files})
	return append(d, field{"Questionnaires", t.questionnaires(c, specs, base)})
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// noteText renders an event as ApplicantStack writes notes: entity-escaped.
func noteText(e event) string {
	switch e.kind {
	case evApplied:
		return "Application received from " + escapeEntities(e.value)
	case evStage:
		return escapeEntities(e.user) + " set Stage to " + escapeEntities(e.value)
	case evRating:
		return escapeEntities(e.user) + " set Rating to " + escapeEntities(e.value)
	}
	return e.value // comments are stored escaped already
}

func noteType(e event) string {
	if e.kind == evComment {
		return "User"
	}
	return "System"
}

// questionnaires returns the application form, the department screening
// (scored) for most candidates, and staff interview feedback for those who
// reached an interview.
func (t *tenant) questionnaires(c *candidate, files []fileSpec, base string) []record {
	r := newRNG(t.seed, streamQuestionnaire, uint64(c.idx))
	p := &c.person
	resume := ""
	for _, f := range files {
		if f.resume {
			resume = `<a href="` + base + `/x/attachment/` + t.fileSer.format(f.index) + `" target="_blank">` + escapeEntities(f.name) + `</a>`
		}
	}
	authorized := "Yes"
	if r.chance(0.05) {
		authorized = "No"
	}
	app := record{
		{"Questionnaire Name", "Application Form"},
		{"Questionnaire Serial", t.questSer.format(0)},
		{"Submit Date", t.dateTime(c.create)},
		{"Submit Date Timestamp", c.create},
		{"Questions", []record{
			{{"Question", "Are you legally authorized to work in the United States?"}, {"Value", authorized}},
			{{"Question", "Highest Level of Education"}, {"Value", pick(&r, educationLevels)}},
			{{"Question", ""}, {"Value", ""}},
			{{"Question", "Resume"}, {"Value", resume}},
			{{"Question", "Signature"}, {"Value", `<span class="signature" style="font-family: cursive">` + escapeEntities(p.first+" "+p.last) + `</span>`}},
		}},
	}
	out := []record{app}
	dept := t.jobs[c.job].dept
	if c.screened {
		years := strconv.Itoa(r.intn(15))
		out = append(out, record{
			{"Questionnaire Name", departments[dept].name + " Screening"},
			{"Questionnaire Serial", t.questSer.format(1 + dept)},
			{"Submit Date", t.dateTime(c.create)},
			{"Submit Date Timestamp", c.create},
			{"Score", c.score},
			{"Questions", []record{
				{{"Question", "Years of relevant experience"}, {"Value", years}},
				{{"Question", "Are you available to work weekends?"}, {"Value", pick(&r, []string{"Yes", "No", "Some weekends"})}},
				{{"Question", "Years of relevant experience"}, {"Value", years}},
			}},
		})
	}
	for _, e := range c.events {
		if e.kind != evStage || e.value != "Interview" || e.userSerial == "" || e.ts+7200 >= t.genNow {
			continue
		}
		at := e.ts + 3600
		out = append(out, record{
			{"Questionnaire Name", "Interview Feedback"},
			{"Questionnaire Serial", t.questSer.format(1 + len(departments))},
			{"Submit Date", t.dateTime(at)},
			{"Submit Date Timestamp", at},
			{"Feedback User", e.user},
			{"Questions", []record{
				{{"Question", "Strengths"}, {"Value", pick(&r, feedbackStrengths)}},
				{{"Question", "Overall recommendation"}, {"Value", pick(&r, []string{"Hire", "Maybe", "Do not hire"})}},
			}},
		})
		break
	}
	return out
}
