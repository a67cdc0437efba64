// Package s3test runs an S3-protocol server over real HTTP for tests:
// gofakes3 (in memory) behind a handler that checks each request's AWS
// Signature Version 4 against one key pair, as a real store does, and can
// be told to fail uploads.
package s3test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	stdsync "sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// The key pair the server accepts. Start sets them in the environment,
// where the SDK's default credential chain finds them.
const (
	AccessKeyID     = "AKIASTACKHOUSETEST"
	SecretAccessKey = "stackhouse-test-secret-key"
	Region          = "us-east-1"
)

// Server is a running S3-protocol server.
type Server struct {
	URL     string // http://127.0.0.1:port, for Bucket.Endpoint (path style)
	backend *s3mem.Backend

	mu        stdsync.Mutex
	failAfter int // PUTs to accept before failing every PUT; -1: never
	puts      int
	requests  int
}

// Start starts a server with the given buckets, sets AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY and AWS_REGION for the test, points the SDK's
// shared config files at nothing and turns the instance metadata lookup
// off (so a test never reaches beyond loopback), and stops the server when
// the test ends.
func Start(t testing.TB, buckets ...string) *Server {
	t.Helper()
	Isolate(t)
	t.Setenv("AWS_ACCESS_KEY_ID", AccessKeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", SecretAccessKey)
	s := &Server{backend: s3mem.New(), failAfter: -1}
	for _, b := range buckets {
		if err := s.backend.CreateBucket(b); err != nil {
			t.Fatal(err)
		}
	}
	fake := gofakes3.New(s.backend, gofakes3.WithAutoBucket(false), gofakes3.WithLogger(gofakes3.DiscardLog()))
	hs := httptest.NewServer(s.handler(fake.Server()))
	t.Cleanup(hs.Close)
	s.URL = hs.URL
	return s
}

// Isolate clears the AWS settings of the environment for the test: no
// key, no profile, no shared files, no instance metadata service.
func Isolate(t testing.TB) {
	t.Helper()
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
		"AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
		"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"} {
		t.Setenv(k, "")
	}
	none := filepath.Join(t.TempDir(), "none")
	t.Setenv("AWS_CONFIG_FILE", none)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", none)
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_REGION", Region)
}

// Unreachable returns an endpoint URL (http://127.0.0.1:port) that nothing
// listens on: requests to it are refused at once.
func Unreachable(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return "http://" + l.Addr().String()
}

// FailPutsAfter makes the server accept n more uploads (PUT and the POST
// that completes a multipart upload) and refuse every one after with a
// 500, until called again with a negative n.
func (s *Server) FailPutsAfter(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failAfter, s.puts = n, 0
}

// Requests returns how many requests the server answered.
func (s *Server) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

// Keys returns every key in bucket under prefix, sorted.
func (s *Server) Keys(t testing.TB, bucket, prefix string) []string {
	t.Helper()
	list, err := s.backend.ListBucket(bucket, &gofakes3.Prefix{Prefix: prefix, HasPrefix: true}, gofakes3.ListBucketPage{})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, o := range list.Contents {
		keys = append(keys, o.Key)
	}
	slices.Sort(keys)
	return keys
}

// Object returns the object at key, or nil when there is none.
func (s *Server) Object(t testing.TB, bucket, key string) []byte {
	t.Helper()
	o, err := s.backend.GetObject(bucket, key, nil)
	if err != nil {
		return nil
	}
	defer o.Contents.Close()
	b, err := io.ReadAll(o.Contents)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func (s *Server) handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.requests++
		upload := r.Method == http.MethodPut || (r.Method == http.MethodPost && r.URL.Query().Has("uploadId"))
		fail := false
		if upload && s.failAfter >= 0 {
			s.puts++
			fail = s.puts > s.failAfter
		}
		s.mu.Unlock()
		if code, msg := verify(r); code != "" {
			writeError(w, http.StatusForbidden, code, msg)
			return
		}
		if fail {
			io.Copy(io.Discard, r.Body)
			writeError(w, http.StatusInternalServerError, "InternalError", "injected failure")
			return
		}
		next.ServeHTTP(w, r)
	})
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>%s</Code><Message>%s</Message></Error>`, code, msg)
}

// verify checks a request's Signature Version 4: the key id, then the
// signature recomputed with the secret over the headers the client signed.
func verify(r *http.Request) (code, msg string) {
	auth := r.Header.Get("Authorization")
	const algo = "AWS4-HMAC-SHA256 "
	if !strings.HasPrefix(auth, algo) {
		return "AccessDenied", "Anonymous access is forbidden"
	}
	fields := map[string]string{}
	for f := range strings.SplitSeq(strings.TrimPrefix(auth, algo), ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(f), "=")
		fields[k] = v
	}
	scope := strings.Split(fields["Credential"], "/")
	if len(scope) != 5 || scope[0] != AccessKeyID {
		return "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records."
	}
	at, err := time.Parse("20060102T150405Z", r.Header.Get("X-Amz-Date"))
	if err != nil {
		return "AccessDenied", "bad X-Amz-Date"
	}
	check := &http.Request{
		Method: r.Method,
		URL:    &url.URL{Scheme: "http", Host: r.Host, Path: r.URL.Path, RawPath: r.URL.RawPath, RawQuery: r.URL.RawQuery},
		Host:   r.Host,
		Header: http.Header{},
	}
	for h := range strings.SplitSeq(fields["SignedHeaders"], ";") {
		switch h {
		case "host":
		case "content-length":
			check.ContentLength = r.ContentLength
		default:
			check.Header[http.CanonicalHeaderKey(h)] = r.Header.Values(h)
		}
	}
	signer := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
	creds := aws.Credentials{AccessKeyID: AccessKeyID, SecretAccessKey: SecretAccessKey}
	if err := signer.SignHTTP(context.Background(), creds, check, r.Header.Get("X-Amz-Content-Sha256"), scope[3], scope[2], at); err != nil {
		return "AccessDenied", err.Error()
	}
	if sig(check.Header.Get("Authorization")) != fields["Signature"] {
		return "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided. Check your key and signing method."
	}
	return "", ""
}

func sig(auth string) string {
	_, s, _ := strings.Cut(auth, "Signature=")
	return s
}
