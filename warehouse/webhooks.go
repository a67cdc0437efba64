package warehouse

import (
	"context"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/stackhouse/stackhouse/applicantstack"
	"github.com/stackhouse/stackhouse/schema"
)

// ErrRejected wraps an error of InsertWebhookEvents that the data itself
// causes (DuckDB refuses a value: a constraint, a conversion, a value out
// of range): storing the same events again cannot succeed.
var ErrRejected = errors.New("warehouse: rejected")

// InsertWebhookEvents stores events, like InsertWebhookEvent for each, and
// the stage events they carry, as Write would (an event already stored is
// ignored; the derived columns of the candidates named are recomputed), all
// in one transaction: on error nothing is stored. It reports for each event
// whether it was inserted: false for one already stored (same account and
// EventID) or repeated earlier in events. One transaction per batch instead
// of two commits per webhook is what lets a receiver keep up with a burst
// (see sync/daemon). An error the data causes wraps ErrRejected. The
// payloads and every text column are sanitized once more, whatever the
// caller did: this is the writer's final privacy guard for webhook_events
// and the stage events that come with them.
func (db *DB) InsertWebhookEvents(ctx context.Context, events []schema.WebhookEvent, stages []schema.StageEvent) ([]bool, error) {
	events, stages = sanitizeWebhooks(events, stages)
	inserted, err := db.insertWebhookEvents(ctx, events, stages)
	if err != nil && refusedData(err) {
		return nil, fmt.Errorf("%w: %w", ErrRejected, err)
	}
	return inserted, err
}

// refusedData reports whether err is DuckDB refusing a value rather than
// failing to work (I/O, memory, a closed database, a cancelled context).
func refusedData(err error) bool {
	if errors.Is(err, errNoAccount) {
		return true
	}
	var de *duckdb.Error
	if !errors.As(err, &de) {
		return false
	}
	switch de.Type {
	case duckdb.ErrorTypeConstraint, duckdb.ErrorTypeConversion, duckdb.ErrorTypeOutOfRange,
		duckdb.ErrorTypeInvalidInput, duckdb.ErrorTypeMismatchType:
		return true
	}
	return false
}

var errNoAccount = errors.New("stage event has no account")

// sanitizeWebhooks returns copies of events and stages with every text
// column passed through the privacy policy (applicantstack.Sanitize).
func sanitizeWebhooks(events []schema.WebhookEvent, stages []schema.StageEvent) ([]schema.WebhookEvent, []schema.StageEvent) {
	events, stages = slices.Clone(events), slices.Clone(stages)
	for i := range events {
		e := &events[i]
		for _, f := range []*string{&e.EventID, &e.ObjectType, &e.EventType, &e.ObjectID, &e.Stage, &e.UserSerial, &e.UserType} {
			*f = sanitizeText(*f)
		}
		e.Payload = applicantstack.Sanitize(applicantstack.ResourceWebhook, e.Payload)
	}
	for i := range stages {
		e := &stages[i]
		for _, f := range []*string{&e.CandidateID, &e.JobID, &e.Stage, &e.ChangedBy} {
			*f = sanitizeText(*f)
		}
	}
	return events, stages
}

// sanitizeText applies the privacy policy to one string: the policy is
// written for JSON, so the string goes through it as a JSON string.
func sanitizeText(s string) string {
	b, err := json.Marshal(s)
	if err != nil {
		return ""
	}
	var out string
	if json.Unmarshal(applicantstack.Sanitize(applicantstack.ResourceWebhook, b), &out) != nil {
		return ""
	}
	return out
}

func (db *DB) insertWebhookEvents(ctx context.Context, events []schema.WebhookEvent, stages []schema.StageEvent) ([]bool, error) {
	inserted := make([]bool, len(events))
	if len(events) == 0 && len(stages) == 0 {
		return inserted, nil
	}
	byAccount := make(map[string][]schema.StageEvent)
	var accounts []string
	for _, e := range stages {
		if e.AccountID == "" {
			return nil, fmt.Errorf("webhook events: %w: %s", errNoAccount, e.CandidateID)
		}
		if _, ok := byAccount[e.AccountID]; !ok {
			accounts = append(accounts, e.AccountID)
		}
		byAccount[e.AccountID] = append(byAccount[e.AccountID], e)
	}
	type key struct{ account, id string }
	first := make(map[key]int, len(events))
	var keep []int
	for i, e := range events {
		k := key{e.AccountID, e.EventID}
		if _, dup := first[k]; !dup {
			first[k] = i
			keep = append(keep, i)
		}
	}
	now := time.Now().UTC()

	db.writeMu.Lock()
	defer db.writeMu.Unlock()
	conn, err := db.sql.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("webhook events: %w", err)
	}
	defer conn.Close()
	t, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("webhook events: %w", err)
	}
	defer t.Rollback()
	if _, err := t.ExecContext(ctx, `CREATE OR REPLACE TEMP TABLE _stage_webhooks (
		event_id VARCHAR, account_id VARCHAR, object_type VARCHAR, event_type VARCHAR, object_id VARCHAR,
		stage VARCHAR, event_date TIMESTAMPTZ, user_serial VARCHAR, user_type VARCHAR, payload VARCHAR,
		received_at TIMESTAMPTZ, applied_at TIMESTAMPTZ)`); err != nil {
		return nil, fmt.Errorf("webhook events: %w", err)
	}
	err = conn.Raw(func(dc any) error {
		a, err := duckdb.NewAppenderFromConn(dc.(driver.Conn), "", "_stage_webhooks")
		if err != nil {
			return err
		}
		for _, i := range keep {
			e := &events[i]
			received := e.ReceivedAt
			if received.IsZero() {
				received = now
			}
			if err := a.AppendRow(str(e.EventID), str(e.AccountID), str(e.ObjectType), str(e.EventType),
				str(e.ObjectID), str(e.Stage), ts(e.EventDate), str(e.UserSerial), str(e.UserType),
				jsonText(e.Payload), ts(received), ts(e.AppliedAt)); err != nil {
				a.Close()
				return err
			}
		}
		return a.Close()
	})
	if err != nil {
		return nil, fmt.Errorf("webhook events: stage: %w", err)
	}
	rows, err := t.QueryContext(ctx, `SELECT s.account_id, s.event_id FROM _stage_webhooks s
		SEMI JOIN webhook_events w ON w.account_id = s.account_id AND w.event_id = s.event_id`)
	if err != nil {
		return nil, fmt.Errorf("webhook events: %w", err)
	}
	stored := make(map[key]bool)
	for rows.Next() {
		var k key
		if err := rows.Scan(&k.account, &k.id); err != nil {
			rows.Close()
			return nil, fmt.Errorf("webhook events: %w", err)
		}
		stored[k] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("webhook events: %w", err)
	}
	if _, err := t.ExecContext(ctx, `INSERT INTO webhook_events (event_id, account_id, object_type,
			event_type, object_id, stage, event_date, user_serial, user_type, payload, received_at, applied_at)
		SELECT event_id, account_id, object_type, event_type, object_id, stage, event_date, user_serial,
			user_type, payload::JSON, received_at, applied_at FROM _stage_webhooks
		ON CONFLICT DO NOTHING`); err != nil {
		return nil, fmt.Errorf("webhook events: %w", err)
	}
	for _, account := range accounts {
		b := &Batch{Account: account, At: now, StageEvents: byAccount[account]}
		w := &tx{ctx: ctx, conn: conn, tx: t, account: account, at: now, seq: func() int64 { return db.seq.Add(1) }}
		if err := w.prepareTemp(); err != nil {
			return nil, fmt.Errorf("webhook events: %w", err)
		}
		if err := w.land(target{temp: true}, b); err != nil {
			return nil, fmt.Errorf("webhook events: stage events %s: %w", account, err)
		}
		if _, err := w.merge(target{temp: true}); err != nil {
			return nil, fmt.Errorf("webhook events: %s: %w", account, err)
		}
	}
	if err := t.Commit(); err != nil {
		return nil, fmt.Errorf("webhook events: commit: %w", err)
	}
	for _, i := range keep {
		inserted[i] = !stored[key{events[i].AccountID, events[i].EventID}]
	}
	return inserted, nil
}
