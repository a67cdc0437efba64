package warehouse

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"strings"

	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/stackhouse/stackhouse/schema"
)

// writer runs the steps of one Write on one connection and transaction.
// Each step appends its rows to a TEMP staging table with DuckDB's Appender
// and merges them with one INSERT … ON CONFLICT: far faster than a
// statement per row, and the staging tables also tell the derive step which
// candidates were touched.
type writer struct {
	ctx     context.Context
	conn    *sql.Conn
	tx      *sql.Tx
	account string
	at      any // b.At as a driver value

	stagedCandidates, stagedEvents bool
}

func (w *writer) exec(query string, args ...any) error {
	_, err := w.tx.ExecContext(w.ctx, query, args...)
	return err
}

// stage (re)creates the TEMP table name with the given columns of table
// (types copied, constraints not) and appends n rows; row appends the
// values of row i to v and returns it.
func (w *writer) stage(name, table, columns string, n int, row func(i int, v []driver.Value) []driver.Value) error {
	// JSON columns are staged as VARCHAR: the Appender would encode a Go
	// string into a JSON column as a JSON string. The INSERT casts back.
	ctas := strings.Replace(columns, "remote_data", "remote_data::VARCHAR AS remote_data", 1)
	if err := w.exec(`CREATE OR REPLACE TEMP TABLE ` + name + ` AS SELECT ` + ctas + ` FROM ` + table + ` LIMIT 0`); err != nil {
		return err
	}
	return w.conn.Raw(func(dc any) error {
		a, err := duckdb.NewAppenderFromConn(dc.(driver.Conn), "", name)
		if err != nil {
			return err
		}
		v := make([]driver.Value, 0, 32)
		for i := range n {
			v = row(i, v[:0])
			if err := a.AppendRow(v...); err != nil {
				a.Close()
				return err
			}
		}
		return a.Close()
	})
}

// lastOfEach returns the indexes of the last row of each key, in order, so
// that a batch repeating a key upserts once with its latest row.
func lastOfEach(n int, key func(i int) string) []int {
	last := make(map[string]int, n)
	for i := range n {
		last[key(i)] = i
	}
	keep := make([]int, 0, len(last))
	for i := range n {
		if last[key(i)] == i {
			keep = append(keep, i)
		}
	}
	return keep
}

const jobColumns = `job_id, code, name, status, remote_stage, department, location, category, job_type,
	salary_range, description, opened_at, remote_created_at, remote_updated_at, row_hash, remote_data`

func (w *writer) jobs(b *Batch) error {
	if len(b.Jobs) == 0 {
		return nil
	}
	keep := lastOfEach(len(b.Jobs), func(i int) string { return b.Jobs[i].JobID })
	err := w.stage("_stage_jobs", "jobs", jobColumns, len(keep), func(i int, v []driver.Value) []driver.Value {
		r := &b.Jobs[keep[i]]
		return append(v, str(r.JobID), str(r.Code), str(r.Name), str(r.Status), str(r.RemoteStage),
			str(r.Department), str(r.Location), str(r.Category), str(r.JobType), str(r.SalaryRange),
			str(r.Description), ts(r.OpenedAt), ts(r.RemoteCreatedAt), ts(r.RemoteUpdatedAt),
			str(r.RowHash), jsonText(r.RemoteData))
	})
	if err != nil {
		return err
	}
	return w.exec(`INSERT INTO jobs (account_id, `+jobColumns+`, first_seen_at, last_seen_at)
		SELECT $1::VARCHAR, `+jobColumns+`, $2::TIMESTAMPTZ, $2::TIMESTAMPTZ FROM _stage_jobs
		ON CONFLICT (account_id, job_id) DO UPDATE SET
			code = excluded.code, name = excluded.name, status = excluded.status,
			remote_stage = excluded.remote_stage, department = excluded.department,
			location = excluded.location, category = excluded.category, job_type = excluded.job_type,
			salary_range = excluded.salary_range,
			description = coalesce(excluded.description, jobs.description),
			opened_at = excluded.opened_at, remote_created_at = excluded.remote_created_at,
			remote_updated_at = excluded.remote_updated_at,
			row_hash = coalesce(excluded.row_hash, jobs.row_hash),
			remote_data = coalesce(excluded.remote_data, jobs.remote_data),
			last_seen_at = greatest(jobs.last_seen_at, excluded.last_seen_at),
			remote_deleted_at = NULL`, w.account, w.at)
}

const candidateColumns = `candidate_id, job_id, person_key, first_name, last_name, email, phone, city,
	state, zip, source, referred_by, rating, disposition, stage, stage_type, funnel_stage, score,
	applied_at, last_changed_at, row_hash, detail_hash, remote_data`

func (w *writer) candidates(b *Batch) error {
	if len(b.Candidates) == 0 {
		return nil
	}
	keep := lastOfEach(len(b.Candidates), func(i int) string { return b.Candidates[i].CandidateID })
	err := w.stage("_stage_candidates", "candidates", candidateColumns, len(keep), func(i int, v []driver.Value) []driver.Value {
		r := &b.Candidates[keep[i]]
		var score any
		if r.Score != nil {
			score = *r.Score
		}
		return append(v, str(r.CandidateID), str(r.JobID), str(r.PersonKey), str(r.FirstName),
			str(r.LastName), str(r.Email), str(r.Phone), str(r.City), str(r.State), str(r.Zip),
			str(r.Source), str(r.ReferredBy), str(r.Rating), str(r.Disposition), str(r.Stage),
			str(r.StageType), str(r.FunnelStage), score, ts(r.AppliedAt), ts(r.LastChangedAt),
			str(r.RowHash), str(r.DetailHash), jsonText(r.RemoteData))
	})
	if err != nil {
		return err
	}
	w.stagedCandidates = true
	// last_changed_at moves to At only when the list row really changed.
	return w.exec(`INSERT INTO candidates (account_id, `+candidateColumns+`, first_seen_at, last_seen_at)
		SELECT $1::VARCHAR, `+candidateColumns+`, $2::TIMESTAMPTZ, $2::TIMESTAMPTZ FROM _stage_candidates
		ON CONFLICT (account_id, candidate_id) DO UPDATE SET
			job_id = excluded.job_id, person_key = excluded.person_key,
			first_name = excluded.first_name, last_name = excluded.last_name, email = excluded.email,
			phone = excluded.phone, city = excluded.city, state = excluded.state, zip = excluded.zip,
			source = excluded.source, referred_by = excluded.referred_by, rating = excluded.rating,
			disposition = excluded.disposition, stage = excluded.stage, stage_type = excluded.stage_type,
			funnel_stage = excluded.funnel_stage, score = excluded.score, applied_at = excluded.applied_at,
			last_changed_at = CASE
				WHEN excluded.row_hash IS NOT NULL AND excluded.row_hash IS DISTINCT FROM candidates.row_hash
				THEN greatest(candidates.last_changed_at, excluded.last_seen_at)
				ELSE candidates.last_changed_at END,
			row_hash = coalesce(excluded.row_hash, candidates.row_hash),
			detail_hash = coalesce(excluded.detail_hash, candidates.detail_hash),
			remote_data = coalesce(excluded.remote_data, candidates.remote_data),
			last_seen_at = greatest(candidates.last_seen_at, excluded.last_seen_at),
			remote_deleted_at = NULL`, w.account, w.at)
}

const hireColumns = `hire_id, candidate_id, first_name, last_name, email, job_name, department,
	location, hire_date, start_date, stage, manager, pay_rate, remote_created_at, remote_updated_at,
	row_hash, remote_data`

func (w *writer) hires(b *Batch) error {
	if len(b.Hires) == 0 {
		return nil
	}
	keep := lastOfEach(len(b.Hires), func(i int) string { return b.Hires[i].HireID })
	err := w.stage("_stage_hires", "hires", hireColumns, len(keep), func(i int, v []driver.Value) []driver.Value {
		r := &b.Hires[keep[i]]
		// Hires are where SSNs live: sanitize again, whatever the caller did.
		return append(v, str(r.HireID), str(r.CandidateID), str(r.FirstName), str(r.LastName),
			str(r.Email), str(r.JobName), str(r.Department), str(r.Location), ts(r.HireDate),
			ts(r.StartDate), str(r.Stage), str(r.Manager), str(r.PayRate), ts(r.RemoteCreatedAt),
			ts(r.RemoteUpdatedAt), str(r.RowHash), jsonText(schema.Sanitize("hire", r.RemoteData)))
	})
	if err != nil {
		return err
	}
	return w.exec(`INSERT INTO hires (account_id, `+hireColumns+`, first_seen_at, last_seen_at)
		SELECT $1::VARCHAR, `+hireColumns+`, $2::TIMESTAMPTZ, $2::TIMESTAMPTZ FROM _stage_hires
		ON CONFLICT (account_id, hire_id) DO UPDATE SET
			candidate_id = excluded.candidate_id, first_name = excluded.first_name,
			last_name = excluded.last_name, email = excluded.email, job_name = excluded.job_name,
			department = excluded.department, location = excluded.location,
			hire_date = excluded.hire_date, start_date = excluded.start_date, stage = excluded.stage,
			manager = excluded.manager, pay_rate = excluded.pay_rate,
			remote_created_at = excluded.remote_created_at, remote_updated_at = excluded.remote_updated_at,
			row_hash = coalesce(excluded.row_hash, hires.row_hash),
			remote_data = coalesce(excluded.remote_data, hires.remote_data),
			last_seen_at = greatest(hires.last_seen_at, excluded.last_seen_at),
			remote_deleted_at = NULL`, w.account, w.at)
}

const attachmentColumns = `attachment_id, candidate_id, file_name, attachment_type, content_type,
	size_bytes, sha256, blob_path, downloaded_at, remote_data`

func (w *writer) attachments(b *Batch) error {
	if len(b.Attachments) == 0 {
		return nil
	}
	keep := lastOfEach(len(b.Attachments), func(i int) string { return b.Attachments[i].AttachmentID })
	err := w.stage("_stage_attachments", "attachments", attachmentColumns, len(keep), func(i int, v []driver.Value) []driver.Value {
		r := &b.Attachments[keep[i]]
		var size any
		if !r.DownloadedAt.IsZero() {
			size = r.SizeBytes
		}
		return append(v, str(r.AttachmentID), str(r.CandidateID), str(r.FileName), str(r.AttachmentType),
			str(r.ContentType), size, str(r.SHA256), str(r.BlobPath), ts(r.DownloadedAt), jsonText(r.RemoteData))
	})
	if err != nil {
		return err
	}
	// The download columns change only with a new download.
	return w.exec(`INSERT INTO attachments (account_id, `+attachmentColumns+`, first_seen_at, last_seen_at)
		SELECT $1::VARCHAR, `+attachmentColumns+`, $2::TIMESTAMPTZ, $2::TIMESTAMPTZ FROM _stage_attachments
		ON CONFLICT (account_id, attachment_id) DO UPDATE SET
			candidate_id = excluded.candidate_id, file_name = excluded.file_name,
			attachment_type = excluded.attachment_type,
			content_type = CASE WHEN excluded.downloaded_at IS NULL THEN attachments.content_type ELSE excluded.content_type END,
			size_bytes = CASE WHEN excluded.downloaded_at IS NULL THEN attachments.size_bytes ELSE excluded.size_bytes END,
			sha256 = CASE WHEN excluded.downloaded_at IS NULL THEN attachments.sha256 ELSE excluded.sha256 END,
			blob_path = CASE WHEN excluded.downloaded_at IS NULL THEN attachments.blob_path ELSE excluded.blob_path END,
			downloaded_at = coalesce(excluded.downloaded_at, attachments.downloaded_at),
			remote_data = coalesce(excluded.remote_data, attachments.remote_data),
			last_seen_at = greatest(attachments.last_seen_at, excluded.last_seen_at),
			remote_deleted_at = NULL`, w.account, w.at)
}

// seen bumps rows the engine saw unchanged. A semi-join on the unnested
// list is a hash join, not a list lookup per row.
func (w *writer) seen(b *Batch) error {
	updates := []struct {
		ids   []string
		query string
	}{
		{b.SeenJobs, `UPDATE jobs SET last_seen_at = greatest(last_seen_at, $2::TIMESTAMPTZ), remote_deleted_at = NULL
			WHERE account_id = $1 AND job_id IN (SELECT unnest($3::VARCHAR[]))`},
		{b.SeenCandidates, `UPDATE candidates SET last_seen_at = greatest(last_seen_at, $2::TIMESTAMPTZ), remote_deleted_at = NULL
			WHERE account_id = $1 AND candidate_id IN (SELECT unnest($3::VARCHAR[]))`},
		{b.SeenHires, `UPDATE hires SET last_seen_at = greatest(last_seen_at, $2::TIMESTAMPTZ), remote_deleted_at = NULL
			WHERE account_id = $1 AND hire_id IN (SELECT unnest($3::VARCHAR[]))`},
	}
	for _, u := range updates {
		if len(u.ids) == 0 {
			continue
		}
		if err := w.exec(u.query, w.account, w.at, u.ids); err != nil {
			return err
		}
	}
	return nil
}

const eventColumns = `candidate_id, job_id, stage, funnel_stage, changed_at, changed_by, origin`

func (w *writer) stageEvents(b *Batch) error {
	if len(b.StageEvents) == 0 {
		return nil
	}
	keep := lastOfEach(len(b.StageEvents), func(i int) string {
		e := &b.StageEvents[i]
		return e.CandidateID + "\x00" + e.Stage + "\x00" + e.ChangedAt.UTC().String() + "\x00" + e.Origin
	})
	err := w.stage("_stage_events", "stage_events", eventColumns, len(keep), func(i int, v []driver.Value) []driver.Value {
		e := &b.StageEvents[keep[i]]
		return append(v, str(e.CandidateID), str(e.JobID), str(e.Stage), str(e.FunnelStage),
			ts(e.ChangedAt), str(e.ChangedBy), str(e.Origin))
	})
	if err != nil {
		return err
	}
	w.stagedEvents = true
	return w.exec(`INSERT INTO stage_events (account_id, `+eventColumns+`)
		SELECT $1::VARCHAR, `+eventColumns+` FROM _stage_events
		ON CONFLICT DO NOTHING`, w.account)
}

func (w *writer) rejected(b *Batch) error {
	if len(b.Rejected) == 0 {
		return nil
	}
	err := w.stage("_stage_rejected", "rejected_records", `run_id, resource, remote_id, reason, payload, rejected_at`,
		len(b.Rejected), func(i int, v []driver.Value) []driver.Value {
			r := &b.Rejected[i]
			run, at := r.RunID, ts(r.RejectedAt)
			if run == "" {
				run = b.RunID
			}
			if at == nil {
				at = w.at
			}
			return append(v, str(run), str(r.Resource), str(r.RemoteID), str(r.Reason),
				jsonText(schema.Sanitize(r.Resource, r.Payload)), at)
		})
	if err != nil {
		return err
	}
	// rejected_records has no key; skip a record already quarantined so
	// that a repeated batch adds nothing.
	return w.exec(`INSERT INTO rejected_records (account_id, run_id, resource, remote_id, reason, payload, rejected_at)
		SELECT DISTINCT $1::VARCHAR, s.run_id, s.resource, s.remote_id, s.reason, s.payload, s.rejected_at
		FROM _stage_rejected s
		WHERE NOT EXISTS (SELECT 1 FROM rejected_records r
			WHERE r.account_id = $1 AND r.run_id = s.run_id AND r.resource = s.resource
			AND r.remote_id IS NOT DISTINCT FROM s.remote_id AND r.reason = s.reason
			AND r.payload IS NOT DISTINCT FROM s.payload)`, w.account)
}

// derive recomputes hired_at, rejected_at and last_changed_at of the
// candidates this batch touched, from all their stage events.
func (w *writer) derive(*Batch) error {
	var touched string
	switch {
	case w.stagedCandidates && w.stagedEvents:
		touched = `SELECT candidate_id FROM _stage_candidates UNION SELECT candidate_id FROM _stage_events`
	case w.stagedCandidates:
		touched = `SELECT candidate_id FROM _stage_candidates`
	case w.stagedEvents:
		touched = `SELECT DISTINCT candidate_id FROM _stage_events`
	default:
		return nil
	}
	return w.exec(`UPDATE candidates SET
			hired_at = d.hired_at,
			rejected_at = d.rejected_at,
			last_changed_at = greatest(candidates.last_changed_at, d.last_event, candidates.applied_at)
		FROM (
			SELECT t.candidate_id,
				min(e.changed_at) FILTER (WHERE e.funnel_stage = 'hired') AS hired_at,
				min(e.changed_at) FILTER (WHERE e.funnel_stage IN ('rejected', 'withdrawn')) AS rejected_at,
				max(e.changed_at) AS last_event
			FROM (`+touched+`) t
			LEFT JOIN stage_events e ON e.account_id = $1 AND e.candidate_id = t.candidate_id
			GROUP BY t.candidate_id
		) d
		WHERE candidates.account_id = $1 AND candidates.candidate_id = d.candidate_id`, w.account)
}

func (w *writer) checkpoint(b *Batch) error {
	c := b.Checkpoint
	if c == nil {
		return nil
	}
	run, state, at := c.RunID, string(c.State), ts(c.UpdatedAt)
	if run == "" {
		run = b.RunID
	}
	if len(c.State) == 0 {
		state = "{}"
	}
	if at == nil {
		at = w.at
	}
	return w.exec(`INSERT INTO sync_checkpoints (account_id, resource, run_id, mode, state, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (account_id, resource) DO UPDATE SET
			run_id = excluded.run_id, mode = excluded.mode, state = excluded.state, updated_at = excluded.updated_at`,
		w.account, str(c.Resource), str(run), str(c.Mode), state, at)
}
