package sync

import (
	"context"

	"github.com/stackhouse/stackhouse/warehouse/s3"
)

// OpenRemote opens the object store at url (s3://bucket/prefix) with the
// endpoint, region and addressing of p. url is usually p.URL; `export
// -out s3://…` passes its own. An unknown scheme is an error.
func OpenRemote(ctx context.Context, p PublishConfig, url string) (*s3.Bucket, error) {
	b, err := s3.NewBucket(url)
	if err != nil {
		return nil, err
	}
	b.Endpoint, b.Region, b.PathStyle = p.Endpoint, p.Region, p.PathStyle
	if err := b.Open(ctx); err != nil {
		return nil, err
	}
	return b, nil
}
