package warehouse

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"strconv"
	"strings"

	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/stackhouse/stackhouse/applicantstack"
	"github.com/stackhouse/stackhouse/schema"
)

// The write path follows DuckDB's fast path. Rows are appended (DuckDB's
// Appender, no indexes, no updates) to landing tables; a merge then turns
// the landed rows of one account into current-state rows with a few
// set-based statements per table, whose cost follows the rows landed, not
// the table: compute the merged rows of the landed keys (one aggregate,
// one join with the stored rows), delete those keys, insert the merged
// rows, then recompute the derived candidate columns of the candidates
// touched. Nothing runs per row or per batch against the large tables.
//
// Two landing places share one merge:
//   - the sync engine lands into the persistent tables of schema
//     "stackhouse_internal" (Land), committed with its checkpoint, and merges an
//     account now and then (Merge): a run's rows reach the synced tables in
//     a few large merges, and a killed run's landed rows are merged by the
//     next;
//   - Write and the webhook receiver land into TEMP tables and merge them in
//     the same transaction: small batches visible at once.

// landSchema holds the writer's own tables (see migration 0003).
const landSchema = "stackhouse_internal"

// tx is one transaction of the writer, on one connection.
type tx struct {
	ctx     context.Context
	conn    *sql.Conn
	tx      *sql.Tx
	account string
	at      any // the batch's time as a driver value
	seq     func() int64
}

func (w *tx) exec(query string, args ...any) error {
	_, err := w.tx.ExecContext(w.ctx, query, args...)
	return err
}

// appendRows appends n rows to schemaName.table with DuckDB's Appender, in
// the connection's open transaction.
func (w *tx) appendRows(schemaName, table string, n int, row func(i int, v []driver.Value) []driver.Value) error {
	if n == 0 {
		return nil
	}
	return w.conn.Raw(func(dc any) error {
		a, err := duckdb.NewAppenderFromConn(dc.(driver.Conn), schemaName, table)
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

// target names where a transaction lands rows: the persistent landing
// tables, or TEMP tables of the same shape private to the transaction. A
// merge from the persistent tables takes the rows landed up to upTo.
type target struct {
	temp bool
	upTo int64
}

func (g target) table(name string) (schemaName, table string) {
	if g.temp {
		return "", "_land_" + name
	}
	return landSchema, "land_" + name
}

// source is the landed rows of table for the merge: restricted to the
// account (the merge's $1) and the slice for the shared landing tables.
func (g target) source(name string) string {
	if g.temp {
		return "_land_" + name
	}
	return `(SELECT * FROM ` + landSchema + `.land_` + name + ` WHERE ` + g.slice() + `)`
}

// slice selects the shared landing rows a merge takes.
func (g target) slice() string {
	return `account_id = $1 AND _seq <= ` + strconv.FormatInt(g.upTo, 10)
}

// clear empties what source selects, once merged.
func (w *tx) clear(g target, name string) error {
	if g.temp {
		return w.exec(`DELETE FROM _land_` + name)
	}
	return w.exec(`DELETE FROM `+landSchema+`.land_`+name+` WHERE `+g.slice(), w.account)
}

// prepareTemp (re)creates the TEMP landing tables of a transaction.
func (w *tx) prepareTemp() error {
	for _, name := range landedNames() {
		if err := w.exec(`CREATE OR REPLACE TEMP TABLE _land_` + name + ` AS SELECT * FROM ` +
			landSchema + `.land_` + name + ` LIMIT 0`); err != nil {
			return err
		}
	}
	return nil
}

func landedNames() []string {
	names := make([]string, 0, len(syncedTables)+2)
	for _, t := range syncedTables {
		names = append(names, t.tableName())
	}
	return append(names, schema.TableStageEvents, "seen")
}

// land appends b's rows, stage events and seen serials to g's landing
// tables, records rejected records, the scan's unchanged serials and the
// checkpoint. It changes no synced table.
func (w *tx) land(g target, b *Batch) error {
	for _, t := range syncedTables {
		n := t.count(b)
		if n == 0 {
			continue
		}
		s, name := g.table(t.tableName())
		err := w.appendRows(s, name, n, func(i int, v []driver.Value) []driver.Value {
			return t.appendRow(b, i, w.account, w.at, w.seq(), v)
		})
		if err != nil {
			return fmt.Errorf("land %s: %w", t.tableName(), err)
		}
	}
	s, name := g.table(schema.TableStageEvents)
	err := w.appendRows(s, name, len(b.StageEvents), func(i int, v []driver.Value) []driver.Value {
		e := &b.StageEvents[i]
		for _, c := range eventColumns {
			if c.value == nil {
				v = append(v, w.account)
			} else {
				v = append(v, c.value(e))
			}
		}
		return append(v, w.seq())
	})
	if err != nil {
		return fmt.Errorf("land stage events: %w", err)
	}
	seen := []struct {
		table string
		ids   []string
	}{{schema.TableJobs, b.SeenJobs}, {schema.TableCandidates, b.SeenCandidates}, {schema.TableHires, b.SeenHires}}
	s, name = g.table("seen")
	for _, u := range seen {
		err := w.appendRows(s, name, len(u.ids), func(i int, v []driver.Value) []driver.Value {
			return append(v, w.account, u.table, u.ids[i], w.at, w.seq())
		})
		if err != nil {
			return fmt.Errorf("land seen %s: %w", u.table, err)
		}
	}
	scanned := []struct {
		table string
		ids   []string
	}{{schema.TableJobs, b.ScannedJobs}, {schema.TableCandidates, b.ScannedCandidates}, {schema.TableHires, b.ScannedHires}}
	for _, u := range scanned {
		err := w.appendRows(landSchema, "scan_seen", len(u.ids), func(i int, v []driver.Value) []driver.Value {
			return append(v, w.account, u.table, u.ids[i])
		})
		if err != nil {
			return fmt.Errorf("record scanned %s: %w", u.table, err)
		}
	}
	if err := w.rejected(b); err != nil {
		return fmt.Errorf("rejected records: %w", err)
	}
	if err := w.checkpoint(b); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	return nil
}

// merged reports how many rows a merge changed, per table.
type merged map[string]int64

// merge merges the rows of w.account landed in g into the synced tables,
// in landing order, then empties g's landing rows of the account. See
// DB.Write for the rules.
func (w *tx) merge(g target) (merged, error) {
	changed := merged{}
	// Stage events first: the candidates merged below get their derived
	// columns from them as they are inserted (see derivedColumns).
	events, err := w.mergeEvents(g)
	if err != nil {
		return nil, fmt.Errorf("merge stage events: %w", err)
	}
	changed[schema.TableStageEvents] += events
	for _, t := range syncedTables {
		n, err := w.mergeTable(g, t)
		if err != nil {
			return nil, fmt.Errorf("merge %s: %w", t.tableName(), err)
		}
		changed[t.tableName()] += n
	}
	n, err := w.mergeSeen(g)
	if err != nil {
		return nil, fmt.Errorf("merge seen: %w", err)
	}
	for t, c := range n {
		changed[t] += c
	}
	touched, err := w.derive(g)
	if err != nil {
		return nil, fmt.Errorf("derived candidate columns: %w", err)
	}
	changed[schema.TableCandidates] += touched
	if events > 0 {
		// A private landing (Write, webhooks) is a few applications: their
		// stints now. A slice of the shared landing queues its applications
		// for Merge to rebuild once its slices are done.
		if g.temp {
			stints, err := w.mergeStints(g.source(schema.TableStageEvents))
			if err != nil {
				return nil, fmt.Errorf("merge stage stints: %w", err)
			}
			changed[schema.TableStageStints] += stints
		} else if err := w.exec(`INSERT INTO `+landSchema+`.stints_pending
				SELECT DISTINCT $1, candidate_id FROM `+g.source(schema.TableStageEvents), w.account); err != nil {
			return nil, fmt.Errorf("queue stage stints: %w", err)
		}
	}
	for _, name := range landedNames() {
		if err := w.clear(g, name); err != nil {
			return nil, fmt.Errorf("clear landing %s: %w", name, err)
		}
	}
	if err := w.bump(changed); err != nil {
		return nil, err
	}
	return changed, nil
}

func (w *tx) count(query string, args ...any) (int64, error) {
	var n int64
	err := w.tx.QueryRowContext(w.ctx, query, args...).Scan(&n)
	return n, err
}

// mergeTable merges one keyed table: merged rows of the landed keys (see
// keyedTable.mergeSQL), then delete and insert. It returns how many keys
// it wrote.
func (w *tx) mergeTable(g target, t synced) (int64, error) {
	src := g.source(t.tableName())
	landed, err := w.count(`SELECT count(*) FROM `+src, w.args(g)...)
	if err != nil || landed == 0 {
		return 0, err
	}
	if err := w.exec(t.mergeSQL(src), w.account); err != nil {
		return 0, fmt.Errorf("merged rows: %w", err)
	}
	m, key, big := mergeTable(t.tableName()), t.keyName(), t.bigColumn()
	// Keys whose stored big value nothing landed replaces (a landed row
	// without remote_data: rare). Their values are set aside before the
	// delete.
	kept := landSchema + ".merge_kept"
	keepers, err := w.count(`SELECT count(*) FROM ` + m + ` WHERE _seq_big IS NULL AND _stored`)
	if err != nil {
		return 0, err
	}
	if keepers > 0 {
		if err := w.exec(`CREATE OR REPLACE TABLE `+kept+` AS SELECT `+key+` AS id, `+big+` FROM `+t.tableName()+`
			WHERE account_id = $1 AND `+key+` IN (SELECT `+key+` FROM `+m+` WHERE _seq_big IS NULL AND _stored)`, w.account); err != nil {
			return 0, fmt.Errorf("kept %s: %w", big, err)
		}
	}
	if err := w.exec(`DELETE FROM `+t.tableName()+` WHERE account_id = $1 AND `+key+
		` IN (SELECT `+key+` FROM `+m+`)`, w.account); err != nil {
		return 0, fmt.Errorf("delete: %w", err)
	}
	cols := t.columnNames()
	insert := func(bigValue, from string) error {
		sel := make([]string, 0, len(cols))
		for _, c := range cols[1:] {
			if c == big {
				sel = append(sel, bigValue)
			} else {
				sel = append(sel, `m.`+c)
			}
		}
		if err := w.exec(`INSERT INTO `+t.tableName()+` (`+strings.Join(cols, ", ")+`)
			SELECT $1::VARCHAR, `+strings.Join(sel, ", ")+` FROM `+from, w.account); err != nil {
			return fmt.Errorf("insert: %w", err)
		}
		return nil
	}
	// Inner joins only: the merge table, small, is the build side and the
	// large values stream through the probe side.
	if err := insert(`j.`+big, m+` m JOIN `+src+` j ON j._seq = m._seq_big`); err != nil {
		return 0, err
	}
	if keepers > 0 {
		if err := insert(`k.`+big, m+` m JOIN `+kept+` k ON k.id = m.`+key); err != nil {
			return 0, err
		}
		if err := w.exec(`DROP TABLE ` + kept); err != nil {
			return 0, err
		}
	}
	if err := insert(`NULL::JSON`, m+` m WHERE m._seq_big IS NULL AND NOT m._stored`); err != nil {
		return 0, err
	}
	n, err := w.count(`SELECT count(*) FROM ` + m)
	if err != nil {
		return 0, err
	}
	return n, w.exec(`DROP TABLE ` + m)
}

// args are the arguments of a landing source: the account for the shared
// tables, none for TEMP ones.
func (w *tx) args(g target) []any {
	if g.temp {
		return nil
	}
	return []any{w.account}
}

// mergeSeen moves last_seen_at of the rows named by Batch.Seen* forward and
// revives them.
func (w *tx) mergeSeen(g target) (merged, error) {
	src := g.source("seen")
	n, err := w.count(`SELECT count(*) FROM `+src, w.args(g)...)
	if err != nil || n == 0 {
		return nil, err
	}
	changed := merged{}
	for _, t := range syncedTables[:3] { // jobs, candidates, hires
		res, err := w.tx.ExecContext(w.ctx, `UPDATE `+t.tableName()+` SET
				last_seen_at = greatest(`+t.tableName()+`.last_seen_at, s.seen_at), remote_deleted_at = NULL
			FROM (SELECT id, max(seen_at) AS seen_at FROM `+src+` WHERE table_name = $2 GROUP BY id) s
			WHERE `+t.tableName()+`.account_id = $1 AND `+t.tableName()+`.`+t.keyName()+` = s.id`,
			w.account, t.tableName())
		if err != nil {
			return nil, err
		}
		c, _ := res.RowsAffected()
		changed[t.tableName()] = c
	}
	return changed, nil
}

// mergeEvents inserts the landed stage events not stored yet: an event
// already stored (same key) is kept; among landed ones the latest wins.
func (w *tx) mergeEvents(g target) (int64, error) {
	src := g.source(schema.TableStageEvents)
	key := strings.Join(eventKey, ", ")
	var on []string
	for _, k := range eventKey {
		on = append(on, `e.`+k+` = l.`+k)
	}
	res, err := w.tx.ExecContext(w.ctx, `INSERT INTO stage_events (account_id, candidate_id, job_id, stage, funnel_stage, changed_at, changed_by, origin)
		SELECT $1::VARCHAR, candidate_id, arg_max(job_id, _seq), stage, arg_max(funnel_stage, _seq), changed_at,
			arg_max(changed_by, _seq), origin
		FROM `+src+` l
		WHERE NOT EXISTS (SELECT 1 FROM stage_events e WHERE e.account_id = $1 AND `+strings.Join(on, " AND ")+`)
		GROUP BY `+key, w.account)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// mergeStints rebuilds, from all their stored stage events, the
// stage_stints of the account's applications named by the query ids (a
// column candidate_id) (stage_stints_for, migration 0008): a new event can
// fall anywhere in an application's history, so its stints are deleted and
// inserted again. It returns the stints inserted.
func (w *tx) mergeStints(ids string) (int64, error) {
	if err := w.exec(`CREATE OR REPLACE TEMP TABLE _stint_ids AS
		SELECT DISTINCT $1::VARCHAR AS account_id, candidate_id FROM `+ids, w.account); err != nil {
		return 0, err
	}
	defer w.exec(`DROP TABLE IF EXISTS _stint_ids`)
	if err := w.exec(`DELETE FROM stage_stints
		WHERE account_id = $1 AND candidate_id IN (SELECT candidate_id FROM _stint_ids)`, w.account); err != nil {
		return 0, err
	}
	res, err := w.tx.ExecContext(w.ctx, `INSERT INTO stage_stints SELECT * FROM stage_stints_for('_stint_ids')`)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// pendingStints rebuilds the stints of the applications the account's
// merge slices queued (stints_pending), all at once, and empties the queue.
func (w *tx) pendingStints() (int64, error) {
	pending := `(SELECT candidate_id FROM ` + landSchema + `.stints_pending WHERE account_id = $1)`
	n, err := w.mergeStints(pending)
	if err != nil {
		return 0, err
	}
	if err := w.exec(`DELETE FROM `+landSchema+`.stints_pending WHERE account_id = $1`, w.account); err != nil {
		return 0, err
	}
	if n > 0 {
		err = w.bumpTable(schema.TableStageStints)
	}
	return n, err
}

// derivedColumns is the query of the derived candidate columns of the
// candidates named by the query ids (a column candidate_id), from all their
// stored stage events (account $1): hired_at, rejected_at, and last_event,
// which last_changed_at is raised to (with applied_at).
func derivedColumns(ids string) string {
	return `SELECT t.candidate_id,
				min(e.changed_at) FILTER (WHERE e.funnel_stage = 'hired') AS hired_at,
				min(e.changed_at) FILTER (WHERE e.funnel_stage IN ('rejected', 'withdrawn')) AS rejected_at,
				max(e.changed_at) AS last_event
			FROM (` + ids + `) t
			LEFT JOIN stage_events e ON e.account_id = $1 AND e.candidate_id = t.candidate_id
			GROUP BY t.candidate_id`
}

// derive recomputes hired_at, rejected_at and last_changed_at, from all
// their stage events, of the candidates with landed stage events and no
// landed row: the merged candidates were inserted with these values
// already (candidatesTable.derive). No inserted row is updated: DuckDB
// writes the rows a transaction inserts straight to the database file
// unless the transaction updates one of them, and then it sends every one
// through the WAL as well.
func (w *tx) derive(g target) (int64, error) {
	touched := `SELECT candidate_id FROM ` + g.source(schema.TableStageEvents) +
		` EXCEPT SELECT candidate_id FROM ` + g.source(schema.TableCandidates)
	res, err := w.tx.ExecContext(w.ctx, `UPDATE candidates SET
			hired_at = d.hired_at,
			rejected_at = d.rejected_at,
			last_changed_at = greatest(candidates.last_changed_at, d.last_event, candidates.applied_at)
		FROM (`+derivedColumns(touched)+`) d
		WHERE candidates.account_id = $1 AND candidates.candidate_id = d.candidate_id
			AND (candidates.hired_at IS DISTINCT FROM d.hired_at
				OR candidates.rejected_at IS DISTINCT FROM d.rejected_at
				OR candidates.last_changed_at IS DISTINCT FROM greatest(candidates.last_changed_at, d.last_event, candidates.applied_at))`,
		w.account)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// bump raises the version of every table of the account a merge changed.
func (w *tx) bump(changed merged) error {
	for table, n := range changed {
		if n == 0 {
			continue
		}
		if err := w.bumpTable(table); err != nil {
			return err
		}
	}
	return nil
}

func (w *tx) bumpTable(table string) error {
	return w.exec(`INSERT INTO `+landSchema+`.table_versions AS v VALUES ($1, $2, 1, now())
		ON CONFLICT (account_id, table_name) DO UPDATE SET version = v.version + 1, changed_at = now()`,
		w.account, table)
}

func (w *tx) rejected(b *Batch) error {
	if len(b.Rejected) == 0 {
		return nil
	}
	if err := w.exec(`CREATE OR REPLACE TEMP TABLE _stage_rejected AS
		SELECT run_id, resource, remote_id, reason, payload, rejected_at FROM rejected_records LIMIT 0`); err != nil {
		return err
	}
	err := w.appendRows("", "_stage_rejected", len(b.Rejected), func(i int, v []driver.Value) []driver.Value {
		r := &b.Rejected[i]
		run, at := r.RunID, ts(r.RejectedAt)
		if run == "" {
			run = b.RunID
		}
		if at == nil {
			at = w.at
		}
		return append(v, str(run), str(r.Resource), str(r.RemoteID), str(r.Reason),
			jsonText(applicantstack.Sanitize(r.Resource, r.Payload)), at)
	})
	if err != nil {
		return err
	}
	// rejected_records has no key; skip a record already quarantined so
	// that a repeated batch adds nothing.
	res, err := w.tx.ExecContext(w.ctx, `INSERT INTO rejected_records (account_id, run_id, resource, remote_id, reason, payload, rejected_at)
		SELECT DISTINCT $1::VARCHAR, s.run_id, s.resource, s.remote_id, s.reason, s.payload, s.rejected_at
		FROM _stage_rejected s
		WHERE NOT EXISTS (SELECT 1 FROM rejected_records r
			WHERE r.account_id = $1 AND r.run_id = s.run_id AND r.resource = s.resource
			AND r.remote_id IS NOT DISTINCT FROM s.remote_id AND r.reason = s.reason
			AND r.payload IS NOT DISTINCT FROM s.payload)`, w.account)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n > 0 {
		return w.bumpTable(schema.TableRejected)
	}
	return nil
}

func (w *tx) checkpoint(b *Batch) error {
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
