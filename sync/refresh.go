package sync

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	stdsync "sync"

	"golang.org/x/sync/errgroup"

	"github.com/stackhouse/stackhouse/applicantstack"
	"github.com/stackhouse/stackhouse/schema"
	"github.com/stackhouse/stackhouse/warehouse"
)

// detailOnlyKeys are the keys candidate detail adds to the list row.
var detailOnlyKeys = []string{"Method Result", "Cover Letter", "Notes", "Files", "Questionnaires", "Job Submissions", "Application History"}

// listHash is the row hash the candidate list would give a record, computed
// from its detail, so that a candidate refreshed by a webhook is not
// refetched by the next scan. The scan hashes each row's bytes as served,
// so the detail's keys and values are kept as served too: re-encoding
// would change them (json.Marshal writes '&' as \u0026) and so the hash.
func listHash(detail json.RawMessage) string {
	dec := json.NewDecoder(bytes.NewReader(detail))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return ""
	}
	row := []byte{'{'}
	for dec.More() {
		start := dec.InputOffset()
		tok, err := dec.Token()
		if err != nil {
			return ""
		}
		key, _ := tok.(string)
		rawKey := bytes.TrimLeft(detail[start:dec.InputOffset()], " \t\r\n,")
		var val json.RawMessage
		if err := dec.Decode(&val); err != nil {
			return ""
		}
		if slices.Contains(detailOnlyKeys, key) {
			continue
		}
		if len(row) > 1 {
			row = append(row, ',')
		}
		row = append(append(append(row, rawKey...), ':'), val...)
	}
	return schema.RowHash(append(row, '}'))
}

// Refresh fetches the detail of the given candidates now (mode "webhook"):
// their row, stage history from notes and new files, as a sync would. A
// candidate that answers 404 is skipped. It is recorded in sync_runs like
// any run and refuses with ErrBusy while the account has another run.
func (s *Syncer) Refresh(ctx context.Context, a *AccountConfig, serials []string) (schema.Run, error) {
	return s.runWith(ctx, a, ModeWebhook, func(r *runner, ctx context.Context) error {
		return r.refresh(ctx, serials)
	})
}

func (r *runner) refresh(ctx context.Context, serials []string) error {
	r.enter("details")
	r.prog.DetailsTotal.Store(int64(len(serials)))
	var known map[string]string
	if r.files != nil {
		var err error
		if known, err = r.db.AttachmentSHA(ctx, r.a.Subdomain); err != nil {
			return err
		}
	}
	states, err := r.db.CandidateStatesOf(ctx, r.a.Subdomain, serials)
	if err != nil {
		return err
	}
	r.cstates = states
	r.w = r.newWriter("", scanState{})
	go r.w.run(ctx)
	var knownMu stdsync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(max(r.a.Concurrency, 1))
	for _, serial := range serials {
		g.Go(func() error {
			defer r.prog.DetailsDone.Add(1)
			cd, err := r.c.Candidate(gctx, serial)
			if err != nil {
				rej, err := r.fetchFailed(applicantstack.ResourceCandidate, serial, err)
				if rej == nil {
					return err
				}
				b := &warehouse.Batch{Account: r.a.Subdomain, RunID: r.run.RunID, At: r.seenAt, Rejected: []schema.Rejected{*rej}}
				return r.w.send(gctx, b, 0)
			}
			h := listHash(cd.Raw)
			if _, ok := r.cstates.Get(serial); !ok {
				r.counts.rowsNew.Add(1)
			} else {
				r.counts.rowsChanged.Add(1)
			}
			_, err = r.writeDetail(gctx, cd, h, known, &knownMu)
			return err
		})
	}
	err = g.Wait()
	if cerr := r.w.close(); err == nil {
		err = cerr
	}
	return err
}
