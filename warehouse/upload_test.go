package warehouse

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stackhouse/stackhouse/schema"
	"github.com/stackhouse/stackhouse/warehouse/s3"
	"github.com/stackhouse/stackhouse/warehouse/s3/s3test"
)

func openBucket(t *testing.T, endpoint, url string) *s3.Bucket {
	t.Helper()
	b, err := s3.NewBucket(url)
	if err != nil {
		t.Fatal(err)
	}
	b.Endpoint, b.PathStyle, b.MaxAttempts = endpoint, true, 1
	if err := b.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	return b
}

// remoteKeys lists what the remote holds: every table's file per account,
// and a manifest per account.
func remoteKeys(prefix string, accounts ...string) []string {
	var keys []string
	for _, a := range accounts {
		for _, table := range schema.ContractTables() {
			keys = append(keys, prefix+ParquetKey(table, a))
		}
		keys = append(keys, prefix+ManifestKey(a))
	}
	slices.Sort(keys)
	return keys
}

func manifestOf(t *testing.T, srv *s3test.Server, key string) Manifest {
	t.Helper()
	var m Manifest
	if err := json.Unmarshal(srv.Object(t, "lake", key), &m); err != nil {
		t.Fatalf("manifest %s: %v", key, err)
	}
	return m
}

func TestDB_Publish_remote(t *testing.T) {
	ctx := context.Background()
	srv := s3test.Start(t, "lake", "other")
	db := openTest(t)
	seed(t, db, "acme", 0, 5, t0)
	seed(t, db, "beta", 0, 3, t0)
	root := t.TempDir()
	bucket := openBucket(t, srv.URL, "s3://lake/hr")
	o := PublishOptions{ParquetDir: root, Remote: bucket, Now: func() time.Time { return t1 }}

	st, err := db.Publish(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	tables := len(schema.ContractTables())
	if st.Uploaded != 2*tables || st.Manifests != 2 || st.UploadedBytes <= 0 {
		t.Errorf("first upload: %+v, want %d files and 2 manifests", st, 2*tables)
	}
	if got, want := srv.Keys(t, "lake", ""), remoteKeys("hr/", "acme", "beta"); !slices.Equal(got, want) {
		t.Fatalf("bucket holds %v\nwant %v", got, want)
	}
	for _, a := range []string{"acme", "beta"} {
		for _, table := range schema.ContractTables() {
			local, _ := os.ReadFile(ParquetFile(root, table, a))
			if remote := srv.Object(t, "lake", "hr/"+ParquetKey(table, a)); !bytes.Equal(local, remote) {
				t.Errorf("%s of %s: remote %d bytes differ from local %d", table, a, len(remote), len(local))
			}
		}
	}
	m := manifestOf(t, srv, "hr/"+ManifestKey("acme"))
	if m.AccountID != "acme" || !m.PublishedAt.Equal(t1) || len(m.Tables) != tables ||
		m.Tables["candidates"].Rows != 5 || m.Tables["candidates"].Key != "candidates/account_id=acme/data.parquet" {
		t.Errorf("acme's manifest: %+v", m)
	}

	t.Run("unchanged sends nothing", func(t *testing.T) {
		before := srv.Requests()
		st, err := db.Publish(ctx, o)
		if err != nil || st.Uploaded != 0 || st.Manifests != 0 || srv.Requests() != before {
			t.Errorf("%+v, %v; %d requests", st, err, srv.Requests()-before)
		}
	})

	t.Run("a change sends the changed files, then the manifest", func(t *testing.T) {
		betaManifest := srv.Object(t, "lake", "hr/"+ManifestKey("beta"))
		if err := db.Land(ctx, &Batch{Account: "acme", At: t1, Candidates: []schema.Candidate{candidate("a4new")}}); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Merge(ctx, "acme"); err != nil {
			t.Fatal(err)
		}
		st, err := db.Publish(ctx, o)
		if err != nil || st.Uploaded != 1 || st.Manifests != 1 {
			t.Fatalf("%+v, %v; want acme's candidates and its manifest", st, err)
		}
		if m := manifestOf(t, srv, "hr/"+ManifestKey("acme")); m.Tables["candidates"].Rows != 6 {
			t.Errorf("acme's manifest after the change: %+v", m.Tables["candidates"])
		}
		if !bytes.Equal(betaManifest, srv.Object(t, "lake", "hr/"+ManifestKey("beta"))) {
			t.Error("beta's manifest was rewritten")
		}
	})

	t.Run("an upload cut short leaves the old manifest", func(t *testing.T) {
		oldManifest := srv.Object(t, "lake", "hr/"+ManifestKey("beta"))
		oldFile := srv.Object(t, "lake", "hr/"+ParquetKey("candidates", "beta"))
		seed(t, db, "beta", 3, 2, t1) // changes several of beta's tables
		srv.FailPutsAfter(1)
		_, err := db.Publish(ctx, o)
		if err == nil || !strings.Contains(err.Error(), "InternalError") {
			t.Fatalf("err = %v, want the store's refusal", err)
		}
		if !bytes.Equal(oldManifest, srv.Object(t, "lake", "hr/"+ManifestKey("beta"))) {
			t.Error("the manifest changed although the upload failed")
		}
		// Every file in the bucket is whole: the old or the new one.
		newFile, _ := os.ReadFile(ParquetFile(root, "candidates", "beta"))
		if got := srv.Object(t, "lake", "hr/"+ParquetKey("candidates", "beta")); !bytes.Equal(got, oldFile) && !bytes.Equal(got, newFile) {
			t.Error("beta's candidates file is neither the old nor the new one")
		}
		srv.FailPutsAfter(-1)
		st, err := db.Publish(ctx, o)
		if err != nil || st.Manifests != 1 || st.Uploaded < 1 {
			t.Fatalf("retry: %+v, %v", st, err)
		}
		if m := manifestOf(t, srv, "hr/"+ManifestKey("beta")); m.Tables["candidates"].Rows != 5 {
			t.Errorf("beta's manifest after the retry: %+v", m.Tables["candidates"])
		}
		for _, table := range schema.ContractTables() {
			local, _ := os.ReadFile(ParquetFile(root, table, "beta"))
			if !bytes.Equal(local, srv.Object(t, "lake", "hr/"+ParquetKey(table, "beta"))) {
				t.Errorf("%s of beta differs from the local file after the retry", table)
			}
		}
	})

	t.Run("bad credentials publish nothing", func(t *testing.T) {
		t.Setenv("AWS_SECRET_ACCESS_KEY", "wrong-secret-value")
		bad := openBucket(t, srv.URL, "s3://other/hr")
		_, err := db.Publish(ctx, PublishOptions{ParquetDir: root, Remote: bad})
		if err == nil || !strings.Contains(err.Error(), "SignatureDoesNotMatch") || !strings.Contains(err.Error(), "s3://other/hr") {
			t.Fatalf("err = %v", err)
		}
		if strings.Contains(err.Error(), "wrong-secret-value") {
			t.Error("the error shows the secret")
		}
		if keys := srv.Keys(t, "other", ""); len(keys) != 0 {
			t.Errorf("visible after a refused publish: %v", keys)
		}
	})

	t.Run("unreachable endpoint", func(t *testing.T) {
		gone := openBucket(t, s3test.Unreachable(t), "s3://other/hr")
		_, err := db.Publish(ctx, PublishOptions{ParquetDir: root, Remote: gone})
		if err == nil || !strings.Contains(err.Error(), "connection refused") {
			t.Fatalf("err = %v", err)
		}
	})

	t.Run("a remote needs the local tree", func(t *testing.T) {
		if _, err := db.Publish(ctx, PublishOptions{Remote: bucket}); err == nil {
			t.Error("Publish accepted a remote without ParquetDir")
		}
	})
}
