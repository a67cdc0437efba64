package fake

import (
	"archive/zip"
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"strings"
	"time"
)

// filesPerCandidate is the most files a candidate has; file serial index
// = candidate index * filesPerCandidate + position.
const filesPerCandidate = 3

const (
	formatPDF = iota
	formatDOCX
	formatJPEG
)

var contentTypes = [...]string{
	formatPDF:  "application/pdf",
	formatDOCX: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
	formatJPEG: "image/jpeg",
}

type fileSpec struct {
	index  int // file serial index
	name   string
	resume bool
	format int
}

var otherFiles = []struct {
	name   string
	format int
}{
	{"Cover Letter.pdf", formatPDF},
	{"photo.jpg", formatJPEG},
	{"References.docx", formatDOCX},
	{"Certification.pdf", formatPDF},
}

// fileSpecs lists the 0–3 files of candidate idx; at most one is a resume.
func (t *tenant) fileSpecs(idx int, p *person) []fileSpec {
	r := newRNG(t.seed, streamFile, uint64(idx))
	n := []int{0, 1, 1, 1, 2, 2, 3}[r.intn(7)]
	specs := make([]fileSpec, 0, n)
	others := r.intn(len(otherFiles))
	for k := range n {
		f := fileSpec{index: idx*filesPerCandidate + k}
		if k == 0 && r.chance(0.85) {
			f.resume = true
			switch r.intn(6) {
			case 0, 1, 2:
				f.name, f.format = "Resume.pdf", formatPDF
			case 3, 4:
				f.name, f.format = "Resume.docx", formatDOCX
			default:
				f.name, f.format = "Resume - "+p.first+" "+p.last+".pdf", formatPDF
			}
		} else {
			o := otherFiles[(others+k)%len(otherFiles)]
			f.name, f.format = o.name, o.format
		}
		specs = append(specs, f)
	}
	return specs
}

// fileContent returns the bytes of a file: a small valid document of its
// format that names its serial, so every file differs.
func (t *tenant) fileContent(serial string, f fileSpec, p *person) []byte {
	text := fmt.Sprintf("%s %s - %s %s", serial, fold(f.name), fold(p.first), fold(p.last))
	r := newRNG(t.seed, streamFile, uint64(f.index), 1)
	switch f.format {
	case formatDOCX:
		return docxBytes(text, r.intn(40))
	case formatJPEG:
		return jpegBytes(r.next())
	}
	return pdfBytes(text, r.intn(40))
}

func pdfBytes(text string, filler int) []byte {
	content := "BT /F1 12 Tf 72 720 Td (" + text + ") Tj ET\n" + strings.Repeat("% lorem ipsum dolor sit amet\n", filler)
	objs := []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
		fmt.Sprintf("<< /Length %d >>\nstream\n%sendstream", len(content), content),
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
	}
	var b bytes.Buffer
	b.WriteString("%PDF-1.4\n")
	offsets := make([]int, len(objs))
	for i, o := range objs {
		offsets[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objs)+1)
	for _, off := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(objs)+1, xref)
	return b.Bytes()
}

// docxBytes builds a minimal Word document; entries are stored with a fixed
// time so the bytes are deterministic.
func docxBytes(text string, filler int) []byte {
	parts := []struct{ name, body string }{
		{"[Content_Types].xml", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>`},
		{"_rels/.rels", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>`},
		{"word/document.xml", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>` + text + `</w:t></w:r></w:p>` + strings.Repeat(`<w:p><w:r><w:t>lorem ipsum</w:t></w:r></w:p>`, filler) + `</w:body></w:document>`},
	}
	var b bytes.Buffer
	z := zip.NewWriter(&b)
	for _, p := range parts {
		w, err := z.CreateHeader(&zip.FileHeader{Name: p.name, Method: zip.Store, Modified: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)})
		if err != nil {
			panic(err) // writing to a bytes.Buffer cannot fail
		}
		w.Write([]byte(p.body))
	}
	if err := z.Close(); err != nil {
		panic(err)
	}
	return b.Bytes()
}

func jpegBytes(h uint64) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 16, 16))
	for y := range 16 {
		for x := range 16 {
			img.Set(x, y, color.RGBA{uint8(h >> 8 * uint64(x&1)), uint8(h>>16) + uint8(4*y), uint8(h>>24) + uint8(4*x), 255})
		}
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 80}); err != nil {
		panic(err)
	}
	return b.Bytes()
}

// Attachment links carry apikey = 8 hex digits of the issue time (epoch
// seconds) + 32 hex digits of an HMAC over serial and issue time. A link is
// valid until the tenant's next local midnight after it was issued (the
// "apikey_expires" shown in detail), or sooner under Faults.LinkTTL. Keeping
// the issue time in the key makes checks stateless.
func (t *tenant) apikey(serial string, issued int64) string {
	var ts [4]byte
	binary.BigEndian.PutUint32(ts[:], uint32(issued))
	return hex.EncodeToString(ts[:]) + hex.EncodeToString(t.linkMAC(serial, ts[:]))
}

func (t *tenant) linkMAC(serial string, ts []byte) []byte {
	m := hmac.New(sha256.New, t.signKey)
	m.Write([]byte(serial))
	m.Write(ts)
	return m.Sum(nil)[:16]
}

// checkAPIKey reports whether key is a valid, unexpired link key for
// serial at fake time now. ttl is Faults.LinkTTL.
func (t *tenant) checkAPIKey(serial, key string, now int64, ttl time.Duration) bool {
	raw, err := hex.DecodeString(key)
	if err != nil || len(raw) != 20 || !hmac.Equal(raw[4:], t.linkMAC(serial, raw[:4])) {
		return false
	}
	issued := int64(binary.BigEndian.Uint32(raw[:4]))
	switch {
	case issued > now, now >= t.nextMidnight(issued):
		return false
	case ttl < 0:
		return false
	case ttl > 0 && now >= issued+int64(ttl/time.Second):
		return false
	}
	return true
}

// fileBySerial resolves a file serial to its candidate and spec; callers
// hold t.mu.
func (t *tenant) fileBySerial(serial string) (*person, fileSpec, bool) {
	fi, err := t.fileSer.parse(serial)
	if err != nil {
		return nil, fileSpec{}, false
	}
	idx := fi / filesPerCandidate
	if idx >= t.totalCandidates() || t.isDeleted(idx) {
		return nil, fileSpec{}, false
	}
	p := t.makePerson(t.personOf(idx))
	for _, f := range t.fileSpecs(idx, &p) {
		if f.index == fi {
			return &p, f, true
		}
	}
	return nil, fileSpec{}, false
}
