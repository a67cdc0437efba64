package sync

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	stdsync "sync"

	"github.com/stackhouse/stackhouse/schema"
)

// fileStore is a content-addressed attachment store: a file lives at
// <dir>/<sha[0:2]>/<sha>, so the same bytes are kept once however many
// candidates carry them.
//
// A file is downloaded into memory, hashed, then written under its final
// name unless a file of that name and size is already there. A write cut
// short by a crash leaves a file of the wrong size, which the next download
// of the same bytes rewrites; the warehouse only records a file after its
// write completed.
type fileStore struct {
	dir  string
	dirs stdsync.Map // subdirectories known to exist
}

func (fs *fileStore) put(sha string, data []byte) (string, error) {
	rel := filepath.Join(sha[:2], sha)
	final := filepath.Join(fs.dir, rel)
	if st, err := os.Stat(final); err == nil && st.Size() == int64(len(data)) {
		return rel, nil
	}
	sub := filepath.Dir(final)
	if _, ok := fs.dirs.Load(sub); !ok {
		if err := os.MkdirAll(sub, 0o755); err != nil {
			return "", err
		}
		fs.dirs.Store(sub, true)
	}
	return rel, os.WriteFile(final, data, 0o644)
}

var bufPool = stdsync.Pool{New: func() any { return new(bytes.Buffer) }}

// download fetches a signed link into the store and fills the attachment's
// file columns.
func (r *runner) download(ctx context.Context, url string, att *schema.Attachment) error {
	buf := bufPool.Get().(*bytes.Buffer)
	buf.Reset()
	defer bufPool.Put(buf)
	d, err := r.c.Download(ctx, url, buf)
	if err != nil {
		return fmt.Errorf("attachment %s: %w", att.AttachmentID, err)
	}
	rel, err := r.files.put(d.SHA256, buf.Bytes())
	if err != nil {
		return fmt.Errorf("attachment %s: %w", att.AttachmentID, err)
	}
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
