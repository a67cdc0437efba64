package sync

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/stackhouse/stackhouse/applicantstack"
	"github.com/stackhouse/stackhouse/applicantstack/fake"
)

// truthFiles returns file serial → sha256 of every file of the fake's
// candidates, and how many candidates have files.
func (e *env) truthFiles() (map[string]string, int) {
	e.t.Helper()
	serials, _ := e.fake.Serials(e.tenant.Subdomain, fake.ListCandidates)
	files, withFiles := map[string]string{}, 0
	for _, s := range serials {
		ct, _ := e.truthDetail(s)
		for _, f := range ct.Files {
			files[f.Serial] = f.SHA256
		}
		if len(ct.Files) > 0 {
			withFiles++
		}
	}
	return files, withFiles
}

// assertFilesStored checks that every file of the fake is recorded with
// its sha256 and that its blob holds exactly those bytes.
func (e *env) assertFilesStored(t *testing.T, want map[string]string) {
	t.Helper()
	for serial, sum := range want {
		var got, blob string
		if err := e.sql().QueryRow(`SELECT coalesce(sha256, ''), coalesce(blob_path, '') FROM attachments WHERE attachment_id = ?`,
			serial).Scan(&got, &blob); err != nil {
			t.Fatalf("file %s: %v", serial, err)
		}
		if got != sum {
			t.Fatalf("file %s: sha256 %q, want %s", serial, got, sum)
		}
		if h, err := fileSHA(filepath.Join(e.cfg.Warehouse.AttachmentsDir, blob)); err != nil || h != sum {
			t.Fatalf("file %s: blob %s hashes to %s (%v), want %s", serial, blob, h, err, sum)
		}
	}
}

func TestSyncer_fileHostDown(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 300, nil)
	sub := e.tenant.Subdomain
	e.fastRetries()
	want, withFiles := e.truthFiles()
	e.fake.SetFaults(sub, fake.Faults{DropFiles: true})
	res := e.mustRun(ModeBackfill)

	if n := e.count(`SELECT count(*) FROM rejected_records WHERE resource = 'attachment'`); n != 0 {
		t.Errorf("%d files rejected: a file host that does not answer is not a bad record", n)
	}
	if res.Run.FilesPending != int64(len(want)) || res.Run.FilesDownloaded != 0 {
		t.Errorf("run: %d files pending, %d downloaded; want all %d pending", res.Run.FilesPending, res.Run.FilesDownloaded, len(want))
	}
	if n := e.count(`SELECT files_pending FROM sync_runs WHERE run_id = ?`, res.Run.RunID); n != len(want) {
		t.Errorf("sync_runs.files_pending = %d, want %d", n, len(want))
	}
	if n, err := e.db.PendingFiles(context.Background(), sub); err != nil || n != int64(len(want)) {
		t.Errorf("PendingFiles = %d, %v; want %d", n, err, len(want))
	}
	// The run stops downloading after fileFailureLimit failures in a row:
	// at most those and the ones in flight are tried, each with its
	// retries, each of which net/http may send twice (it retries a GET
	// once when a reused connection closes before answering).
	tried := e.fake.Stats(sub).Requests[fake.KindAttachment]
	if most := int64((fileFailureLimit + e.account().Concurrency) * (1 + applicantstack.FileConnRetries) * 2); tried > most {
		t.Errorf("%d download attempts for %d files: the run kept trying a host that is down (at most %d)", tried, len(want), most)
	}
	if !strings.Contains(res.Run.Warning, "downloads stopped") {
		t.Errorf("run warning = %q, want it to say downloads stopped", res.Run.Warning)
	}
	if n := e.count(`SELECT count(*) FROM hires`); n == 0 {
		t.Error("the run did not finish the rest (no hires)")
	}

	// The host is back: the next run stores every file, fetching the detail
	// of each candidate with files for fresh links.
	e.fake.SetFaults(sub, fake.Faults{})
	e.fake.ResetStats(sub)
	res = e.mustRun(ModeSync)
	e.assertFilesStored(t, want)
	st := e.fake.Stats(sub)
	if st.Requests[fake.KindAttachment] != int64(len(want)) || st.Requests[fake.KindCandidate] != int64(withFiles) {
		t.Errorf("requests %v; want %d files and %d candidate details", st.Requests, len(want), withFiles)
	}
	if res.Run.FilesPending != 0 || res.Run.FilesDownloaded != int64(len(want)) {
		t.Errorf("run: %d pending, %d downloaded; want 0 and %d", res.Run.FilesPending, res.Run.FilesDownloaded, len(want))
	}
}

// fullDisk is a temp file that accepts writes until the disk's shared
// budget is spent, then writes what fits and fails with ENOSPC.
type fullDisk struct {
	*os.File
	left *atomic.Int64
}

func (f fullDisk) Write(p []byte) (int, error) {
	n := min(int64(len(p)), max(f.left.Add(-int64(len(p)))+int64(len(p)), 0))
	w, err := f.File.Write(p[:n])
	if err == nil && w < len(p) {
		err = &os.PathError{Op: "write", Path: f.Name(), Err: syscall.ENOSPC}
	}
	return w, err
}

func TestSyncer_fullDisk(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 200, nil)
	want, _ := e.truthFiles()
	var left atomic.Int64
	left.Store(20 << 10) // room for a few files
	e.s.createBlob = func(dir, pattern string) (blobFile, error) {
		f, err := os.CreateTemp(dir, pattern)
		if err != nil {
			return nil, err
		}
		return fullDisk{f, &left}, nil
	}
	res := e.run(ModeBackfill)
	if res.Err == nil || !strings.Contains(res.Err.Error(), "no space left on device") {
		t.Fatalf("run error = %v, want the run to fail with ENOSPC", res.Err)
	}
	if n := e.count(`SELECT count(*) FROM sync_runs WHERE status = 'failed' AND error LIKE '%attachments_dir%no space left%'`); n != 1 {
		t.Error("sync_runs does not record the failed run with its error")
	}
	if n := e.count(`SELECT count(*) FROM rejected_records WHERE resource = 'attachment'`); n != 0 {
		t.Errorf("%d files rejected: a full disk is not a bad record", n)
	}
	// Every file at a final name is complete: its bytes hash to its name.
	blobs := 0
	filepath.WalkDir(e.cfg.Warehouse.AttachmentsDir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if strings.HasPrefix(d.Name(), ".tmp-") {
			t.Errorf("temporary file %s left behind", path)
			return nil
		}
		blobs++
		if h, err := fileSHA(path); err != nil || h != d.Name() {
			t.Errorf("blob %s is incomplete: its bytes hash to %s", path, h)
		}
		return nil
	})
	if blobs == 0 || blobs >= len(want) {
		t.Fatalf("%d blobs stored before the disk filled, want some of %d", blobs, len(want))
	}

	// Space is back: the next run stores everything.
	e.s.createBlob = nil
	e.mustRun(ModeSync)
	e.assertFilesStored(t, want)
}

func TestSyncer_repairsBlobs(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 200, nil)
	sub := e.tenant.Subdomain
	want, _ := e.truthFiles()
	e.mustRun(ModeBackfill)
	// One blob cut short, one gone; both of candidates with a single file.
	rows, err := e.sql().Query(`SELECT blob_path FROM attachments WHERE sha256 IN
		(SELECT sha256 FROM attachments GROUP BY sha256 HAVING count(*) = 1) ORDER BY attachment_id LIMIT 2`)
	if err != nil {
		t.Fatal(err)
	}
	var damaged []string
	for rows.Next() {
		var p string
		rows.Scan(&p)
		damaged = append(damaged, filepath.Join(e.cfg.Warehouse.AttachmentsDir, p))
	}
	rows.Close()
	if len(damaged) != 2 {
		t.Fatalf("found %d blobs to damage", len(damaged))
	}
	if err := os.Truncate(damaged[0], 10); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(damaged[1]); err != nil {
		t.Fatal(err)
	}
	e.fake.ResetStats(sub)
	res := e.mustRun(ModeSync)
	e.assertFilesStored(t, want)
	if n := e.fake.Stats(sub).Requests[fake.KindAttachment]; n != 2 || res.Run.FilesDownloaded != 2 {
		t.Errorf("%d files fetched (run says %d), want the 2 damaged ones", n, res.Run.FilesDownloaded)
	}

	// Bytes changed in place, size kept: a full run checks every sha256.
	b, err := os.ReadFile(damaged[0])
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0xff
	if err := os.WriteFile(damaged[0], b, 0o644); err != nil {
		t.Fatal(err)
	}
	e.fake.ResetStats(sub)
	e.mustRun(ModeFull)
	e.assertFilesStored(t, want)
	if n := e.fake.Stats(sub).Requests[fake.KindAttachment]; n != 1 {
		t.Errorf("%d files fetched by the full run, want the 1 damaged", n)
	}
}
