// Package s3 writes stackhouse's published Parquet tree to Amazon S3 or an
// S3-compatible object store (MinIO, Cloudflare R2, Google Cloud Storage's
// XML interoperability API) through aws-sdk-go-v2.
//
// Credentials never come from stackhouse's configuration: the SDK's default
// chain finds them (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, the shared
// files ~/.aws/credentials and ~/.aws/config with AWS_PROFILE, web identity
// tokens as Kubernetes service accounts mount them, then the container or
// instance metadata service).
package s3

import (
	"context"
	"errors"
	"fmt"
	"github.com/aws/smithy-go/logging"
	"io"
	"net/url"
	"path"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

// Defaults for a Bucket's fields.
const (
	DefaultRegion      = "us-east-1"
	DefaultPartSize    = 64 << 20 // bytes per part of a multipart upload
	DefaultMaxAttempts = 3        // tries of one request (the SDK's backoff between them)
)

// Bucket is a prefix in a bucket: the s3://bucket/prefix of a URL. Build
// it with NewBucket, adjust the fields, then Open.
type Bucket struct {
	Name   string // the bucket
	Prefix string // keys start with Prefix + "/" ("" = the bucket's root)

	// Endpoint is an S3-compatible store's URL (https://minio.example:9000,
	// https://<account>.r2.cloudflarestorage.com,
	// https://storage.googleapis.com); "" is AWS.
	Endpoint string
	// Region is the bucket's region; "" takes AWS_REGION or the shared
	// config's, else DefaultRegion.
	Region string
	// PathStyle addresses the bucket in the path (endpoint/bucket/key)
	// instead of the host name (bucket.endpoint/key), as MinIO and most
	// self-hosted stores need.
	PathStyle bool
	// PartSize is the size above which a file is sent as a multipart
	// upload, in parts of this size (S3 allows 10,000 parts).
	PartSize int64
	// MaxAttempts caps the tries of each request.
	MaxAttempts int

	client *awss3.Client
}

// ErrScheme is wrapped by the error NewBucket returns for a URL that is not
// s3://.
var ErrScheme = errors.New("s3: not an s3:// URL")

// IsURL reports whether s is a URL (scheme://…) rather than a local path,
// so that a caller can refuse a scheme it does not know instead of
// creating a directory named after it.
func IsURL(s string) bool {
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok || scheme == "" || rest == "" {
		return false
	}
	for i, r := range scheme {
		letter := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'
		if !letter && (i == 0 || !(r >= '0' && r <= '9' || r == '+' || r == '-' || r == '.')) {
			return false
		}
	}
	return true
}

// NewBucket parses s3://bucket/prefix into a Bucket with defaults. Any other
// scheme is an error wrapping ErrScheme.
func NewBucket(rawURL string) (*Bucket, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		// url's error quotes the URL, which may hold a password.
		return nil, errors.New("s3: not a URL: want s3://bucket/prefix")
	}
	if u.Scheme != "s3" {
		return nil, fmt.Errorf("%w: %q (publish targets are s3://bucket/prefix)", ErrScheme, u.Redacted())
	}
	if u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("s3: %q: want s3://bucket/prefix (credentials come from the environment)", u.Redacted())
	}
	prefix := strings.Trim(path.Clean("/"+u.Path), "/")
	return &Bucket{
		Name:        u.Host,
		Prefix:      prefix,
		PartSize:    DefaultPartSize,
		MaxAttempts: DefaultMaxAttempts,
	}, nil
}

// Open resolves the region and credentials and makes the client. It does
// not contact the store: a wrong key or endpoint shows in the first
// request's error.
func (b *Bucket) Open(ctx context.Context) error {
	opts := []func(*config.LoadOptions) error{
		config.WithRetryMaxAttempts(max(b.MaxAttempts, 1)),
		// Third-party stores (GCS, R2, older MinIO) reject the checksum
		// trailers the SDK now sends by default; send them only where an
		// operation requires one.
		config.WithRequestChecksumCalculation(aws.RequestChecksumCalculationWhenRequired),
		config.WithResponseChecksumValidation(aws.ResponseChecksumValidationWhenRequired),
		// Failures come back as errors (see Explain); the SDK's own log
		// lines would land on stderr unstructured.
		config.WithLogger(logging.Nop{}),
	}
	if b.Region != "" {
		opts = append(opts, config.WithRegion(b.Region))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return fmt.Errorf("s3 %s: credentials: %w", b.URL(), err)
	}
	if cfg.Region == "" {
		cfg.Region = DefaultRegion
	}
	b.client = awss3.NewFromConfig(cfg, func(o *awss3.Options) {
		if b.Endpoint != "" {
			o.BaseEndpoint = aws.String(b.Endpoint)
		}
		o.UsePathStyle = b.PathStyle
	})
	return nil
}

// URL is s3://bucket/prefix, with ?endpoint=… for a store that is not
// AWS. It holds no credentials.
func (b *Bucket) URL() string {
	u := "s3://" + b.Name
	if b.Prefix != "" {
		u += "/" + b.Prefix
	}
	if b.Endpoint != "" {
		u += "?endpoint=" + url.QueryEscape(b.Endpoint)
	}
	return u
}

func (b *Bucket) key(k string) string {
	if b.Prefix == "" {
		return k
	}
	return b.Prefix + "/" + k
}

// Put stores size bytes of r at key (under the prefix). The object is
// replaced in one step: readers get the old or the new object, never part
// of one. Above PartSize it is a multipart upload, aborted on failure.
func (b *Bucket) Put(ctx context.Context, key string, r io.ReadSeeker, size int64) error {
	if b.client == nil {
		return fmt.Errorf("s3 %s: not open", b.URL())
	}
	part := b.PartSize
	if part <= 0 {
		part = DefaultPartSize
	}
	var err error
	if size > part {
		err = b.putMultipart(ctx, key, r, size, part)
	} else {
		_, err = b.client.PutObject(ctx, &awss3.PutObjectInput{
			Bucket:        aws.String(b.Name),
			Key:           aws.String(b.key(key)),
			Body:          r,
			ContentLength: aws.Int64(size),
		})
	}
	if err != nil {
		return fmt.Errorf("put %s: %w", b.objectURL(key), Explain(err))
	}
	return nil
}

func (b *Bucket) putMultipart(ctx context.Context, key string, r io.ReadSeeker, size, part int64) (err error) {
	ra, ok := r.(io.ReaderAt)
	if !ok {
		return errors.New("a multipart upload needs an io.ReaderAt")
	}
	up, err := b.client.CreateMultipartUpload(ctx, &awss3.CreateMultipartUploadInput{
		Bucket: aws.String(b.Name), Key: aws.String(b.key(key)),
	})
	if err != nil {
		return err
	}
	defer func() {
		if err != nil { // leave no parts behind to be billed
			b.client.AbortMultipartUpload(context.WithoutCancel(ctx), &awss3.AbortMultipartUploadInput{
				Bucket: aws.String(b.Name), Key: aws.String(b.key(key)), UploadId: up.UploadId,
			})
		}
	}()
	var parts []types.CompletedPart
	for off, n := int64(0), int32(1); off < size; off, n = off+part, n+1 {
		length := min(part, size-off)
		res, err := b.client.UploadPart(ctx, &awss3.UploadPartInput{
			Bucket: aws.String(b.Name), Key: aws.String(b.key(key)), UploadId: up.UploadId,
			PartNumber: aws.Int32(n), Body: io.NewSectionReader(ra, off, length), ContentLength: aws.Int64(length),
		})
		if err != nil {
			return fmt.Errorf("part %d: %w", n, err)
		}
		parts = append(parts, types.CompletedPart{ETag: res.ETag, PartNumber: aws.Int32(n)})
	}
	_, err = b.client.CompleteMultipartUpload(ctx, &awss3.CompleteMultipartUploadInput{
		Bucket: aws.String(b.Name), Key: aws.String(b.key(key)), UploadId: up.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
	})
	return err
}

// Delete removes the object at key (under the prefix). S3 answers a key
// that holds nothing as a success, and so does Delete.
func (b *Bucket) Delete(ctx context.Context, key string) error {
	if b.client == nil {
		return fmt.Errorf("s3 %s: not open", b.URL())
	}
	if _, err := b.client.DeleteObject(ctx, &awss3.DeleteObjectInput{Bucket: aws.String(b.Name), Key: aws.String(b.key(key))}); err != nil {
		return fmt.Errorf("delete %s: %w", b.objectURL(key), Explain(err))
	}
	return nil
}

// Get returns the object at key (under the prefix).
func (b *Bucket) Get(ctx context.Context, key string) ([]byte, error) {
	if b.client == nil {
		return nil, fmt.Errorf("s3 %s: not open", b.URL())
	}
	out, err := b.client.GetObject(ctx, &awss3.GetObjectInput{Bucket: aws.String(b.Name), Key: aws.String(b.key(key))})
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", b.objectURL(key), Explain(err))
	}
	defer out.Body.Close()
	return io.ReadAll(out.Body)
}

// List returns the keys under prefix (relative to the bucket's prefix), in
// the store's order (lexicographic on S3).
func (b *Bucket) List(ctx context.Context, prefix string) ([]string, error) {
	if b.client == nil {
		return nil, fmt.Errorf("s3 %s: not open", b.URL())
	}
	var keys []string
	p := awss3.NewListObjectsV2Paginator(b.client, &awss3.ListObjectsV2Input{
		Bucket: aws.String(b.Name), Prefix: aws.String(b.key(prefix)),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list %s: %w", b.objectURL(prefix), Explain(err))
		}
		for _, o := range page.Contents {
			k := aws.ToString(o.Key)
			if b.Prefix != "" {
				k = strings.TrimPrefix(k, b.Prefix+"/")
			}
			keys = append(keys, k)
		}
	}
	return keys, nil
}

func (b *Bucket) objectURL(key string) string { return "s3://" + b.Name + "/" + b.key(key) }

// Explain shortens the SDK's error for a store's refusal to its code and
// message ("InvalidAccessKeyId: The AWS Access Key Id you provided does
// not exist in our records") and says which setting to check; any other
// error (a refused connection, a timeout) is returned as it is.
func Explain(err error) error {
	var api smithy.APIError
	if !errors.As(err, &api) {
		if strings.Contains(err.Error(), "get credentials") {
			return &storeError{code: "NoCredentials", msg: "no AWS credentials found (set AWS_ACCESS_KEY_ID and " +
				"AWS_SECRET_ACCESS_KEY, AWS_PROFILE, or give the pod or machine a role)", err: err}
		}
		return err
	}
	hint := ""
	switch api.ErrorCode() {
	case "InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied", "InvalidToken", "ExpiredToken", "Forbidden":
		hint = " (check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE or the pod's role, and the bucket policy)"
	case "NoSuchBucket":
		hint = " (check publish.url)"
	case "PermanentRedirect", "AuthorizationHeaderMalformed":
		hint = " (check publish.region)"
	}
	msg := api.ErrorMessage()
	if msg == "" {
		msg = "refused"
	}
	return &storeError{code: api.ErrorCode(), msg: msg + hint, err: err}
}

type storeError struct {
	code, msg string
	err       error
}

func (e *storeError) Error() string { return e.code + ": " + e.msg }
func (e *storeError) Unwrap() error { return e.err }
