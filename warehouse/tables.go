package warehouse

import (
	"database/sql/driver"
	"strings"

	"github.com/stackhouse/stackhouse/applicantstack"
	"github.com/stackhouse/stackhouse/schema"
)

// rule says how a merge combines a column's landed values with the stored
// row of the same key.
type rule int

const (
	// ruleLast takes the latest landed value, NULL included.
	ruleLast rule = iota
	// ruleKeep takes the latest non-NULL landed value; NULL keeps the
	// stored one (bookkeeping fields a list row lacks: hashes, remote_data).
	ruleKeep
	// ruleDownload changes only with a landed download (downloaded_at set):
	// the file columns of attachments.
	ruleDownload
	// ruleDerived is computed by the merge from stage_events (hired_at,
	// rejected_at); it lands as NULL.
	ruleDerived
	// ruleFixed is a column the warehouse fills itself: account_id, the
	// key, first_seen_at, last_seen_at, remote_deleted_at.
	ruleFixed
)

// column is one column of a table, in the table's order, with how a row
// of type R supplies it (nil for ruleDerived and ruleFixed).
type column[R any] struct {
	name  string
	rule  rule
	value func(*R) any
	json  bool // a JSON column: lands as VARCHAR, cast back by the merge
}

// keyedTable describes one synced table keyed by (account_id, key): the
// single declaration its landing, merge and tests are built from. The
// column list must match the table's DDL name for name and in order
// (TestTables_matchDDL), so a new column is one edit here plus its
// migration.
type keyedTable[R any] struct {
	name string
	key  string
	cols []column[R]
	rows func(*Batch) []R
	id   func(*R) string
	// lastChanged, when set, is the merge expression of a candidate's
	// last_changed_at (see candidatesTable).
	lastChanged string
	// derive, when set, is joined to the merged rows as d, given the
	// landing source: the ruleDerived columns are d's columns of the same
	// name, and last_changed_at is raised to d.last_event and applied_at.
	derive func(src string) string
}

func last[R any](name string, v func(*R) any) column[R] {
	return column[R]{name: name, rule: ruleLast, value: v}
}
func keep[R any](name string, v func(*R) any) column[R] {
	return column[R]{name: name, rule: ruleKeep, value: v}
}
func fixed[R any](name string) column[R] { return column[R]{name: name, rule: ruleFixed} }
func jsonKeep[R any](name string, v func(*R) any) column[R] {
	return column[R]{name: name, rule: ruleKeep, value: v, json: true}
}

// bookkeeping are the trailing columns every synced table ends with.
func bookkeeping[R any]() []column[R] {
	return []column[R]{fixed[R]("first_seen_at"), fixed[R]("last_seen_at"), fixed[R]("remote_deleted_at")}
}

var jobsTable = &keyedTable[schema.Job]{
	name: schema.TableJobs, key: "job_id",
	rows: func(b *Batch) []schema.Job { return b.Jobs },
	id:   func(r *schema.Job) string { return r.JobID },
	cols: append([]column[schema.Job]{
		fixed[schema.Job]("account_id"),
		fixed[schema.Job]("job_id"),
		last("code", func(r *schema.Job) any { return str(r.Code) }),
		last("name", func(r *schema.Job) any { return str(r.Name) }),
		last("status", func(r *schema.Job) any { return str(r.Status) }),
		last("remote_stage", func(r *schema.Job) any { return str(r.RemoteStage) }),
		last("department", func(r *schema.Job) any { return str(r.Department) }),
		last("location", func(r *schema.Job) any { return str(r.Location) }),
		last("category", func(r *schema.Job) any { return str(r.Category) }),
		last("job_type", func(r *schema.Job) any { return str(r.JobType) }),
		last("salary_range", func(r *schema.Job) any { return str(r.SalaryRange) }),
		keep("description", func(r *schema.Job) any { return str(r.Description) }),
		last("opened_at", func(r *schema.Job) any { return ts(r.OpenedAt) }),
		last("remote_created_at", func(r *schema.Job) any { return ts(r.RemoteCreatedAt) }),
		last("remote_updated_at", func(r *schema.Job) any { return ts(r.RemoteUpdatedAt) }),
		keep("row_hash", func(r *schema.Job) any { return str(r.RowHash) }),
		jsonKeep("remote_data", func(r *schema.Job) any { return jsonText(r.RemoteData) }),
	}, bookkeeping[schema.Job]()...),
}

// candidatesTable: last_changed_at moves to the landing time only when the
// list row really changed; the merge then raises it to the latest stage
// event and applied_at.
var candidatesTable = &keyedTable[schema.Candidate]{
	name: schema.TableCandidates, key: "candidate_id",
	rows: func(b *Batch) []schema.Candidate { return b.Candidates },
	id:   func(r *schema.Candidate) string { return r.CandidateID },
	lastChanged: `CASE WHEN o.candidate_id IS NULL THEN
			CASE WHEN n.row_hash IS DISTINCT FROM n._hash_first THEN greatest(n._lc_first, ha._hash_at) ELSE n._lc_first END
		WHEN n.row_hash IS NOT NULL AND n.row_hash IS DISTINCT FROM o.row_hash THEN greatest(o.last_changed_at, ha._hash_at)
		ELSE o.last_changed_at END`,
	// The stage events are merged first, so the merged rows are inserted
	// with the values derive would give them.
	derive: func(src string) string { return derivedColumns(`SELECT DISTINCT candidate_id FROM ` + src) },
	cols: append([]column[schema.Candidate]{
		fixed[schema.Candidate]("account_id"),
		fixed[schema.Candidate]("candidate_id"),
		last("job_id", func(r *schema.Candidate) any { return str(r.JobID) }),
		last("person_key", func(r *schema.Candidate) any { return str(r.PersonKey) }),
		last("first_name", func(r *schema.Candidate) any { return str(r.FirstName) }),
		last("last_name", func(r *schema.Candidate) any { return str(r.LastName) }),
		last("email", func(r *schema.Candidate) any { return str(r.Email) }),
		last("phone", func(r *schema.Candidate) any { return str(r.Phone) }),
		last("city", func(r *schema.Candidate) any { return str(r.City) }),
		last("state", func(r *schema.Candidate) any { return str(r.State) }),
		last("zip", func(r *schema.Candidate) any { return str(r.Zip) }),
		last("source", func(r *schema.Candidate) any { return str(r.Source) }),
		last("referred_by", func(r *schema.Candidate) any { return str(r.ReferredBy) }),
		last("rating", func(r *schema.Candidate) any { return str(r.Rating) }),
		last("disposition", func(r *schema.Candidate) any { return str(r.Disposition) }),
		last("stage", func(r *schema.Candidate) any { return str(r.Stage) }),
		last("stage_type", func(r *schema.Candidate) any { return str(r.StageType) }),
		last("funnel_stage", func(r *schema.Candidate) any { return str(r.FunnelStage) }),
		last("score", func(r *schema.Candidate) any {
			if r.Score == nil {
				return nil
			}
			return *r.Score
		}),
		last("applied_at", func(r *schema.Candidate) any { return ts(r.AppliedAt) }),
		{name: "hired_at", rule: ruleDerived},
		{name: "rejected_at", rule: ruleDerived},
		last("last_changed_at", func(r *schema.Candidate) any { return ts(r.LastChangedAt) }),
		keep("row_hash", func(r *schema.Candidate) any { return str(r.RowHash) }),
		keep("detail_hash", func(r *schema.Candidate) any { return str(r.DetailHash) }),
		jsonKeep("remote_data", func(r *schema.Candidate) any { return jsonText(r.RemoteData) }),
	}, bookkeeping[schema.Candidate]()...),
}

var hiresTable = &keyedTable[schema.Hire]{
	name: schema.TableHires, key: "hire_id",
	rows: func(b *Batch) []schema.Hire { return b.Hires },
	id:   func(r *schema.Hire) string { return r.HireID },
	cols: append([]column[schema.Hire]{
		fixed[schema.Hire]("account_id"),
		fixed[schema.Hire]("hire_id"),
		last("candidate_id", func(r *schema.Hire) any { return str(r.CandidateID) }),
		last("first_name", func(r *schema.Hire) any { return str(r.FirstName) }),
		last("last_name", func(r *schema.Hire) any { return str(r.LastName) }),
		last("email", func(r *schema.Hire) any { return str(r.Email) }),
		last("job_name", func(r *schema.Hire) any { return str(r.JobName) }),
		last("department", func(r *schema.Hire) any { return str(r.Department) }),
		last("location", func(r *schema.Hire) any { return str(r.Location) }),
		last("hire_date", func(r *schema.Hire) any { return ts(r.HireDate) }),
		last("start_date", func(r *schema.Hire) any { return ts(r.StartDate) }),
		last("stage", func(r *schema.Hire) any { return str(r.Stage) }),
		last("manager", func(r *schema.Hire) any { return str(r.Manager) }),
		last("pay_rate", func(r *schema.Hire) any { return str(r.PayRate) }),
		last("remote_created_at", func(r *schema.Hire) any { return ts(r.RemoteCreatedAt) }),
		last("remote_updated_at", func(r *schema.Hire) any { return ts(r.RemoteUpdatedAt) }),
		keep("row_hash", func(r *schema.Hire) any { return str(r.RowHash) }),
		// Hires are where SSNs live: the writer's final guard sanitizes
		// again, whatever the caller did.
		jsonKeep("remote_data", func(r *schema.Hire) any { return jsonText(applicantstack.Sanitize("hire", r.RemoteData)) }),
	}, bookkeeping[schema.Hire]()...),
}

func download[R any](name string, v func(*R) any) column[R] {
	return column[R]{name: name, rule: ruleDownload, value: v}
}

var attachmentsTable = &keyedTable[schema.Attachment]{
	name: schema.TableAttachments, key: "attachment_id",
	rows: func(b *Batch) []schema.Attachment { return b.Attachments },
	id:   func(r *schema.Attachment) string { return r.AttachmentID },
	cols: append([]column[schema.Attachment]{
		fixed[schema.Attachment]("account_id"),
		fixed[schema.Attachment]("attachment_id"),
		last("candidate_id", func(r *schema.Attachment) any { return str(r.CandidateID) }),
		last("file_name", func(r *schema.Attachment) any { return str(r.FileName) }),
		last("attachment_type", func(r *schema.Attachment) any { return str(r.AttachmentType) }),
		download("content_type", func(r *schema.Attachment) any { return str(r.ContentType) }),
		download("size_bytes", func(r *schema.Attachment) any {
			if r.DownloadedAt.IsZero() {
				return nil
			}
			return r.SizeBytes
		}),
		download("sha256", func(r *schema.Attachment) any { return str(r.SHA256) }),
		download("blob_path", func(r *schema.Attachment) any { return str(r.BlobPath) }),
		keep("downloaded_at", func(r *schema.Attachment) any { return ts(r.DownloadedAt) }),
		jsonKeep("remote_data", func(r *schema.Attachment) any { return jsonText(r.RemoteData) }),
	}, bookkeeping[schema.Attachment]()...),
}

// eventColumns are the columns of stage_events after account_id, in order;
// the first four of the key (candidate_id, stage, changed_at, origin) pick
// a row, the others are the latest landed.
var eventColumns = []column[schema.StageEvent]{
	fixed[schema.StageEvent]("account_id"),
	last("candidate_id", func(e *schema.StageEvent) any { return str(e.CandidateID) }),
	last("job_id", func(e *schema.StageEvent) any { return str(e.JobID) }),
	last("stage", func(e *schema.StageEvent) any { return str(e.Stage) }),
	last("funnel_stage", func(e *schema.StageEvent) any { return str(e.FunnelStage) }),
	last("changed_at", func(e *schema.StageEvent) any { return ts(e.ChangedAt) }),
	last("changed_by", func(e *schema.StageEvent) any { return str(e.ChangedBy) }),
	last("origin", func(e *schema.StageEvent) any { return str(e.Origin) }),
}

// eventKey are the columns that identify a stage event within an account.
var eventKey = []string{"candidate_id", "stage", "changed_at", "origin"}

// synced is what the writer needs of a keyed table, whatever its row type.
type synced interface {
	tableName() string
	keyName() string
	columnNames() []string
	count(b *Batch) int
	// appendRow appends the landing values of row i of b (every column, in
	// order, then _seq) to v.
	appendRow(b *Batch, i int, account string, at any, seq int64, v []driver.Value) []driver.Value
	mergeSQL(src string) string
	bigColumn() string
}

var syncedTables = []synced{jobsTable, candidatesTable, hiresTable, attachmentsTable}

func (t *keyedTable[R]) tableName() string { return t.name }
func (t *keyedTable[R]) keyName() string   { return t.key }
func (t *keyedTable[R]) count(b *Batch) int {
	return len(t.rows(b))
}

func (t *keyedTable[R]) columnNames() []string {
	names := make([]string, len(t.cols))
	for i, c := range t.cols {
		names[i] = c.name
	}
	return names
}

func (t *keyedTable[R]) appendRow(b *Batch, i int, account string, at any, seq int64, v []driver.Value) []driver.Value {
	r := &t.rows(b)[i]
	for _, c := range t.cols {
		switch {
		case c.name == "account_id":
			v = append(v, account)
		case c.name == t.key:
			v = append(v, t.id(r))
		case c.name == "first_seen_at" || c.name == "last_seen_at":
			v = append(v, at)
		case c.value == nil:
			v = append(v, nil)
		default:
			v = append(v, c.value(r))
		}
	}
	return append(v, seq)
}

// bigColumn returns the table's JSON column (remote_data), which the
// merge moves without aggregating or hashing it, or "".
func (t *keyedTable[R]) bigColumn() string {
	for _, c := range t.cols {
		if c.json {
			return c.name
		}
	}
	return ""
}

// mergeSQL returns the statement that computes the merged rows of the keys
// landed in src (a landing table with this table's columns and _seq,
// restricted to the account, which is $1) into mergeTable(name): for each
// key the latest landed values by the column rules, combined with the
// stored row o. The JSON column is left out: a large string in an
// aggregate state or on the build side of a hash join cannot spill, so
// mergeTable holds only _seq_big, the _seq of the landed row whose value
// wins (NULL: keep the stored one), and _stored, whether a stored row
// exists. mergeRows then moves the large values by joins whose build side
// is the small merge table.
func (t *keyedTable[R]) mergeSQL(src string) string {
	var agg, sel []string
	agg = append(agg, t.key, `min(last_seen_at) AS _first`, `max(last_seen_at) AS _last`)
	sel = append(sel, `n.`+t.key)
	for _, c := range t.cols {
		n := c.name
		switch {
		case c.rule == ruleFixed:
			continue
		case c.json:
			agg = append(agg, `max(_seq) FILTER (WHERE `+n+` IS NOT NULL) AS _seq_big`)
		case c.rule == ruleLast:
			agg = append(agg, `arg_max_null(`+n+`, _seq) AS `+n)
			if n == "last_changed_at" && t.lastChanged != "" {
				agg = append(agg, `arg_min_null(last_changed_at, _seq) AS _lc_first`,
					`arg_min(row_hash, _seq) FILTER (WHERE row_hash IS NOT NULL) AS _hash_first`)
				if t.derive != nil {
					sel = append(sel, `greatest(`+t.lastChanged+`, d.last_event, n.applied_at) AS `+n)
				} else {
					sel = append(sel, t.lastChanged+` AS `+n)
				}
			} else {
				sel = append(sel, `n.`+n)
			}
		case c.rule == ruleKeep:
			agg = append(agg, `arg_max(`+n+`, _seq) FILTER (WHERE `+n+` IS NOT NULL) AS `+n)
			sel = append(sel, `coalesce(n.`+n+`, o.`+n+`) AS `+n)
		case c.rule == ruleDownload:
			agg = append(agg, `arg_max(`+n+`, _seq) FILTER (WHERE downloaded_at IS NOT NULL) AS `+n)
			sel = append(sel, `CASE WHEN n.downloaded_at IS NULL THEN o.`+n+` ELSE n.`+n+` END AS `+n)
		case c.rule == ruleDerived && t.derive != nil:
			sel = append(sel, `d.`+n)
		case c.rule == ruleDerived:
			sel = append(sel, `o.`+n)
		}
	}
	sel = append(sel, `coalesce(o.first_seen_at, n._first) AS first_seen_at`,
		`greatest(o.last_seen_at, n._last) AS last_seen_at`, `NULL::TIMESTAMPTZ AS remote_deleted_at`,
		`n._seq_big`, `o.`+t.key+` IS NOT NULL AS _stored`)
	from := `(SELECT ` + strings.Join(agg, ", ") + ` FROM ` + src + ` GROUP BY ` + t.key + `) n`
	if t.lastChanged != "" {
		// When the row hash last changed: the first landing of the final
		// hash. Computed on narrow rows, joined by key.
		from += ` LEFT JOIN (SELECT l.` + t.key + `, min(l.last_seen_at) AS _hash_at
			FROM ` + src + ` l JOIN (SELECT ` + t.key + `, arg_max(row_hash, _seq) FILTER (WHERE row_hash IS NOT NULL) AS h
				FROM ` + src + ` GROUP BY ` + t.key + `) f ON f.` + t.key + ` = l.` + t.key + ` AND f.h = l.row_hash
			GROUP BY l.` + t.key + `) ha ON ha.` + t.key + ` = n.` + t.key
	}
	if t.derive != nil {
		from += ` LEFT JOIN (` + t.derive(src) + `) d ON d.` + t.key + ` = n.` + t.key
	}
	// The stored rows of the landed keys only, so that no join holds a
	// whole table.
	return `CREATE OR REPLACE TABLE ` + mergeTable(t.name) + ` AS
		SELECT ` + strings.Join(sel, ",\n\t\t\t") + `
		FROM ` + from + `
		LEFT JOIN (SELECT * FROM ` + t.name + ` WHERE account_id = $1 AND ` + t.key + ` IN (SELECT ` + t.key + ` FROM ` + src + `)) o
			ON o.` + t.key + ` = n.` + t.key
}

// mergeTable names the scratch table of a merge. It is a table of the
// database, not a TEMP one: DuckDB keeps TEMP tables in memory, and a
// merge's rows may be far larger than memory_limit; a database table's
// blocks are written out as the limit requires. It lives and dies inside
// the merge's transaction.
func mergeTable(name string) string { return landSchema + ".merge_" + name }
