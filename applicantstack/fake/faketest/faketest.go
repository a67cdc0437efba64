// Package faketest serves a fake ApplicantStack to tests, as httptest
// serves a handler: on a loopback port, closed when the test ends.
package faketest

import (
	"testing"

	"github.com/stackhouse/stackhouse/applicantstack/fake"
)

// Serve returns a new fake.Server holding tenants, listening on a loopback
// port until t ends, and its base URL (http://127.0.0.1:port) for clients.
// Tenants added later are served too.
func Serve(t testing.TB, tenants ...fake.Tenant) (*fake.Server, string) {
	t.Helper()
	s := fake.NewServer()
	for _, ten := range tenants {
		if err := s.AddTenant(ten); err != nil {
			t.Fatal(err)
		}
	}
	base, err := s.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, base
}
