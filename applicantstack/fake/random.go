package fake

import (
	"errors"
	"hash/fnv"
)

// Stream identifiers keep the random draws of different record kinds
// independent: adding a field to jobs must not change every candidate.
const (
	streamJob uint64 = iota + 1
	streamCandidate
	streamPerson
	streamFile
	streamHire
	streamDirectHire
	streamBlock
	streamUser
	streamTenant
	streamMove
	streamFault
	streamMalformed
	streamQuestionnaire
	streamForm
	streamSerial
)

// mix is the splitmix64 finalizer: a cheap, well-distributed 64-bit hash.
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// hash combines keys into one well-mixed value.
func hash(keys ...uint64) uint64 {
	h := uint64(0x6a09e667f3bcc908)
	for _, k := range keys {
		h = mix(h ^ mix(k+0x9e3779b97f4a7c15))
	}
	return h
}

// hashString hashes s with FNV-1a, for mixing names into keys.
func hashString(s string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(s))
	return h.Sum64()
}

// rng is a small deterministic generator (splitmix64). Records are built
// from an rng seeded by (tenant seed, stream, index), so any record can be
// produced on its own, in any order, with the same result.
type rng struct{ s uint64 }

func newRNG(keys ...uint64) rng { return rng{s: hash(keys...)} }

func (r *rng) next() uint64 {
	r.s += 0x9e3779b97f4a7c15
	return mix(r.s)
}

// intn returns a value in [0, n); n must be positive.
func (r *rng) intn(n int) int { return int(r.next() % uint64(n)) }

// int64n returns a value in [0, n); n must be positive.
func (r *rng) int64n(n int64) int64 { return int64(r.next() % uint64(n)) }

// float returns a value in [0, 1).
func (r *rng) float() float64 { return float64(r.next()>>11) / (1 << 53) }

// chance reports true with probability p.
func (r *rng) chance(p float64) bool { return r.float() < p }

func pick[T any](r *rng, xs []T) T { return xs[r.intn(len(xs))] }

// weighted returns an index of ws drawn in proportion to the weights.
func (r *rng) weighted(ws []int) int {
	total := 0
	for _, w := range ws {
		total += w
	}
	n := r.intn(total)
	for i, w := range ws {
		if n < w {
			return i
		}
		n -= w
	}
	return len(ws) - 1
}

// unitFloat maps a hash to [0, 1).
func unitFloat(h uint64) float64 { return float64(h>>11) / (1 << 53) }

// Serials are 12 characters: a 2-character kind prefix, the 5-character
// tenant code and 5 characters that encode the record index through a keyed
// permutation of [0, 36^5). The permutation makes serials look random while
// staying unique and reversible, so a serial in a URL leads straight back to
// its record without any lookup table.
const (
	prefixUser          = "a1"
	prefixJob           = "a2"
	prefixCandidate     = "a4"
	prefixFile          = "a6"
	prefixQuestionnaire = "a7"
	prefixHire          = "e2"
	prefixForm          = "e4"

	serialLen   = 12
	serialSpace = 36 * 36 * 36 * 36 * 36 // 60,466,176 values per kind and tenant
	alphabet    = "0123456789abcdefghijklmnopqrstuvwxyz"
)

// errBadSerial is returned by parse when a string is not a serial of the
// expected kind and tenant.
var errBadSerial = errors.New("fake: bad serial")

// perm is a 4-round Feistel network over 26 bits, narrowed to
// [0, serialSpace) by cycle walking.
type perm struct{ keys [4]uint64 }

func newPerm(keys ...uint64) perm {
	var p perm
	for i := range p.keys {
		p.keys[i] = hash(append(keys, uint64(i))...)
	}
	return p
}

const halfBits = 13
const halfMask = 1<<halfBits - 1

func (p perm) round(x uint32, k uint64) uint32 {
	return uint32(mix(uint64(x)^k)) & halfMask
}

func (p perm) encrypt(x uint32) uint32 {
	l, r := x>>halfBits, x&halfMask
	for _, k := range p.keys {
		l, r = r, l^p.round(r, k)
	}
	return l<<halfBits | r
}

func (p perm) decrypt(x uint32) uint32 {
	l, r := x>>halfBits, x&halfMask
	for i := len(p.keys) - 1; i >= 0; i-- {
		l, r = r^p.round(l, p.keys[i]), l
	}
	return l<<halfBits | r
}

// forward maps an index in [0, serialSpace) to another value in that range.
func (p perm) forward(x int) int {
	y := p.encrypt(uint32(x))
	for y >= serialSpace {
		y = p.encrypt(y)
	}
	return int(y)
}

// backward inverts forward.
func (p perm) backward(x int) int {
	y := p.decrypt(uint32(x))
	for y >= serialSpace {
		y = p.decrypt(y)
	}
	return int(y)
}

// serials formats and parses the serials of one kind within one tenant.
type serials struct {
	prefix string
	code   string
	perm   perm
}

func newSerials(prefix, code string, seed uint64) serials {
	return serials{prefix: prefix, code: code, perm: newPerm(seed, streamSerial, hashString(prefix))}
}

// format returns the serial of record index i.
func (s serials) format(i int) string {
	var b [serialLen]byte
	copy(b[:], s.prefix)
	copy(b[2:], s.code)
	n := s.perm.forward(i)
	for j := serialLen - 1; j >= 7; j-- {
		b[j] = alphabet[n%36]
		n /= 36
	}
	return string(b[:])
}

// parse returns the record index of serial, or errBadSerial.
func (s serials) parse(serial string) (int, error) {
	if len(serial) != serialLen || serial[:2] != s.prefix || serial[2:7] != s.code {
		return 0, errBadSerial
	}
	n := 0
	for j := 7; j < serialLen; j++ {
		d := digit36(serial[j])
		if d < 0 {
			return 0, errBadSerial
		}
		n = n*36 + d
	}
	return s.perm.backward(n), nil
}

func digit36(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'z':
		return int(c-'a') + 10
	}
	return -1
}

// tenantCode derives the 5-character tenant code from the subdomain; salt
// resolves the rare clash between two tenants of one server.
func tenantCode(subdomain string, salt int) string {
	h := hash(hashString(subdomain), uint64(salt), streamTenant)
	var b [5]byte
	for i := range b {
		b[i] = alphabet[h%36]
		h /= 36
	}
	return string(b[:])
}
