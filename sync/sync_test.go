package sync

import (
	"bytes"
	"context"
	"maps"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stackhouse/stackhouse/applicantstack/fake"
	"github.com/stackhouse/stackhouse/warehouse"
)

// listRequests is the number of list pages the fake served, all lists.
func listRequests(st fake.Stats) int64 {
	return st.Requests[fake.KindJobsList] + st.Requests[fake.KindCandidatesList] + st.Requests[fake.KindHiresList]
}

func TestSyncer_backfillMatchesGroundTruth(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 260, nil)
	res := e.mustRun(ModeBackfill)
	sub := e.tenant.Subdomain

	serials, _ := e.fake.Serials(sub, fake.ListCandidates)
	if got := e.count(`SELECT count(*) FROM candidates WHERE remote_deleted_at IS NULL`); got != len(serials) {
		t.Fatalf("%d candidates in the warehouse, fake has %d", got, len(serials))
	}
	var wantFiles, wantDetails int
	for _, serial := range serials {
		ct, d := e.truthDetail(serial)
		var stage, email, first, job string
		if err := e.sql().QueryRow(`SELECT stage, coalesce(email,''), coalesce(first_name,''), job_id FROM candidates WHERE candidate_id = ?`, serial).
			Scan(&stage, &email, &first, &job); err != nil {
			t.Fatalf("candidate %s: %v", serial, err)
		}
		if stage != str(d["Stage"]) || email != str(d["Email"]) || first != str(d["First Name"]) || job != str(d["Job Serial"]) {
			t.Errorf("candidate %s: %q %q %q %q, truth %v %v %v %v", serial, stage, email, first, job,
				d["Stage"], d["Email"], d["First Name"], d["Job Serial"])
		}
		// The stage history equals the fake's, entry for entry.
		rows, err := e.sql().Query(`SELECT stage, changed_at FROM stage_events WHERE candidate_id = ? AND origin = 'note' ORDER BY changed_at, stage`, serial)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for rows.Next() {
			var s string
			var at time.Time
			rows.Scan(&s, &at)
			got = append(got, s+"@"+at.UTC().Format(time.RFC3339))
		}
		rows.Close()
		var want []string
		for _, h := range ct.History {
			want = append(want, h.Stage+"@"+h.Time.UTC().Format(time.RFC3339))
		}
		if !slices.Equal(got, want) {
			t.Errorf("candidate %s history\n got %v\nwant %v", serial, got, want)
		}
		// Every file is downloaded once, with the fake's bytes.
		for _, f := range ct.Files {
			wantFiles++
			var sum, blob string
			var size int
			if err := e.sql().QueryRow(`SELECT sha256, blob_path, size_bytes FROM attachments WHERE attachment_id = ?`, f.Serial).Scan(&sum, &blob, &size); err != nil {
				t.Fatalf("file %s: %v", f.Serial, err)
			}
			h, err := fileSHA(filepath.Join(e.cfg.Warehouse.AttachmentsDir, blob))
			if err != nil || sum != f.SHA256 || size != f.Size || h != f.SHA256 {
				t.Errorf("file %s: sha %s size %d (stored file err %v), truth %s %d", f.Serial, sum, size, err, f.SHA256, f.Size)
			}
		}
		wantDetails++
	}

	jobs, _ := e.fake.Serials(sub, fake.ListJobs)
	for _, serial := range jobs {
		jt, err := e.fake.Job(sub, serial)
		if err != nil {
			t.Fatal(err)
		}
		var d map[string]any
		jsonUnmarshal(t, jt.Detail, &d)
		var name, code, desc string
		if err := e.sql().QueryRow(`SELECT name, code, description FROM jobs WHERE job_id = ?`, serial).Scan(&name, &code, &desc); err != nil {
			t.Fatalf("job %s: %v", serial, err)
		}
		if name != str(d["Job Name"]) || code != str(d["Job ID"]) || desc != str(d["Job Listing"]) {
			t.Errorf("job %s: %q %q, truth %v %v", serial, name, code, d["Job Name"], d["Job ID"])
		}
	}

	hires, _ := e.fake.Serials(sub, fake.ListHires)
	if len(hires) == 0 {
		t.Fatal("fake tenant has no hires")
	}
	for _, serial := range hires {
		ht, err := e.fake.Hire(sub, serial)
		if err != nil {
			t.Fatal(err)
		}
		var cand *string
		if err := e.sql().QueryRow(`SELECT candidate_id FROM hires WHERE hire_id = ?`, serial).Scan(&cand); err != nil {
			t.Fatalf("hire %s: %v", serial, err)
		}
		if (cand == nil && ht.CandidateSerial != "") || (cand != nil && *cand != ht.CandidateSerial) {
			t.Errorf("hire %s: candidate %v, truth %q", serial, cand, ht.CandidateSerial)
		}
	}

	// Requests: list pages + every detail + every file, nothing more.
	st := e.fake.Stats(sub)
	want := int64(len(jobs) + wantDetails + len(hires) + wantFiles)
	gotDetail := st.Requests[fake.KindJob] + st.Requests[fake.KindCandidate] + st.Requests[fake.KindHire] + st.Requests[fake.KindAttachment]
	if gotDetail != want || listRequests(st) != int64(1+3+1) {
		t.Errorf("requests: %v; want %d detail+file requests and 5 list pages", st.Requests, want)
	}
	if res.Run.Requests != listRequests(st)+gotDetail || res.Run.Status != "succeeded" || !res.Run.CompleteScan {
		t.Errorf("run = %+v", res.Run)
	}
	if n := e.count(`SELECT count(*) FROM sync_runs WHERE status = 'succeeded' AND details_fetched = ? AND files_downloaded = ?`,
		int64(len(jobs)+wantDetails+len(hires)), wantFiles); n != 1 {
		t.Errorf("sync_runs does not record the run's counts")
	}
}

func TestSyncer_incremental(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 230, nil)
	sub := e.tenant.Subdomain
	e.mustRun(ModeBackfill)
	before := e.count(`SELECT count(*) FROM stage_events`)

	t.Run("unchanged account costs list pages only", func(t *testing.T) {
		e.fake.ResetStats(sub)
		res := e.mustRun(ModeSync)
		st := e.fake.Stats(sub)
		if listRequests(st) != 5 || st.Requests[fake.KindCandidate]+st.Requests[fake.KindJob]+st.Requests[fake.KindHire]+st.Requests[fake.KindAttachment] != 0 {
			t.Errorf("requests %v, want the 5 list pages only", st.Requests)
		}
		if res.Run.RowsNew+res.Run.RowsChanged+res.Run.RowsDeleted != 0 || res.Run.RowsUnchanged == 0 {
			t.Errorf("run = %+v", res.Run)
		}
		if got := e.count(`SELECT count(*) FROM stage_events`); got != before {
			t.Errorf("stage events %d → %d on an unchanged sync", before, got)
		}
	})

	t.Run("unchanged account writes and publishes nothing", func(t *testing.T) {
		o := warehouse.PublishOptions{ReadOnlyPath: e.cfg.Warehouse.PublishedPath, ParquetDir: e.cfg.Warehouse.ParquetDir}
		if _, err := e.db.Publish(context.Background(), o); err != nil {
			t.Fatal(err)
		}
		versions := func() string {
			var v string
			e.sql().QueryRow(`SELECT coalesce(string_agg(table_name || '=' || version, ',' ORDER BY table_name), '')
				FROM stackhouse_internal.table_versions WHERE table_name <> 'sync_runs'`).Scan(&v)
			return v
		}
		before := versions()
		e.mustRun(ModeSync)
		if after := versions(); after != before {
			t.Errorf("table versions %s → %s: an unchanged sync wrote rows", before, after)
		}
		if landed, err := e.db.Landed(context.Background(), sub); err != nil || len(landed) != 0 {
			t.Errorf("landed after the run: %v, %v", landed, err)
		}
		st, err := e.db.Publish(context.Background(), o)
		if err != nil {
			t.Fatal(err)
		}
		// sync_runs changed (the run's record): its file only, not the copy.
		if st.Files != 1 || st.Copied {
			t.Errorf("publish after an unchanged sync: %+v, want 1 Parquet file (sync_runs) and no copy", st)
		}
	})

	serials, _ := e.fake.Serials(sub, fake.ListCandidates)
	jobs, _ := e.fake.Serials(sub, fake.ListJobs)
	e.fake.Advance(3 * time.Hour)
	moved := []string{serials[3], serials[50], serials[120]}
	for _, s := range moved {
		if err := e.fake.MoveStage(sub, s, "Interview"); err != nil {
			t.Fatal(err)
		}
	}
	added, err := e.fake.AddCandidates(sub, 5)
	if err != nil {
		t.Fatal(err)
	}
	deleted := []string{serials[10], serials[200]}
	e.deleteCandidates(deleted)
	if err := e.fake.EditJob(sub, jobs[2], map[string]string{"Salary Range": "$99/hour"}); err != nil {
		t.Fatal(err)
	}
	newFiles := 0
	for _, s := range added {
		ct, _ := e.truthDetail(s)
		newFiles += len(ct.Files)
	}

	e.fake.ResetStats(sub)
	res := e.mustRun(ModeSync)
	st := e.fake.Stats(sub)
	if st.Requests[fake.KindCandidate] != int64(len(moved)+len(added)+len(deleted)) ||
		st.Requests[fake.KindJob] != 1 || st.Requests[fake.KindHire] != 0 ||
		st.Requests[fake.KindAttachment] != int64(newFiles) || listRequests(st) != 5 {
		t.Errorf("requests %v; want 5 list pages, %d candidate details (moved+added+deleted check), 1 job, %d files",
			st.Requests, len(moved)+len(added)+len(deleted), newFiles)
	}
	if res.Run.RowsNew != 5 || res.Run.RowsChanged != 4 || res.Run.RowsDeleted != 2 {
		t.Errorf("run counts new %d changed %d deleted %d; want 5, 4 (3 candidates + 1 job), 2", res.Run.RowsNew, res.Run.RowsChanged, res.Run.RowsDeleted)
	}
	for _, s := range moved {
		ct, _ := e.truthDetail(s)
		last := ct.History[len(ct.History)-1]
		if n := e.count(`SELECT count(*) FROM stage_events WHERE candidate_id = ? AND stage = 'Interview' AND origin = 'note' AND changed_at = ?`, s, last.Time); n != 1 {
			t.Errorf("moved %s: no note event at %v", s, last.Time)
		}
		if n := e.count(`SELECT count(*) FROM candidates WHERE candidate_id = ? AND stage = 'Interview'`, s); n != 1 {
			t.Errorf("moved %s: stage not updated", s)
		}
	}
	for _, s := range added {
		if n := e.count(`SELECT count(*) FROM candidates WHERE candidate_id = ? AND detail_hash = row_hash`, s); n != 1 {
			t.Errorf("added %s missing or without detail", s)
		}
	}
	for _, s := range deleted {
		if n := e.count(`SELECT count(*) FROM candidates WHERE candidate_id = ? AND remote_deleted_at IS NOT NULL`, s); n != 1 {
			t.Errorf("deleted %s not marked", s)
		}
	}
	if n := e.count(`SELECT count(*) FROM jobs WHERE job_id = ? AND salary_range = '$99/hour'`, jobs[2]); n != 1 {
		t.Error("job edit not applied")
	}
	if n := e.count(`SELECT count(*) FROM candidates WHERE remote_deleted_at IS NULL`); n != 230+5-2 {
		t.Errorf("%d live candidates, want 233", n)
	}
}

func TestSyncer_partialScanDeletesNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 330, nil)
	sub := e.tenant.Subdomain
	e.fastRetries()
	e.mustRun(ModeBackfill)
	serials, _ := e.fake.Serials(sub, fake.ListCandidates)
	e.fake.DeleteCandidate(sub, serials[5])
	e.fake.SetFaults(sub, fake.Faults{FailPages: []fake.PageFault{{List: fake.ListCandidates, Page: 3, Times: 1000}}})
	res := e.run(ModeSync)
	if res.Err == nil || !strings.Contains(res.Err.Error(), "page 3") {
		t.Fatalf("err = %v, want a failure naming page 3", res.Err)
	}
	if n := e.count(`SELECT count(*) FROM candidates WHERE remote_deleted_at IS NOT NULL`); n != 0 {
		t.Fatalf("a partial scan marked %d candidates deleted", n)
	}
	if n := e.count(`SELECT count(*) FROM sync_runs WHERE status = 'failed' AND error LIKE '%page 3%'`); n != 1 {
		t.Error("the failed run is not recorded with its error")
	}
	e.fake.SetFaults(sub, fake.Faults{})
	e.mustRun(ModeSync)
	if n := e.count(`SELECT count(*) FROM candidates WHERE remote_deleted_at IS NOT NULL`); n != 1 {
		t.Fatalf("%d deleted after a complete scan, want 1", n)
	}
}

func TestSyncer_faultsSameWarehouse(t *testing.T) {
	t.Parallel()
	clean := newEnv(t, 240, nil)
	clean.mustRun(ModeBackfill)
	want := normalize(clean.dump(), clean.base)
	faults := map[string]fake.Faults{
		"server errors":  {ErrorRate: 0.2},
		"truncated":      {TruncateRate: 0.2},
		"failure on 200": {FailureRate: 0.2},
		"rate limited":   {RateLimit: 150, Burst: 3},
		"latency":        {Latency: 5 * time.Millisecond},
		"failing pages": {FailPages: []fake.PageFault{
			{List: fake.ListCandidates, Page: 2, Times: 3}, {List: fake.ListJobs, Page: 1, Times: 2}, {List: fake.ListHires, Page: 1, Times: 1}}},
	}
	for name, f := range faults {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, 240, nil)
			e.fastRetries()
			e.fake.SetFaults(e.tenant.Subdomain, f)
			e.mustRun(ModeBackfill)
			if got := normalize(e.dump(), e.base); got != want {
				t.Fatalf("warehouse under %q differs from a clean backfill:\n%s", name, firstDiff(got, want))
			}
		})
	}
}

func TestSyncer_malformedQuarantined(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 300, nil)
	sub := e.tenant.Subdomain
	e.fake.SetFaults(sub, fake.Faults{MalformedRate: 0.04})
	bad, _ := e.fake.Malformed(sub, fake.ListCandidates)
	if len(bad) < 3 {
		t.Fatalf("only %d malformed rows", len(bad))
	}
	res := e.mustRun(ModeBackfill)
	if got := e.count(`SELECT count(*) FROM rejected_records WHERE resource = 'candidate'`); got != len(bad) || res.Run.Rejected < int64(len(bad)) {
		t.Fatalf("%d candidate rows quarantined (run says %d), fake broke %d", got, res.Run.Rejected, len(bad))
	}
	for _, b := range bad {
		if b.Kind == fake.MalformedBadTimestamp {
			if n := e.count(`SELECT count(*) FROM rejected_records WHERE remote_id = ? AND reason LIKE '%abc%' AND payload IS NOT NULL`, b.Serial); n != 1 {
				t.Errorf("malformed %s not quarantined with its reason", b.Serial)
			}
		}
	}
	serials, _ := e.fake.Serials(sub, fake.ListCandidates)
	if got := e.count(`SELECT count(*) FROM candidates`); got != len(serials)-len(bad) {
		t.Errorf("%d candidates stored, want %d good ones", got, len(serials)-len(bad))
	}
	e.fake.SetFaults(sub, fake.Faults{})
	e.mustRun(ModeSync)
	if got := e.count(`SELECT count(*) FROM candidates`); got != len(serials) {
		t.Errorf("after the fault cleared: %d candidates, want %d", got, len(serials))
	}
}

func normalize(dump, base string) string { return strings.ReplaceAll(dump, base, "BASE") }

func firstDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := range min(len(al), len(bl)) {
		if al[i] != bl[i] {
			return "got:  " + al[i] + "\nwant: " + bl[i]
		}
	}
	return "lengths differ"
}

func TestSyncer_tail(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 750, nil) // 8 pages
	sub := e.tenant.Subdomain
	e.mustRun(ModeBackfill)
	added, err := e.fake.AddCandidates(sub, 60) // lands on pages 8 and 9
	if err != nil {
		t.Fatal(err)
	}
	e.fake.ResetStats(sub)
	res := e.mustRun(ModeTail)
	st := e.fake.Stats(sub)
	// page 1 for NumPages, then the last two pages; jobs as usual; no hires.
	if st.Requests[fake.KindCandidatesList] != 3 || st.Requests[fake.KindHiresList] != 0 || st.Requests[fake.KindCandidate] != 60 {
		t.Errorf("tail requests %v; want 3 candidate pages and 60 details", st.Requests)
	}
	for _, s := range added {
		if n := e.count(`SELECT count(*) FROM candidates WHERE candidate_id = ? AND detail_hash = row_hash`, s); n != 1 {
			t.Fatalf("added %s not loaded by the tail pass", s)
		}
	}
	if res.Run.CompleteScan || res.Run.RowsDeleted != 0 {
		t.Errorf("a tail pass claimed a complete scan: %+v", res.Run)
	}
	if n := e.count(`SELECT count(*) FROM sync_checkpoints`); n != 0 {
		t.Errorf("a tail pass left %d checkpoints", n)
	}
}

func TestSyncer_massDeletion(t *testing.T) {
	t.Parallel()
	t.Run("over max_deletion_share nothing is marked", func(t *testing.T) {
		e := newEnv(t, 300, nil)
		sub := e.tenant.Subdomain
		e.mustRun(ModeBackfill)
		serials, _ := e.fake.Serials(sub, fake.ListCandidates)
		gone := serials[:80] // 27 % of the account
		e.deleteCandidates(gone)
		e.fake.ResetStats(sub)
		res := e.mustRun(ModeSync)
		if n := e.count(`SELECT count(*) FROM candidates WHERE remote_deleted_at IS NOT NULL`); n != 0 || res.Run.RowsDeleted != 0 {
			t.Fatalf("%d candidates marked deleted (run says %d), want none over the share", n, res.Run.RowsDeleted)
		}
		if !strings.Contains(res.Run.Warning, "deletions held back: 80 of 300") {
			t.Errorf("run warning = %q", res.Run.Warning)
		}
		if n := e.count(`SELECT count(*) FROM sync_runs WHERE run_id = ? AND warning LIKE '%max_deletion_share%'`, res.Run.RunID); n != 1 {
			t.Error("sync_runs does not record the warning")
		}
		if !strings.Contains(e.logs.String(), `"level":"WARN","msg":"deletions held back`) {
			t.Error("no warning logged")
		}
		if n := e.fake.Stats(sub).Requests[fake.KindCandidate]; n != 0 {
			t.Errorf("%d detail requests spent on a drop that is held back", n)
		}
		// Allowed once (sync -allow-mass-deletion), each is checked and marked.
		e.cfg.MaxDeletionShare = 1
		res = e.mustRun(ModeSync)
		if n := e.count(`SELECT count(*) FROM candidates WHERE remote_deleted_at IS NOT NULL`); n != len(gone) || res.Run.Warning != "" {
			t.Fatalf("%d candidates marked deleted (warning %q), want %d", n, res.Run.Warning, len(gone))
		}
	})

	t.Run("more than a thousand are each checked", func(t *testing.T) {
		if testing.Short() {
			t.Skip("backfills and deletes over a thousand applications")
		}
		e := newEnv(t, 1150, nil)
		sub := e.tenant.Subdomain
		e.mustRun(ModeBackfill)
		serials, _ := e.fake.Serials(sub, fake.ListCandidates)
		gone := serials[:1010]
		e.deleteCandidates(gone)
		// Rows the list serves broken are missing from the scan but answer
		// their detail: they must be kept.
		missed := serials[1100:1120]
		e.fake.SetFaults(sub, fake.Faults{MalformedSerials: missed})
		e.cfg.MaxDeletionShare = 1
		e.fake.ResetStats(sub)
		res := e.mustRun(ModeSync)
		if n := e.fake.Stats(sub).Requests[fake.KindCandidate]; n != int64(len(gone)+len(missed)) {
			t.Errorf("%d detail requests, want one deletion check for each of the %d missing", n, len(gone)+len(missed))
		}
		if n := e.count(`SELECT count(*) FROM candidates WHERE remote_deleted_at IS NOT NULL`); n != len(gone) || res.Run.RowsDeleted != int64(len(gone)) {
			t.Errorf("%d marked deleted (run says %d), want %d", n, res.Run.RowsDeleted, len(gone))
		}
		for _, s := range missed {
			if n := e.count(`SELECT count(*) FROM candidates WHERE candidate_id = ? AND remote_deleted_at IS NULL`, s); n != 1 {
				t.Errorf("candidate %s answers its detail but was marked deleted", s)
			}
		}
	})
}

// TestSyncer_sanitizedListRows: list rows from which Sanitize removes
// something (here an SSN column the account added to its list) are stored
// without it; a sync that finds them as they were counts them unchanged
// and asks for nothing but the list, although the scan first compares the
// hash of each row as received; a row that did change is still found.
func TestSyncer_sanitizedListRows(t *testing.T) {
	t.Parallel()
	const ssn = "900-12-3456"
	e := newEnv(t, 150, nil)
	sub := e.tenant.Subdomain
	var rewritten atomic.Int64
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := httptest.NewRecorder()
		e.fake.ServeHTTP(rec, r)
		body := rec.Body.Bytes()
		if strings.HasPrefix(r.URL.Path, "/api/candidates/") {
			body = bytes.ReplaceAll(body, []byte(`"Stage":`), []byte(`"SSN":"`+ssn+`","Stage":`))
			rewritten.Add(int64(bytes.Count(body, []byte(ssn))))
		}
		maps.Copy(w.Header(), rec.Header())
		w.Header().Del("Content-Length")
		w.WriteHeader(rec.Code)
		w.Write(body)
	}))
	defer proxy.Close()
	e.account().BaseURL = proxy.URL
	e.mustRun(ModeBackfill)
	if n := rewritten.Load(); n != 150 {
		t.Fatalf("the proxy added %d SSNs to the 150 list rows", n)
	}
	if n := e.count(`SELECT count(*) FROM candidates WHERE remote_data::VARCHAR LIKE '%` + ssn + `%'`); n != 0 {
		t.Fatalf("%d candidates keep the SSN", n)
	}
	if n := e.count(`SELECT count(*) FROM candidates WHERE remote_data::VARCHAR LIKE '%Candidate Serial%'`); n != 150 {
		t.Fatalf("%d of 150 candidates keep their list row", n)
	}

	e.fake.ResetStats(sub)
	res := e.mustRun(ModeSync)
	st := e.fake.Stats(sub)
	unchanged := res.Run.RowsUnchanged // jobs and hires too
	if unchanged < 150 || res.Run.RowsNew+res.Run.RowsChanged+res.Run.RowsDeleted+res.Run.DetailsFetched != 0 {
		t.Errorf("unchanged sync of sanitized rows: %+v", res.Run)
	}
	if st.Requests[fake.KindCandidate] != 0 {
		t.Errorf("requests %v, want the list pages only", st.Requests)
	}

	serials, err := e.fake.Serials(sub, fake.ListCandidates)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.fake.MoveMany(sub, 1, 0); err != nil {
		t.Fatal(err)
	}
	res = e.mustRun(ModeSync)
	if res.Run.RowsChanged != 1 || res.Run.RowsUnchanged != unchanged-1 || res.Run.DetailsFetched != 1 {
		t.Errorf("sync after one move: %+v", res.Run)
	}
	if n := e.count(`SELECT count(*) FROM candidates WHERE detail_hash IS DISTINCT FROM row_hash`); n != 0 || len(serials) != 150 {
		t.Errorf("%d candidates wait for detail after the sync (of %d)", n, len(serials))
	}
}
