package s3_test

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/stackhouse/stackhouse/warehouse/s3"
	"github.com/stackhouse/stackhouse/warehouse/s3/s3test"
)

func TestNewBucket(t *testing.T) {
	for _, tc := range []struct {
		url, name, prefix, err string
	}{
		{"s3://lake", "lake", "", ""},
		{"s3://lake/", "lake", "", ""},
		{"s3://lake/hr/stackhouse", "lake", "hr/stackhouse", ""},
		{"s3://lake//hr//x/", "lake", "hr/x", ""},
		{"gs://lake/x", "", "", "not an s3:// URL"},
		{"https://lake.s3.amazonaws.com/x", "", "", "not an s3:// URL"},
		{"s3:///x", "", "", "want s3://bucket/prefix"},
		{"s3://key:secret@lake/x", "", "", "want s3://bucket/prefix"},
		{"s3://lake/x?region=eu", "", "", "want s3://bucket/prefix"},
	} {
		t.Run(tc.url, func(t *testing.T) {
			b, err := s3.NewBucket(tc.url)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				if strings.Contains(err.Error(), "secret") {
					t.Errorf("the error repeats the URL's password: %v", err)
				}
				return
			}
			if err != nil || b.Name != tc.name || b.Prefix != tc.prefix {
				t.Fatalf("%+v, %v; want %s %q", b, err, tc.name, tc.prefix)
			}
		})
	}
	if _, err := s3.NewBucket("gs://x/y"); !errors.Is(err, s3.ErrScheme) {
		t.Errorf("gs:// does not wrap ErrScheme: %v", err)
	}
}

func TestIsURL(t *testing.T) {
	for in, want := range map[string]bool{
		"s3://b/p": true, "gs://b": true, "file:///tmp/x": true, "s3+x://b": true,
		"data/parquet": false, "/abs/path": false, "./s3:/x": false, "s3:/b": false, "C:\\x": false, "://x": false, "1s3://b": false,
	} {
		if got := s3.IsURL(in); got != want {
			t.Errorf("IsURL(%q) = %v, want %v", in, got, want)
		}
	}
}

func open(t *testing.T, srv *s3test.Server, url string) *s3.Bucket {
	t.Helper()
	b, err := s3.NewBucket(url)
	if err != nil {
		t.Fatal(err)
	}
	b.Endpoint, b.PathStyle, b.MaxAttempts = srv.URL, true, 1
	if err := b.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	return b
}

func TestBucket_Put(t *testing.T) {
	ctx := context.Background()
	srv := s3test.Start(t, "lake")
	b := open(t, srv, "s3://lake/hr/stackhouse")

	t.Run("small", func(t *testing.T) {
		body := []byte("hello parquet")
		if err := b.Put(ctx, "jobs/account_id=acme/data.parquet", bytes.NewReader(body), int64(len(body))); err != nil {
			t.Fatal(err)
		}
		if got := srv.Object(t, "lake", "hr/stackhouse/jobs/account_id=acme/data.parquet"); !bytes.Equal(got, body) {
			t.Errorf("stored %q", got)
		}
		got, err := b.Get(ctx, "jobs/account_id=acme/data.parquet")
		if err != nil || !bytes.Equal(got, body) {
			t.Errorf("Get = %q, %v", got, err)
		}
	})

	t.Run("multipart", func(t *testing.T) {
		b.PartSize = 5 << 20 // S3's smallest part
		defer func() { b.PartSize = s3.DefaultPartSize }()
		body := bytes.Repeat([]byte("0123456789abcdef"), (12<<20)/16+3) // three parts, the last short
		if err := b.Put(ctx, "candidates/account_id=acme/data.parquet", bytes.NewReader(body), int64(len(body))); err != nil {
			t.Fatal(err)
		}
		if got := srv.Object(t, "lake", "hr/stackhouse/candidates/account_id=acme/data.parquet"); !bytes.Equal(got, body) {
			t.Errorf("stored %d bytes, want %d", len(got), len(body))
		}
	})

	t.Run("list", func(t *testing.T) {
		keys, err := b.List(ctx, "")
		want := []string{"candidates/account_id=acme/data.parquet", "jobs/account_id=acme/data.parquet"}
		if err != nil || !slices.Equal(keys, want) {
			t.Errorf("List = %v, %v; want %v", keys, err, want)
		}
	})
}

func TestBucket_Put_refused(t *testing.T) {
	ctx := context.Background()
	srv := s3test.Start(t, "lake")
	body := []byte("x")
	for _, tc := range []struct {
		name, key, secret, want string
	}{
		{"wrong secret", s3test.AccessKeyID, "not-the-secret", "SignatureDoesNotMatch"},
		{"unknown key", "AKIAUNKNOWN", s3test.SecretAccessKey, "InvalidAccessKeyId"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("AWS_ACCESS_KEY_ID", tc.key)
			t.Setenv("AWS_SECRET_ACCESS_KEY", tc.secret)
			b := open(t, srv, "s3://lake/p")
			err := b.Put(ctx, "k", bytes.NewReader(body), 1)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "AWS_ACCESS_KEY_ID") {
				t.Fatalf("err = %v, want %s with a hint", err, tc.want)
			}
			if strings.Contains(err.Error(), tc.secret) {
				t.Errorf("the error shows the secret: %v", err)
			}
			if keys := srv.Keys(t, "lake", ""); len(keys) != 0 {
				t.Errorf("stored %v", keys)
			}
		})
	}
	t.Run("no such bucket", func(t *testing.T) {
		b := open(t, srv, "s3://nope/p")
		if err := b.Put(ctx, "k", bytes.NewReader(body), 1); err == nil || !strings.Contains(err.Error(), "NoSuchBucket") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("unreachable", func(t *testing.T) {
		b, _ := s3.NewBucket("s3://lake/p")
		b.Endpoint, b.PathStyle, b.MaxAttempts = s3test.Unreachable(t), true, 1
		if err := b.Open(ctx); err != nil {
			t.Fatal(err)
		}
		err := b.Put(ctx, "k", bytes.NewReader(body), 1)
		if err == nil || !strings.Contains(err.Error(), "connection refused") || !strings.Contains(err.Error(), "s3://lake/p/k") {
			t.Errorf("err = %v, want a refused connection naming the object", err)
		}
	})
}
