package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	stdsync "sync"
	"time"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"

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

func newProgressView(ctx context.Context, out io.Writer, log *slog.Logger, tty bool) *progressView {
	ctx, cancel := context.WithCancel(ctx)
	v := &progressView{tty: tty, out: out, log: log, interval: 15 * time.Second,
		bars: map[*sync.Progress]*mpb.Bar{}, stop: cancel, done: make(chan struct{})}
	if tty {
		v.p = mpb.NewWithContext(ctx, mpb.WithOutput(out), mpb.WithWidth(32), mpb.WithRefreshRate(150*time.Millisecond))
	}
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
	v.bars[p] = v.p.New(1, mpb.BarStyle().Lbound("[").Rbound("]"),
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
					b.SetTotal(max(cur, 1), false)
					b.SetCurrent(max(cur, 1))
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
