package sync

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	stdsync "sync"
	"sync/atomic"

	"github.com/stackhouse/stackhouse/applicantstack"
	"github.com/stackhouse/stackhouse/schema"
	"github.com/stackhouse/stackhouse/warehouse"
)

// fileFailureLimit is how many downloads in a row may fail with errors
// that may pass (no answer, 5xx after the client's retries) before a run
// stops downloading: the file host is down, and the files wait, pending,
// for the next run instead of every one of them being retried in turn.
const fileFailureLimit = 5

// fileStore is a content-addressed attachment store: a file lives at
// <dir>/<sha[0:2]>/<sha>, so the same bytes are kept once however many
// candidates carry them.
//
// A file is downloaded into memory and hashed, then written to a temporary
// file in its final directory, synced, read back and checked against its
// sha256, and only then renamed to its final name: a file at a final name
// is always complete. A name whose file has the expected size is not
// written again.
type fileStore struct {
	dir  string
	dirs stdsync.Map // subdirectories known to exist
	// createTemp creates the temporary file a blob is written to; tests
	// replace it to fail writes (a full disk).
	createTemp func(dir, pattern string) (blobFile, error)
}

// blobFile is the temporary file a blob is written to.
type blobFile interface {
	io.Writer
	Name() string
	Sync() error
	Close() error
}

func newFileStore(dir string) *fileStore {
	return &fileStore{dir: dir, createTemp: func(dir, pattern string) (blobFile, error) {
		return os.CreateTemp(dir, pattern)
	}}
}

// storeError is a failure to write to the attachments directory (a full
// disk, permissions): it fails the run, where a bad file from the API only
// rejects its record.
type storeError struct{ err error }

func (e *storeError) Error() string { return "attachments_dir: " + e.err.Error() }
func (e *storeError) Unwrap() error { return e.err }

// put stores data, whose sha256 is sha, and returns its path relative to
// the store. Errors are *storeError.
func (fs *fileStore) put(sha string, data []byte) (string, error) {
	rel := filepath.Join(sha[:2], sha)
	final := filepath.Join(fs.dir, rel)
	if st, err := os.Stat(final); err == nil && st.Size() == int64(len(data)) {
		return rel, nil
	}
	sub := filepath.Dir(final)
	if _, ok := fs.dirs.Load(sub); !ok {
		if err := os.MkdirAll(sub, 0o755); err != nil {
			return "", &storeError{err}
		}
		fs.dirs.Store(sub, true)
	}
	if err := fs.write(sub, final, sha, data); err != nil {
		return "", &storeError{err}
	}
	return rel, nil
}

// write writes data to a temporary file in sub, syncs it, checks that
// it reads back as sha and renames it to final. On error the temporary
// file is removed.
func (fs *fileStore) write(sub, final, sha string, data []byte) (err error) {
	f, err := fs.createTemp(sub, ".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			os.Remove(tmp)
		}
	}()
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if got, err := fileSHA(tmp); err != nil {
		return err
	} else if got != sha {
		return fmt.Errorf("%s: wrote %s, read back %s", filepath.Base(final), sha, got)
	}
	if err := os.Chmod(tmp, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, final)
}

// fileSHA returns the hex sha256 of the file at path.
func fileSHA(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// check reports whether the blob of a stored file is in place: it exists
// with the recorded size, and, when hash is set, its bytes hash to sha.
func (fs *fileStore) check(f warehouse.StoredFile, hash bool) bool {
	if f.BlobPath == "" {
		return false
	}
	path := filepath.Join(fs.dir, filepath.FromSlash(f.BlobPath))
	st, err := os.Stat(path)
	if err != nil || !st.Mode().IsRegular() || st.Size() != f.Size {
		return false
	}
	if !hash {
		return true
	}
	got, err := fileSHA(path)
	return err == nil && got == f.SHA256
}

// fileRun is a run's state of its downloads: the files to fetch again and
// the breaker that stops downloads when the file host keeps failing.
type fileRun struct {
	// refetch holds the candidates with files to fetch (pending, or a blob
	// missing or damaged) whose detail this run has not read yet, with
	// their list hash; the details phase removes those it reads.
	mu      stdsync.Mutex
	refetch map[string]string
	bad     map[string]bool // attachments whose blob is missing or damaged, until fetched

	failures atomic.Int64 // temporary failures in a row
	stopped  atomic.Bool
	stop     context.CancelFunc // ends the downloads in flight
	stopCtx  context.Context
}

// planFiles reads the account's stored files and decides which to fetch:
// files never stored, and files whose blob is missing or has the wrong size
// (or, in a full run, the wrong sha256). It returns attachment_id → sha256
// of the files in place, which are not fetched again.
func (r *runner) planFiles(ctx context.Context) (map[string]string, error) {
	known := map[string]string{}
	fr := r.fileRun
	fr.refetch, fr.bad = map[string]string{}, map[string]bool{}
	err := r.db.StoredFiles(ctx, r.a.Subdomain, func(f warehouse.StoredFile) error {
		if f.SHA256 != "" && r.files.check(f, r.mode == ModeFull) {
			known[f.AttachmentID] = f.SHA256
			return nil
		}
		if f.SHA256 != "" {
			fr.bad[f.AttachmentID] = true
			// A damaged blob of the right size would be kept by put.
			os.Remove(filepath.Join(r.files.dir, filepath.FromSlash(f.BlobPath)))
		}
		if st, found := r.cstates.Get(f.CandidateID); found && !st.Deleted {
			fr.refetch[f.CandidateID] = st.RowHash
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(fr.bad) > 0 {
		r.log.Warn("attachments missing or damaged in attachments_dir: fetching them again", slog.Int("files", len(fr.bad)))
	}
	return known, nil
}

// detailRead notes that the candidate's detail was read (or given up) by
// this run: its files were handled with it.
func (fr *fileRun) detailRead(serial string) {
	if fr == nil {
		return
	}
	fr.mu.Lock()
	delete(fr.refetch, serial)
	fr.mu.Unlock()
}

// refetchFiles reads the detail (for fresh signed links) of the candidates
// whose files are still to fetch and whose detail the run did not read.
func (r *runner) refetchFiles(ctx context.Context, known map[string]string, knownMu *stdsync.Mutex) error {
	fr := r.fileRun
	if fr == nil || len(fr.refetch) == 0 || fr.stopped.Load() {
		return nil
	}
	pending := make([]warehouse.PendingDetail, 0, len(fr.refetch))
	for serial, h := range fr.refetch {
		pending = append(pending, warehouse.PendingDetail{Serial: serial, RowHash: h})
	}
	r.prog.DetailsTotal.Add(int64(len(pending)))
	err := r.each(ctx, len(pending), func(ctx context.Context, i int) error {
		if fr.stopped.Load() {
			return nil
		}
		_, err := r.detail(ctx, pending[i], known, knownMu)
		r.prog.DetailsDone.Add(1)
		return err
	})
	if err != nil {
		return err
	}
	return r.w.flush(ctx)
}

var bufPool = stdsync.Pool{New: func() any { return new(bytes.Buffer) }}

// errFilesStopped is the error of a download not made because the run
// stopped downloading.
var errFilesStopped = errors.New("downloads stopped for this run")

// download fetches a signed link into the store and fills the attachment's
// file columns. A *storeError fails the run; an error that IsTemporary (or
// errFilesStopped) leaves the file pending for the next run; any other
// error is the file's own.
func (r *runner) download(ctx context.Context, url string, att *schema.Attachment) error {
	fr := r.fileRun
	if fr.stopped.Load() {
		return errFilesStopped
	}
	dctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(fr.stopCtx, cancel)()
	buf := bufPool.Get().(*bytes.Buffer)
	buf.Reset()
	defer bufPool.Put(buf)
	d, err := r.c.Download(dctx, url, buf)
	if err != nil {
		if ctx.Err() == nil && fr.stopped.Load() {
			return errFilesStopped
		}
		if applicantstack.IsTemporary(err) && ctx.Err() == nil {
			if fr.failures.Add(1) >= fileFailureLimit && fr.stopped.CompareAndSwap(false, true) {
				fr.stop()
				r.warn(fmt.Sprintf("downloads stopped for this run after %d failed in a row: the file host is failing; "+
					"the files stay pending for the next run", fileFailureLimit), slog.String(keyError, err.Error()))
			}
		}
		return fmt.Errorf("attachment %s: %w", att.AttachmentID, err)
	}
	fr.failures.Store(0)
	rel, err := r.files.put(d.SHA256, buf.Bytes())
	if err != nil {
		return fmt.Errorf("attachment %s: %w", att.AttachmentID, err)
	}
	fr.mu.Lock()
	delete(fr.bad, att.AttachmentID)
	fr.mu.Unlock()
	r.counts.files.Add(1)
	r.prog.Files.Add(1)
	att.SHA256, att.SizeBytes, att.BlobPath = d.SHA256, d.Bytes, filepath.ToSlash(rel)
	att.ContentType = d.ContentType
	if att.FileName == "" {
		att.FileName = d.FileName
	}
	att.DownloadedAt = r.s.Now().UTC()
	return nil
}

// filesPending counts the account's files left to fetch after the run:
// never stored, plus stored ones whose blob the run found damaged and did
// not fetch again.
func (r *runner) filesPending(ctx context.Context) error {
	if r.fileRun == nil {
		return nil
	}
	n, err := r.db.PendingFiles(ctx, r.a.Subdomain)
	if err != nil {
		return err
	}
	r.fileRun.mu.Lock()
	n += int64(len(r.fileRun.bad))
	r.fileRun.mu.Unlock()
	r.counts.filesPending.Store(n)
	return nil
}
