package schema

import (
	"encoding/json"
	"time"
)

// Table names of the warehouse contract.
const (
	TableJobs            = "jobs"
	TableCandidates      = "candidates"
	TableStageEvents     = "stage_events"
	TableStageStints     = "stage_stints"
	TableAttachments     = "attachments"
	TableHires           = "hires"
	TableRuns            = "sync_runs"
	TableRejected        = "rejected_records"
	TableWebhookEvents   = "webhook_events"
	TableSyncCheckpoints = "sync_checkpoints"
)

// ContractTables returns the tables BI users read, in the order exports
// write them.
func ContractTables() []string {
	return []string{
		TableJobs, TableCandidates, TableStageEvents, TableStageStints, TableAttachments,
		TableHires, TableRuns, TableRejected, TableWebhookEvents,
	}
}

// Stage event origins.
const (
	OriginNote     = "note"     // recovered from a candidate note
	OriginWebhook  = "webhook"  // a stage-change webhook
	OriginObserved = "observed" // a stage change seen between two runs
)

// Attachment types.
const (
	AttachmentResume = "resume"
	AttachmentOther  = "other"
)

// Run statuses and modes used in sync_runs.
const (
	RunRunning     = "running"
	RunSucceeded   = "succeeded"
	RunFailed      = "failed"
	RunInterrupted = "interrupted"
)

// Job is a row of jobs.
type Job struct {
	AccountID       string
	JobID           string // Job Serial
	Code            string // Job ID
	Name            string
	Status          string // open, on_hold, filled, closed (see JobStatus)
	RemoteStage     string
	Department      string
	Location        string
	Category        string
	JobType         string
	SalaryRange     string
	Description     string // detail only; empty leaves the stored value
	OpenedAt        time.Time
	RemoteCreatedAt time.Time
	RemoteUpdatedAt time.Time
	RowHash         string
	RemoteData      json.RawMessage
	FirstSeenAt     time.Time
	LastSeenAt      time.Time
	RemoteDeletedAt time.Time
}

// Candidate is a row of candidates: one application.
type Candidate struct {
	AccountID   string
	CandidateID string // Candidate Serial
	JobID       string
	PersonKey   string // lower(trim(email))
	FirstName   string
	LastName    string
	Email       string
	Phone       string
	City        string
	State       string
	Zip         string
	Source      string
	ReferredBy  string
	Rating      string
	Disposition string
	Stage       string
	StageType   string
	FunnelStage string // one of the Funnel* constants, or empty when no rule maps Stage
	Score       *float64
	AppliedAt   time.Time
	// HiredAt and RejectedAt are derived by the warehouse from stage_events.
	HiredAt    time.Time
	RejectedAt time.Time
	// LastChangedAt is derived by the warehouse; a value set here is the
	// lower bound used when the row is first inserted.
	LastChangedAt time.Time
	// RowHash is the hash of the list row; DetailHash is the RowHash the row
	// had when its detail was last fetched. Empty leaves the stored value.
	RowHash         string
	DetailHash      string
	RemoteData      json.RawMessage
	FirstSeenAt     time.Time
	LastSeenAt      time.Time
	RemoteDeletedAt time.Time
}

// StageEvent is a row of stage_events: one observed stage change. Its key is
// (account, candidate, stage, changed_at, origin).
type StageEvent struct {
	AccountID   string
	CandidateID string
	JobID       string
	Stage       string
	FunnelStage string
	ChangedAt   time.Time
	ChangedBy   string
	Origin      string // OriginNote, OriginWebhook or OriginObserved
}

// Attachment is a row of attachments: one file serial. SizeBytes, SHA256,
// BlobPath and ContentType describe the downloaded file; while DownloadedAt
// is zero they are unknown and leave any stored values in place.
type Attachment struct {
	AccountID       string
	AttachmentID    string // file serial from the URL path (see AttachmentSerial)
	CandidateID     string
	FileName        string
	AttachmentType  string // AttachmentResume or AttachmentOther
	ContentType     string
	SizeBytes       int64
	SHA256          string
	BlobPath        string
	DownloadedAt    time.Time
	RemoteData      json.RawMessage
	FirstSeenAt     time.Time
	LastSeenAt      time.Time
	RemoteDeletedAt time.Time
}

// Hire is a row of hires. It has no SSN, DOB or form data by construction.
type Hire struct {
	AccountID       string
	HireID          string // Hire Serial
	CandidateID     string
	FirstName       string
	LastName        string
	Email           string
	JobName         string
	Department      string
	Location        string
	HireDate        time.Time // a calendar date (midnight UTC)
	StartDate       time.Time // a calendar date (midnight UTC)
	Stage           string
	Manager         string
	PayRate         string
	RemoteCreatedAt time.Time
	RemoteUpdatedAt time.Time
	RowHash         string
	RemoteData      json.RawMessage
	FirstSeenAt     time.Time
	LastSeenAt      time.Time
	RemoteDeletedAt time.Time
}

// Run is a row of sync_runs: one run of one account.
type Run struct {
	RunID           string
	AccountID       string
	Mode            string // backfill, sync, full, tail, webhook
	Status          string // RunRunning, RunSucceeded, RunFailed, RunInterrupted
	StartedAt       time.Time
	FinishedAt      time.Time
	Requests        int64
	Retries         int64
	Throttled       int64
	Pages           int64
	RowsNew         int64
	RowsChanged     int64
	RowsUnchanged   int64
	RowsDeleted     int64
	DetailsFetched  int64
	FilesDownloaded int64
	Rejected        int64
	CompleteScan    bool
	Error           string
	// FilesPending is how many attachments the run left to fetch (the file
	// host failed, a blob was missing or damaged): the next run fetches them.
	FilesPending int64
	// Warning is what an operator should know of a run that did not fail
	// (deletions held back, downloads stopped); "" when nothing.
	Warning string
}

// Rejected is a row of rejected_records: a record that could not be mapped.
// Payload must already be sanitized (see applicantstack.Sanitize).
type Rejected struct {
	AccountID  string
	RunID      string
	Resource   string // job, candidate, hire, attachment
	RemoteID   string
	Reason     string
	Payload    json.RawMessage
	RejectedAt time.Time
}

// WebhookEvent is a row of webhook_events: an accepted webhook as received,
// with its Secret removed.
type WebhookEvent struct {
	EventID    string
	AccountID  string
	ObjectType string
	EventType  string
	ObjectID   string
	Stage      string
	EventDate  time.Time
	UserSerial string
	UserType   string
	Payload    json.RawMessage
	ReceivedAt time.Time
	AppliedAt  time.Time
}
