package warehouse

import (
	"context"
	"database/sql"
	"fmt"
	"hash/maphash"
	"iter"
	"math"
	"strings"
	"unsafe"
)

// CandidateState is what change detection needs of a stored candidate.
type CandidateState struct {
	RowHash    string
	DetailHash string
	Stage      string
	Deleted    bool // remote_deleted_at is set
}

// CandidateStates is a read-only index of an account's stored candidates by
// Candidate Serial, built by DB.CandidateStates. It is safe for concurrent
// use. The strings it returns stay valid after the index is dropped.
//
// It is built for accounts with millions of applications. A
// map[string]CandidateState costs about 190 bytes a candidate (72-byte
// slots, and Go's map doubles to 2M slots just past 917k entries); this
// index costs about 60: serials and hashes packed in one byte slice, a
// 16-byte record per candidate, interned stage names, a DetailHash equal to
// RowHash stored once, and an open-addressing table of uint32.
type CandidateStates struct {
	data   []byte // serials and hashes, back to back
	rows   []stateRow
	stages []string // interned stage names; index 0 is ""
	slots  []uint32 // row index + 1; 0 is empty
	seed   maphash.Seed
}

type stateRow struct {
	off                 uint32 // of the serial in data; the hashes follow it
	idLen, rhLen, dhLen uint16
	stage               uint16
	flags               uint8
}

const (
	flagDeleted    = 1 << iota
	flagSameDetail // DetailHash equals RowHash and is not stored again
)

// Len returns the number of candidates. A nil index is empty.
func (s *CandidateStates) Len() int {
	if s == nil {
		return 0
	}
	return len(s.rows)
}

// Get returns the state of the candidate with the given serial, like a map
// lookup. A nil index is empty.
func (s *CandidateStates) Get(serial string) (CandidateState, bool) {
	if s == nil || len(s.slots) == 0 {
		return CandidateState{}, false
	}
	mask := uint64(len(s.slots) - 1)
	for i := maphash.String(s.seed, serial) & mask; ; i = (i + 1) & mask {
		v := s.slots[i]
		if v == 0 {
			return CandidateState{}, false
		}
		if s.serial(int(v-1)) == serial {
			return s.state(int(v - 1)), true
		}
	}
}

// All yields every candidate's serial and state.
func (s *CandidateStates) All() iter.Seq2[string, CandidateState] {
	return func(yield func(string, CandidateState) bool) {
		for i := range s.Len() {
			if !yield(s.serial(i), s.state(i)) {
				return
			}
		}
	}
}

// view returns n bytes of data at off as a string without copying: data is
// never written after the index is built.
func (s *CandidateStates) view(off uint32, n uint16) string {
	if n == 0 {
		return ""
	}
	return unsafe.String(&s.data[off], int(n))
}

func (s *CandidateStates) serial(i int) string {
	r := &s.rows[i]
	return s.view(r.off, r.idLen)
}

func (s *CandidateStates) state(i int) CandidateState {
	r := &s.rows[i]
	rh := s.view(r.off+uint32(r.idLen), r.rhLen)
	st := CandidateState{RowHash: rh, Stage: s.stages[r.stage], Deleted: r.flags&flagDeleted != 0}
	if r.flags&flagSameDetail != 0 {
		st.DetailHash = rh
	} else {
		st.DetailHash = s.view(r.off+uint32(r.idLen)+uint32(r.rhLen), r.dhLen)
	}
	return st
}

// CandidateStates returns the state of every candidate of account, deleted
// ones included. 1M candidates take about 60 MB (see
// BenchmarkDB_CandidateStates).
func (db *DB) CandidateStates(ctx context.Context, account string) (*CandidateStates, error) {
	s, err := db.candidateStates(ctx, account, nil)
	if err != nil {
		return nil, fmt.Errorf("candidate states %s: %w", account, err)
	}
	return s, nil
}

// CandidateStatesOf is CandidateStates for the named candidates only: a
// webhook refresh of a few candidates must not read an account's whole
// index.
func (db *DB) CandidateStatesOf(ctx context.Context, account string, serials []string) (*CandidateStates, error) {
	if serials == nil {
		serials = []string{}
	}
	s, err := db.candidateStates(ctx, account, serials)
	if err != nil {
		return nil, fmt.Errorf("candidate states %s: %w", account, err)
	}
	return s, nil
}

// candidateStates reads the states of account's candidates, all of them
// when serials is nil.
func (db *DB) candidateStates(ctx context.Context, account string, serials []string) (*CandidateStates, error) {
	where, args := "account_id = ?", []any{account}
	if serials != nil {
		if len(serials) == 0 {
			where += " AND false"
		} else {
			// Placeholders only: the serials are bound, never spliced in.
			where += " AND candidate_id IN (?" + strings.Repeat(", ?", len(serials)-1) + ")"
		}
		for _, s := range serials {
			args = append(args, s)
		}
	}
	tx, err := db.sql.BeginTx(ctx, nil) // one snapshot for the size and the rows
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	var n, size int64
	if err := tx.QueryRowContext(ctx, `SELECT count(*), coalesce(sum(strlen(candidate_id) + coalesce(strlen(row_hash), 0)
			+ CASE WHEN detail_hash IS DISTINCT FROM row_hash THEN coalesce(strlen(detail_hash), 0) ELSE 0 END), 0)
		FROM candidates WHERE `+where, args...).Scan(&n, &size); err != nil {
		return nil, err
	}
	if size > math.MaxUint32 {
		return nil, fmt.Errorf("%d bytes of serials and hashes exceed the index's 4 GiB", size)
	}
	s := &CandidateStates{
		data:   make([]byte, 0, size),
		rows:   make([]stateRow, 0, n),
		stages: []string{""},
		seed:   maphash.MakeSeed(),
	}
	rows, err := tx.QueryContext(ctx, `SELECT candidate_id, row_hash, detail_hash, stage, remote_deleted_at IS NOT NULL
		FROM candidates WHERE `+where, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var (
		stageIndex     = map[string]uint16{"": 0}
		id, rh, dh, st sql.RawBytes
		deleted        bool
	)
	for rows.Next() {
		if err := rows.Scan(&id, &rh, &dh, &st, &deleted); err != nil {
			return nil, err
		}
		if len(id) > math.MaxUint16 || len(rh) > math.MaxUint16 || len(dh) > math.MaxUint16 {
			return nil, fmt.Errorf("candidate %.40q: serial or hash longer than 64 KiB", id)
		}
		if uint64(len(s.data))+uint64(len(id)+len(rh)+len(dh)) > math.MaxUint32 {
			return nil, fmt.Errorf("serials and hashes exceed the index's 4 GiB")
		}
		r := stateRow{off: uint32(len(s.data)), idLen: uint16(len(id)), rhLen: uint16(len(rh))}
		s.data = append(s.data, id...)
		s.data = append(s.data, rh...)
		if string(dh) == string(rh) { // NULL and '' alike: the state cannot tell them apart
			r.flags |= flagSameDetail
		} else {
			r.dhLen = uint16(len(dh))
			s.data = append(s.data, dh...)
		}
		if deleted {
			r.flags |= flagDeleted
		}
		stage, ok := stageIndex[string(st)]
		if !ok {
			if len(s.stages) > math.MaxUint16 {
				return nil, fmt.Errorf("more than %d distinct stages", math.MaxUint16)
			}
			stage = uint16(len(s.stages))
			stageIndex[string(st)] = stage
			s.stages = append(s.stages, string(st))
		}
		r.stage = stage
		s.rows = append(s.rows, r)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	s.index()
	return s, nil
}

// index builds the open-addressing table at a load of at most 3/4.
func (s *CandidateStates) index() {
	size := 8
	for size*3 < len(s.rows)*4 {
		size *= 2
	}
	s.slots = make([]uint32, size)
	mask := uint64(size - 1)
	for row := range s.rows {
		i := maphash.String(s.seed, s.serial(row)) & mask
		for s.slots[i] != 0 {
			i = (i + 1) & mask
		}
		s.slots[i] = uint32(row + 1)
	}
}
