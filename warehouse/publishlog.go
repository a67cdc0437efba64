package warehouse

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// PublishRecord is one Publish as the warehouse remembers it.
type PublishRecord struct {
	FinishedAt time.Time
	Took       time.Duration
	Stats      PublishStats // Stats.Uploaded counts the files and manifests sent
	Remote     string       // the remote's URL; "" when there was none
	Error      string       // "" when the publish succeeded
}

// logPublish records a finished Publish. A failure to record is not the
// publish's failure: the record only feeds status and metrics.
func (db *DB) logPublish(ctx context.Context, o PublishOptions, st PublishStats, start time.Time, err error) {
	var remote, msg any
	if o.Remote != nil {
		remote = o.Remote.URL()
	}
	if err != nil {
		msg = err.Error()
	}
	var copyMS, copyDue any
	if st.Copied {
		copyMS = st.CopyTook.Milliseconds()
	}
	if st.CopyStale {
		copyDue = st.CopyDue.UTC()
	}
	db.writeMu.Lock()
	db.sql.ExecContext(ctx, `INSERT INTO `+landSchema+`.publish_log VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		time.Now().UTC(), time.Since(start).Milliseconds(), st.Files, st.Bytes, st.Copied,
		remote, st.Uploaded+st.Manifests, st.UploadedBytes, msg, copyMS, copyDue)
	db.writeMu.Unlock()
	db.SaveStatus(ctx)
}

// lastCopyTook returns how long the latest replacement of the read-only
// copy took (false when there is none on record).
func (db *DB) lastCopyTook(ctx context.Context) (time.Duration, bool) {
	var ms sql.NullInt64
	err := db.sql.QueryRowContext(ctx, `SELECT copy_ms FROM `+landSchema+`.publish_log
		WHERE copy_ms IS NOT NULL ORDER BY finished_at DESC LIMIT 1`).Scan(&ms)
	if err != nil || !ms.Valid {
		return 0, false
	}
	return time.Duration(ms.Int64) * time.Millisecond, true
}

// LastPublish returns the latest Publish and the latest successful one
// (zero records when there is none).
func (db *DB) LastPublish(ctx context.Context) (last, lastOK PublishRecord, err error) {
	read := func(where string) (PublishRecord, error) {
		var r PublishRecord
		var took int64
		var copyMS sql.NullInt64
		var remote, msg sql.NullString
		var finished, copyDue sql.NullTime
		err := db.sql.QueryRowContext(ctx, `SELECT finished_at, took_ms, files, bytes, copied, remote, uploaded, uploaded_bytes, error,
				copy_ms, copy_due
			FROM `+landSchema+`.publish_log `+where+` ORDER BY finished_at DESC LIMIT 1`).Scan(
			&finished, &took, &r.Stats.Files, &r.Stats.Bytes, &r.Stats.Copied, &remote, &r.Stats.Uploaded, &r.Stats.UploadedBytes, &msg,
			&copyMS, &copyDue)
		if errors.Is(err, sql.ErrNoRows) {
			return PublishRecord{}, nil
		}
		r.FinishedAt, r.Took, r.Remote, r.Error = timeOf(finished), time.Duration(took)*time.Millisecond, remote.String, msg.String
		r.Stats.CopyTook = time.Duration(copyMS.Int64) * time.Millisecond
		r.Stats.CopyStale, r.Stats.CopyDue = copyDue.Valid, timeOf(copyDue)
		return r, err
	}
	if last, err = read(``); err != nil {
		return last, lastOK, err
	}
	lastOK, err = read(`WHERE error IS NULL`)
	return last, lastOK, err
}
