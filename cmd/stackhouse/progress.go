package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	stdsync "sync"
	"time"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"

	"github.com/stackhouse/stackhouse/applicantstack"
	"github.com/stackhouse/stackhouse/sync"
)

// progressView shows the runs of a Syncer: bars on a terminal (pages,
// details, records, rate, ETA), a log line every interval otherwise.
type progressView struct {
	tty      bool
	out      io.Writer
	log      *slog.Logger
	interval time.Duration

	mu   stdsync.Mutex
	runs []*sync.Progress
	bars map[*sync.Progress]*mpb.Bar
	p    *mpb.Progress
	stop context.CancelFunc
	done chan struct{}
}

// lineWidth is the width of a bar's line when the output's width is not
// known (a terminal's is used when it is).
const lineWidth = 160

func newProgressView(ctx context.Context, out io.Writer, log *slog.Logger, tty bool) *progressView {
	v := &progressView{tty: tty, out: out, log: log, interval: 15 * time.Second,
		bars: map[*sync.Progress]*mpb.Bar{}, done: make(chan struct{})}
	if tty {
		// The bars live on ctx, not on the view's own stop: close's last
		// update must still reach them to draw them full.
		v.p = mpb.NewWithContext(ctx, mpb.WithOutput(out), mpb.WithAutoRefresh(), mpb.WithWidth(lineWidth), mpb.WithRefreshRate(150*time.Millisecond))
	}
	ctx, v.stop = context.WithCancel(ctx)
	go v.loop(ctx)
	return v
}

// add is the Syncer's OnProgress hook.
func (v *progressView) add(p *sync.Progress) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.runs = append(v.runs, p)
	if v.p == nil {
		return
	}
	// Total 0: the bar completes only when update forces it at the end (a
	// positive total would complete it, frozen part-filled, as soon as the
	// count first reached that total).
	v.bars[p] = v.p.New(0, mpb.BarStyle().Lbound("[").Rbound("]"), mpb.BarWidth(32),
		mpb.PrependDecorators(decor.Name(p.Account, decor.WCSyncSpaceR), decor.Any(func(decor.Statistics) string { return fmt.Sprintf("%-10s", p.Phase()) })),
		mpb.AppendDecorators(decor.Any(func(decor.Statistics) string { return describe(p) })),
	)
}

func (v *progressView) loop(ctx context.Context) {
	defer close(v.done)
	tick := 200 * time.Millisecond
	if !v.tty {
		tick = v.interval
	}
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			v.update(true)
			return
		case <-t.C:
			v.update(false)
		}
	}
}

func (v *progressView) update(final bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	for _, p := range v.runs {
		total := p.PagesTotal.Load() + p.DetailsTotal.Load()
		cur := p.PagesDone.Load() + p.DetailsDone.Load()
		if b := v.bars[p]; b != nil {
			if p.Phase() == "done" || final {
				if !b.Completed() {
					b.SetTotal(max(cur, 1), true) // full: the run has nothing left
				}
				continue
			}
			b.SetTotal(max(total, cur+1), false)
			b.SetCurrent(cur)
		} else if !final && p.Phase() != "done" {
			v.log.Info("progress", slog.String("account", p.Account), slog.String("phase", p.Phase()),
				slog.Int64("pages_done", p.PagesDone.Load()), slog.Int64("pages", p.PagesTotal.Load()),
				slog.Int64("details_done", p.DetailsDone.Load()), slog.Int64("details", p.DetailsTotal.Load()),
				slog.Int64("records", p.Records.Load()), slog.Int64("files", p.Files.Load()))
		}
	}
}

// close stops the view and waits for the bars to finish drawing.
func (v *progressView) close() {
	v.stop()
	<-v.done
	if v.p != nil {
		v.p.Wait()
	}
}

// describe is the text after a bar: counts, rate and ETA of the run.
func describe(p *sync.Progress) string {
	el := time.Since(p.Started).Seconds()
	recs := p.Records.Load()
	s := fmt.Sprintf("pages %d/%d  records %d", p.PagesDone.Load(), p.PagesTotal.Load(), recs)
	if dt := p.DetailsTotal.Load(); dt > 0 {
		s += fmt.Sprintf("  details %d/%d", p.DetailsDone.Load(), dt)
	}
	if f := p.Files.Load(); f > 0 {
		s += fmt.Sprintf("  files %d", f)
	}
	done := p.PagesDone.Load() + p.DetailsDone.Load()
	total := p.PagesTotal.Load() + p.DetailsTotal.Load()
	if el > 1 && done > 0 {
		rate := float64(done) / el
		s += fmt.Sprintf("  %.0f req/s", rate)
		if left := total - done; left > 0 && p.Phase() != "done" {
			s += "  ETA " + (time.Duration(float64(left)/rate) * time.Second).Round(time.Second).String()
		}
	}
	return s
}

// backfillEstimate is what a backfill of one account will request, read
// from the first page of jobs and of candidates.
type backfillEstimate struct {
	Jobs, JobPages          int
	Applications, CandPages int
	RequestsPerSecond       float64
	Concurrency             int
}

// Requests is one request per list page and per job and candidate detail;
// attachments (one request per file) and hires come on top.
func (e backfillEstimate) Requests() int {
	return e.JobPages + e.Jobs + e.CandPages + e.Applications
}

// Duration is the time those requests take at the configured rate, 0 when
// the rate is unlimited (then latency and concurrency set the pace).
func (e backfillEstimate) Duration() time.Duration {
	if e.RequestsPerSecond <= 0 {
		return 0
	}
	return (time.Duration(float64(e.Requests())/e.RequestsPerSecond*float64(time.Second)) + time.Second/2).Truncate(time.Second)
}

func (e backfillEstimate) String() string {
	s := fmt.Sprintf("about %s on %s and %s on %s: %s requests plus one per attachment",
		count(e.Applications, "application"), count(e.CandPages, "page"), count(e.Jobs, "job"),
		count(e.JobPages, "page"), formatInt(e.Requests()))
	if d := e.Duration(); d > 0 {
		s += fmt.Sprintf("; at %g requests/s (%d at a time) at least %s", e.RequestsPerSecond, e.Concurrency, d)
	} else {
		s += fmt.Sprintf("; no rate limit, %d at a time", e.Concurrency)
	}
	return s
}

// estimateBackfill reads page 1 of jobs and of candidates (one attempt
// each, no retry: the backfill itself reports failures).
func estimateBackfill(ctx context.Context, a *sync.AccountConfig) (backfillEstimate, error) {
	c := a.Client()
	c.MaxRetries = 0
	e := backfillEstimate{RequestsPerSecond: a.RequestsPerSecond, Concurrency: a.Concurrency}
	jobs, err := c.JobsPage(ctx, 1)
	if err != nil {
		return e, err
	}
	cands, err := c.CandidatesPage(ctx, 1)
	if err != nil {
		return e, err
	}
	e.JobPages, e.Jobs = max(jobs.NumPages, 1), pageTotal(jobs.TotalCount, jobs.NumPages)
	e.CandPages, e.Applications = max(cands.NumPages, 1), pageTotal(cands.TotalCount, cands.NumPages)
	return e, nil
}

// pageTotal is the API's TotalCount, or full pages when it sent none.
func pageTotal(total, pages int) int {
	if total >= 0 {
		return total
	}
	return pages * applicantstack.PageSize
}

// count writes n and its noun: "1 job", "2,000 applications".
func count(n int, noun string) string { return formatInt(n) + " " + plural(n, noun) }

// formatInt writes n with thousands separators.
func formatInt(n int) string {
	if n < 0 {
		return "-" + formatInt(-n)
	}
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
