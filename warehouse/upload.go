package warehouse

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/stackhouse/stackhouse/schema"
)

// Remote is an object store the Parquet tree is mirrored to after each
// publish (an s3.Bucket).
type Remote interface {
	// URL names the remote for messages and for the record of what it
	// holds (s3://bucket/prefix); it carries no credentials.
	URL() string
	// Put stores size bytes of r at key, relative to the remote's root,
	// replacing the object there in one step: a reader gets the old or the
	// new object, never part of one.
	Put(ctx context.Context, key string, r io.ReadSeeker, size int64) error
	// Delete removes the object at key, relative to the remote's root; a
	// key that holds nothing is no error.
	Delete(ctx context.Context, key string) error
}

// ManifestKey is where the manifest of account lies in a remote:
// _manifests/<account>.json. The leading underscore keeps it out of
// Spark's, Trino's and Hive's listings.
func ManifestKey(account string) string { return "_manifests/" + account + ".json" }

// ParquetKey is the key of the Parquet file of account's rows of table in
// a remote: the same relative path as in the local tree.
func ParquetKey(table, account string) string { return FileKey(table, account, dataFile) }

// FileKey is the key of file name of account's rows of table in a remote
// (see AccountFile).
func FileKey(table, account, name string) string {
	return table + "/account_id=" + account + "/" + name
}

// Manifest says what a remote holds of one account after a complete
// upload. It is written after every file it lists, so a reader that finds
// it can trust each listed file to be whole and at least as new as the
// manifest says.
//
// Format 2 lists every file of a table (Files): a table whose rows are
// published by month (DefaultPartRows) has several, and then no Key. A
// table in one file has its Key as in format 1.
type Manifest struct {
	Format      int                      `json:"format"` // 2
	AccountID   string                   `json:"account_id"`
	PublishedAt time.Time                `json:"published_at"`
	Tables      map[string]ManifestTable `json:"tables"`
}

// ManifestTable is one table's files in a Manifest, with their rows and
// bytes summed.
type ManifestTable struct {
	Key         string         `json:"key,omitempty"` // the table's one file; "" when it has several
	Rows        int64          `json:"rows"`
	Bytes       int64          `json:"bytes"`
	Fingerprint string         `json:"fingerprint"` // changes when the table's rows change
	Files       []ManifestFile `json:"files"`
}

// ManifestFile is one Parquet file of a ManifestTable.
type ManifestFile struct {
	Key         string `json:"key"`
	Rows        int64  `json:"rows"`
	Bytes       int64  `json:"bytes"`
	Fingerprint string `json:"fingerprint"` // changes when the file's rows change
}

// uploadStats says what an upload sent.
type uploadStats struct {
	files, manifests int
	bytes            int64
}

// uploadItem is one file of a table of an account.
type uploadItem struct {
	table, account, name, fingerprint string
}

// remoteFiles returns the files the records of a remote (sent) list for
// table of account: its month files (recordedFiles), and its one file
// whenever it is recorded under the table, also beside month files (the
// file left by a table that went over to months, to be deleted).
func remoteFiles(sent map[string]string, table, account string) []string {
	files := recordedFiles(sent, table, account)
	if _, ok := sent[account+"/"+table]; ok {
		files[dataFile] = ""
	}
	return slices.Sorted(maps.Keys(files))
}

// upload mirrors the accounts' files of the local tree at root to remote:
// every file whose rows changed since the remote last received it, then
// the manifest of each account whose files changed, then, last, deletes
// the files an account's tables no longer have (a month left empty, or
// the one file of a table now published by month). What the remote
// received is recorded per file as soon as it is stored, so an upload cut
// short (a refused key, a lost connection) costs the next publish only
// what is still missing, and no manifest is written for an account until
// all its files are there.
func (db *DB) upload(ctx context.Context, root string, remote Remote, accounts []string, now time.Time) (uploadStats, error) {
	var st uploadStats
	local, err := filepath.Abs(root)
	if err != nil {
		return st, err
	}
	target := remote.URL()
	have, err := db.publishedAt(ctx, local)
	if err != nil {
		return st, err
	}
	sent, err := db.publishedAt(ctx, target)
	if err != nil {
		return st, err
	}
	var (
		todo, stale []uploadItem
		manifests   []*Manifest
		manifestFP  = map[string]string{} // account → the fingerprint its manifest covers
	)
	for _, a := range accounts {
		m := &Manifest{Format: 2, AccountID: a, Tables: map[string]ManifestTable{}}
		sum := md5.New()
		for _, t := range schema.ContractTables() {
			fp, ok := have[a+"/"+t]
			if !ok {
				return st, fmt.Errorf("%s of %s: not in the local tree", t, a)
			}
			fmt.Fprintf(sum, "%s=%s\n", t, fp)
			mt := ManifestTable{Fingerprint: fp}
			files := recordedFiles(have, t, a)
			names := slices.Sorted(maps.Keys(files))
			for _, name := range names {
				ffp := files[name]
				fmt.Fprintf(sum, "%s/%s=%s\n", t, name, ffp)
				mt.Files = append(mt.Files, ManifestFile{Key: FileKey(t, a, name), Fingerprint: ffp})
				if sent[a+"/"+fileRecord(t, name)] != ffp {
					todo = append(todo, uploadItem{t, a, name, ffp})
				}
			}
			if len(names) == 1 && names[0] == dataFile {
				mt.Key = ParquetKey(t, a)
			}
			m.Tables[t] = mt
			for _, name := range remoteFiles(sent, t, a) {
				if _, ok := files[name]; !ok {
					stale = append(stale, uploadItem{table: t, account: a, name: name})
				}
			}
		}
		// The manifest's own fingerprint covers every file it lists.
		fp := hex.EncodeToString(sum.Sum(nil))
		if sent[a+"/"+manifestTable] != fp {
			manifests = append(manifests, m)
			manifestFP[a] = fp
		}
	}
	for _, it := range todo {
		n, err := db.uploadFile(ctx, remote, AccountFile(root, it.table, it.account, it.name), FileKey(it.table, it.account, it.name))
		if err != nil {
			return st, fmt.Errorf("upload to %s: %w", target, err)
		}
		if err := db.recordPublished(ctx, target, it.account, fileRecord(it.table, it.name), it.fingerprint); err != nil {
			return st, err
		}
		st.files++
		st.bytes += n
	}
	for _, m := range manifests {
		a := m.AccountID
		for t, mt := range m.Tables {
			for i, mf := range mt.Files {
				f := filepath.Join(root, filepath.FromSlash(mf.Key))
				info, err := os.Stat(f)
				if err != nil {
					return st, err
				}
				mf.Bytes = info.Size()
				if err := db.sql.QueryRowContext(ctx, `SELECT coalesce(sum(num_rows), 0) FROM parquet_file_metadata(?)`, f).Scan(&mf.Rows); err != nil {
					return st, fmt.Errorf("%s of %s: %w", t, a, err)
				}
				mt.Files[i] = mf
				mt.Rows += mf.Rows
				mt.Bytes += mf.Bytes
			}
			m.Tables[t] = mt
		}
		m.PublishedAt = now.UTC()
		body, err := json.MarshalIndent(m, "", "  ")
		if err != nil {
			return st, err
		}
		if err := remote.Put(ctx, ManifestKey(a), bytes.NewReader(body), int64(len(body))); err != nil {
			return st, fmt.Errorf("upload to %s: %w", target, err)
		}
		if err := db.recordPublished(ctx, target, a, manifestTable, manifestFP[a]); err != nil {
			return st, err
		}
		st.manifests++
		st.bytes += int64(len(body))
	}
	// After the manifests, which no longer list them.
	for _, it := range stale {
		if err := remote.Delete(ctx, FileKey(it.table, it.account, it.name)); err != nil {
			return st, fmt.Errorf("upload to %s: %w", target, err)
		}
		if err := db.forgetFile(ctx, target, it.account, it.table, it.name); err != nil {
			return st, err
		}
	}
	return st, nil
}

// manifestTable is the table_name under which the published table records
// an account's manifest.
const manifestTable = "_manifest"

func (db *DB) uploadFile(ctx context.Context, remote Remote, path, key string) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return 0, err
	}
	return info.Size(), remote.Put(ctx, key, f, info.Size())
}

// publishedAt returns what the published table records for target:
// "account/table" → fingerprint.
func (db *DB) publishedAt(ctx context.Context, target string) (map[string]string, error) {
	return stringMap(ctx, db.sql, `SELECT account_id || '/' || table_name, fingerprint
		FROM `+landSchema+`.published WHERE target = ?`, target)
}
