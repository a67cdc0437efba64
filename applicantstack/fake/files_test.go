package fake

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"image/jpeg"
	"mime"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestServer_attachments(t *testing.T) {
	cfg, s, srv := serveAcme(t)
	serials, _ := s.Serials("acme", ListCandidates)

	// detailFiles fetches candidate details until n files are found.
	detailFiles := func(t *testing.T, n int) (refs []fileRef, truths []File) {
		t.Helper()
		for _, serial := range serials {
			var c candidateDetail
			if err := json.Unmarshal(get(t, srv, cfg, "/api/candidate/"+serial).body, &c); err != nil {
				t.Fatal(err)
			}
			truth, err := s.Candidate("acme", serial, srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			refs, truths = append(refs, c.Files...), append(truths, truth.Files...)
			if len(refs) >= n {
				return refs, truths
			}
		}
		t.Fatalf("only %d files", len(refs))
		return nil, nil
	}

	t.Run("download matches truth", func(t *testing.T) {
		refs, truths := detailFiles(t, 40)
		formats := map[string]int{}
		for i, f := range refs {
			r := call(t, http.MethodGet, f.URL, "") // signed: no token
			if r.status != http.StatusOK {
				t.Fatalf("%s: status %d %s", f.URL, r.status, r.body)
			}
			sum := sha256.Sum256(r.body)
			want := truths[i]
			if hex.EncodeToString(sum[:]) != want.SHA256 || len(r.body) != want.Size {
				t.Errorf("%s: sha256/size differ from truth", want.Serial)
			}
			if ct := r.header.Get("Content-Type"); ct != want.ContentType {
				t.Errorf("%s: Content-Type %q, want %q", want.Serial, ct, want.ContentType)
			}
			_, params, err := mime.ParseMediaType(r.header.Get("Content-Disposition"))
			if err != nil || params["filename"] != want.Name {
				t.Errorf("%s: Content-Disposition %q (%v), want filename %q", want.Serial, r.header.Get("Content-Disposition"), err, want.Name)
			}
			formats[want.ContentType]++
			checkFormat(t, want, r.body)
			body, _, err := s.FileContent("acme", want.Serial)
			if err != nil || !bytes.Equal(body, r.body) {
				t.Errorf("%s: FileContent differs from the download (%v)", want.Serial, err)
			}
		}
		if len(formats) < 3 {
			t.Errorf("only formats %v", formats)
		}
	})

	t.Run("bad key", func(t *testing.T) {
		refs, _ := detailFiles(t, 2)
		good := refs[0].URL
		base, key, _ := strings.Cut(good, "?apikey=")
		otherSerial := fileURL.FindStringSubmatch(refs[1].URL)[2]
		for name, url := range map[string]string{
			"no key":      base,
			"wrong key":   base + "?apikey=" + strings.Repeat("0", 40),
			"altered key": base + "?apikey=" + flipLast(key),
			"other file":  strings.Replace(base, fileURL.FindStringSubmatch(good)[2], otherSerial, 1) + "?apikey=" + key,
			"not hex":     base + "?apikey=zz",
		} {
			if r := call(t, http.MethodGet, url, ""); r.status != http.StatusForbidden {
				t.Errorf("%s: status %d, want 403", name, r.status)
			}
		}
		if r := call(t, http.MethodGet, good, ""); r.status != http.StatusOK {
			t.Errorf("good link: status %d", r.status)
		}
		if r := call(t, http.MethodGet, srv.URL+"/x/attachment/a6zzzzzzzzzz?apikey="+key, ""); r.status != http.StatusNotFound {
			t.Errorf("unknown file: status %d, want 404", r.status)
		}
	})

	t.Run("expires at midnight", func(t *testing.T) {
		refs, _ := detailFiles(t, 1)
		now := s.Now()
		until := time.Unix(refs[0].APIKeyExpires, 0)
		s.Advance(until.Sub(now) - time.Second)
		if r := call(t, http.MethodGet, refs[0].URL, ""); r.status != http.StatusOK {
			t.Errorf("a second before apikey_expires: status %d", r.status)
		}
		s.Advance(time.Second)
		if r := call(t, http.MethodGet, refs[0].URL, ""); r.status != http.StatusForbidden {
			t.Errorf("at apikey_expires: status %d, want 403", r.status)
		}
		fresh, _ := detailFiles(t, 1)
		if r := call(t, http.MethodGet, fresh[0].URL, ""); r.status != http.StatusOK {
			t.Errorf("link fetched after midnight: status %d", r.status)
		}
	})

	t.Run("early expiry fault", func(t *testing.T) {
		if err := s.SetFaults("acme", Faults{LinkTTL: time.Minute}); err != nil {
			t.Fatal(err)
		}
		defer s.SetFaults("acme", Faults{})
		refs, _ := detailFiles(t, 1)
		if r := call(t, http.MethodGet, refs[0].URL, ""); r.status != http.StatusOK {
			t.Errorf("fresh link: status %d", r.status)
		}
		s.Advance(time.Minute)
		if r := call(t, http.MethodGet, refs[0].URL, ""); r.status != http.StatusForbidden {
			t.Errorf("link older than LinkTTL: status %d, want 403", r.status)
		}
		if time.Unix(refs[0].APIKeyExpires, 0).Before(s.Now()) {
			t.Error("apikey_expires already past: the fault is not early")
		}
	})

	t.Run("deleted candidate", func(t *testing.T) {
		for _, serial := range serials {
			truth, _ := s.Candidate("acme", serial, srv.URL)
			if len(truth.Files) == 0 {
				continue
			}
			var c candidateDetail
			json.Unmarshal(truth.Detail, &c)
			if err := s.DeleteCandidate("acme", serial); err != nil {
				t.Fatal(err)
			}
			if r := call(t, http.MethodGet, c.Files[0].URL, ""); r.status != http.StatusNotFound {
				t.Errorf("file of a deleted candidate: status %d, want 404", r.status)
			}
			return
		}
	})
}

// checkFormat checks that file bytes are a valid document of their type
// that names their serial.
func checkFormat(t *testing.T, f File, b []byte) {
	t.Helper()
	switch f.ContentType {
	case "application/pdf":
		if !bytes.HasPrefix(b, []byte("%PDF-1.4\n")) || !bytes.HasSuffix(b, []byte("%%EOF\n")) || !bytes.Contains(b, []byte(f.Serial)) {
			t.Errorf("%s: not a PDF naming its serial", f.Serial)
		}
	case "image/jpeg":
		if _, err := jpeg.Decode(bytes.NewReader(b)); err != nil {
			t.Errorf("%s: not a JPEG: %v", f.Serial, err)
		}
	default:
		z, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			t.Fatalf("%s: not a zip: %v", f.Serial, err)
		}
		var doc bytes.Buffer
		for _, zf := range z.File {
			if zf.Name == "word/document.xml" {
				rc, _ := zf.Open()
				doc.ReadFrom(rc)
				rc.Close()
			}
		}
		if !bytes.Contains(doc.Bytes(), []byte(f.Serial)) {
			t.Errorf("%s: docx without word/document.xml naming the serial", f.Serial)
		}
	}
}

// flipLast changes the last hex digit of s.
func flipLast(s string) string {
	if strings.HasSuffix(s, "0") {
		return s[:len(s)-1] + "1"
	}
	return s[:len(s)-1] + "0"
}
