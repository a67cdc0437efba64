package schema

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/stackhouse/stackhouse/applicantstack"
)

// EventStageChange is the Event Type of a stage-change notification.
const EventStageChange = "stagechange"

// MapWebhook maps a notification received at received to its
// webhook_events row and, for a candidate stage change, the stage_events
// row it records (origin webhook, dated by the event itself), or nil. The
// row's EventID is the hex SHA-256 of ev.Raw (the payload without its
// Secret), so a redelivery maps to the same id.
func (m Mapper) MapWebhook(ev *applicantstack.WebhookEvent, received time.Time) (WebhookEvent, *StageEvent) {
	sum := sha256.Sum256(ev.Raw)
	row := WebhookEvent{
		EventID: hex.EncodeToString(sum[:]), AccountID: m.Account, ObjectType: ev.ObjectType,
		EventType: ev.EventType, ObjectID: ev.ObjectID(), Stage: ev.Stage, EventDate: ev.EventDate,
		UserSerial: ev.UserSerial, UserType: ev.UserType, Payload: ev.Raw, ReceivedAt: received.UTC(),
	}
	return row, m.webhookStage(row, ev.JobSerial)
}

// WebhookStageEvent returns the stage_events row of a stored webhook event,
// the same MapWebhook gave when it arrived, or nil when the event records
// no candidate stage change. The job comes from the payload's "Job
// Serial"; a payload that is not a JSON object is an error.
func (m Mapper) WebhookStageEvent(e WebhookEvent) (*StageEvent, error) {
	if m.webhookStage(e, "") == nil {
		return nil, nil
	}
	var p struct {
		Job string `json:"Job Serial"`
	}
	if len(bytes.TrimSpace(e.Payload)) > 0 {
		if err := json.Unmarshal(e.Payload, &p); err != nil {
			return nil, fmt.Errorf("webhook event %s: payload: %w", e.EventID, err)
		}
	}
	return m.webhookStage(e, p.Job), nil
}

// webhookStage is the stage event of a candidate stage change, by its user
// or, for a change the system made, "System".
func (m Mapper) webhookStage(e WebhookEvent, job string) *StageEvent {
	if e.ObjectType != applicantstack.ObjectCandidate || e.EventType != EventStageChange ||
		e.ObjectID == "" || e.Stage == "" || e.EventDate.IsZero() {
		return nil
	}
	funnel, _ := m.funnel().Map(e.Stage, "")
	by := e.UserSerial
	if by == "" && e.UserType == "SYSTEM" {
		by = "System"
	}
	return &StageEvent{
		AccountID: m.Account, CandidateID: e.ObjectID, JobID: job, Stage: e.Stage, FunnelStage: funnel,
		ChangedAt: e.EventDate.UTC(), ChangedBy: by, Origin: OriginWebhook,
	}
}
