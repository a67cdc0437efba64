package sync

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/stackhouse/stackhouse/schema"
)

// fileStore is a content-addressed attachment store: a file lives at
// <dir>/<sha[0:2]>/<sha>, so the same bytes are kept once however many
// candidates carry them.
type fileStore struct {
	dir string
}

// download fetches a signed link into the store and fills the attachment's
// file columns. A partial download never lands under its final name.
func (r *runner) download(ctx context.Context, url string, att *schema.Attachment) error {
	tmpDir := filepath.Join(r.files.dir, ".tmp")
	if err := os.MkdirAll(tmpDir, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(tmpDir, "dl-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	d, err := r.c.Download(ctx, url, f)
	if cerr := f.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("attachment %s: %w", att.AttachmentID, err)
	}
	rel := filepath.Join(d.SHA256[:2], d.SHA256)
	final := filepath.Join(r.files.dir, rel)
	if _, err := os.Stat(final); err != nil {
		if err := os.MkdirAll(filepath.Dir(final), 0o755); err != nil {
			return err
		}
		if err := os.Rename(f.Name(), final); err != nil {
			return err
		}
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
