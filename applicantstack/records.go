package applicantstack

import (
	"encoding/json"
)

// Job is a job as the jobs list or the job detail returns it. Detail-only
// fields are empty on list rows. Raw holds the record as the API sent it,
// including account-specific custom fields, with what Sanitize removes
// removed (the typed fields are read before that: File.URL keeps its key).
type Job struct {
	Serial                    Text            `json:"Job Serial"`
	ID                        Text            `json:"Job ID"`
	Name                      Text            `json:"Job Name"`
	Stage                     Text            `json:"Stage"`
	StageType                 Text            `json:"Stage Type"`
	Location                  Text            `json:"Location"`
	Department                Text            `json:"Department"`
	Category                  Text            `json:"Job Category"`
	Type                      Text            `json:"Job Type"`
	CampaignStartDate         Text            `json:"Campaign Start Date"`
	SalaryRange               Text            `json:"Salary Range"`
	CreateDate                Text            `json:"Create Date"`
	CreateDateTimestamp       Epoch           `json:"Create Date Timestamp"`
	LastModifiedDate          Text            `json:"Last Modified Date"`
	LastModifiedDateTimestamp Epoch           `json:"Last Modified Date Timestamp"`
	Boards                    []Text          `json:"Job Boards"`
	Listing                   Text            `json:"Job Listing"`
	ListingHTML               Text            `json:"Job Listing Html"`
	QuestionnaireSerials      []Text          `json:"Questionnaire Serials"`
	Note                      Text            `json:"Note"`
	Raw                       json.RawMessage `json:"-"`
}

// Candidate is one application (a candidate record belongs to exactly one
// job) as the candidates list or the candidate detail returns it. Notes,
// Files, Questionnaires and CoverLetter are only present in detail.
type Candidate struct {
	Serial              Text            `json:"Candidate Serial"`
	JobSerial           Text            `json:"Job Serial"`
	JobName             Text            `json:"Job Name"`
	FirstName           Text            `json:"First Name"`
	LastName            Text            `json:"Last Name"`
	Email               Text            `json:"Email"`
	Source              Text            `json:"Source"`
	Rating              Text            `json:"Rating"`
	Disposition         Text            `json:"Disposition"`
	ReferredBy          Text            `json:"Referred By"`
	Stage               Text            `json:"Stage"`
	StageType           Text            `json:"Stage Type"`
	Score               Text            `json:"Score"`
	CreateDate          Text            `json:"Create Date"`
	CreateDateTimestamp Epoch           `json:"Create Date Timestamp"`
	CoverLetter         Text            `json:"Cover Letter"`
	Notes               []Note          `json:"Notes"`
	Files               []File          `json:"Files"`
	Questionnaires      []Questionnaire `json:"Questionnaires"`
	Raw                 json.RawMessage `json:"-"`
	Address                             // Address 1, Address 2, City, State, Zip, Phone

	// clean is Raw as the client set it, sanitized (see SanitizedRaw).
	clean json.RawMessage
}

// SanitizedRaw returns Raw as Sanitize leaves it. Raw as the client set it
// (the same slice: its bytes are never changed in place) is returned as it
// is, since the client sanitized it then; Raw set any other way is
// sanitized now. The mapper takes a candidate's remote_data from it, which
// spares a detail a second pass.
func (c *Candidate) SanitizedRaw() json.RawMessage {
	if len(c.Raw) > 0 && len(c.Raw) == len(c.clean) && &c.Raw[0] == &c.clean[0] {
		return c.Raw
	}
	return Sanitize(ResourceCandidate, c.Raw)
}

// Note is one entry of a candidate's activity log. Stage changes appear as
// "<user> set Stage to <stage>"; see ParseStageChange.
type Note struct {
	Text      Text  `json:"text"`
	Type      Text  `json:"type"`
	Timestamp Epoch `json:"timestamp"`
}

// File is an attachment link from candidate detail. URL is signed and stops
// working at APIKeyExpires (the account's next midnight), so files must be
// downloaded in the run that fetched the detail.
type File struct {
	Name          Text  `json:"name"`
	URL           Text  `json:"url"`
	IsResume      Flag  `json:"is_resume"`
	APIKeyExpires Epoch `json:"apikey_expires"`
}

// Questionnaire is a screening questionnaire, application form or staff
// feedback form embedded in candidate detail.
type Questionnaire struct {
	Name         Text       `json:"Questionnaire Name"`
	Serial       Text       `json:"Questionnaire Serial"`
	SubmitDate   Text       `json:"Submit Date"`
	Score        Text       `json:"Score"`
	FeedbackUser Text       `json:"Feedback User"`
	Questions    []Question `json:"Questions"`
}

// Question is one question and its answer; Value may hold HTML.
type Question struct {
	Question Text `json:"Question"`
	Value    Text `json:"Value"`
}

// Address is the postal address and phone of a candidate or hire record,
// embedded in both.
type Address struct {
	Address1 Text `json:"Address 1"`
	Address2 Text `json:"Address 2"`
	City     Text `json:"City"`
	State    Text `json:"State"`
	Zip      Text `json:"Zip"`
	Phone    Text `json:"Phone"`
}

// Hire is an onboarding record from /o/api. It deliberately has no SSN, DOB,
// Forms or Questionnaires fields, and Raw has those keys removed before the
// client returns it (see Sanitize): they never leave the client.
type Hire struct {
	Serial           Text            `json:"Hire Serial"`
	CandidateSerial  Text            `json:"Candidate Serial"`
	FirstName        Text            `json:"First Name"`
	LastName         Text            `json:"Last Name"`
	Email            Text            `json:"Email"`
	StartDate        Text            `json:"Start Date"`
	DateOfHire       Text            `json:"Date of Hire"`
	JobName          Text            `json:"Job Name"`
	Department       Text            `json:"Department"`
	Location         Text            `json:"Location"`
	JobCategory      Text            `json:"Job Category"`
	JobType          Text            `json:"Job Type"`
	PayRate          Text            `json:"Pay Rate"`
	Stage            Text            `json:"Stage"`
	Manager          Text            `json:"Manager"`
	CreateDate       Text            `json:"Create Date"`
	LastModifiedDate Text            `json:"Last Modified Date"`
	Raw              json.RawMessage `json:"-"`
	Address                          // Address 1, Address 2, City, State, Zip, Phone
}
