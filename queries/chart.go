package queries

import (
	"math"
	"strconv"
	"time"
	"unicode/utf8"
)

// The report's charts are plain SVG laid out here and drawn by
// report.html.tmpl, so every label passes through html/template's escaping
// and the page needs no script, font or image.

// chartItem is one bar: a label, its value, the text shown at the bar's end,
// and an optional marker value (a p75 tick on time-to-fill).
type chartItem struct {
	Label   string
	Value   float64
	Text    string
	Marker  float64
	Partial bool // drawn lighter: a period not yet over
}

// bar is one laid-out bar, in SVG user units.
type bar struct {
	Label, Full, Text  string
	X, Y, W, H         float64
	LabelX, LabelY     float64
	TextX, TextY       float64
	MarkerX, MarkerTop float64
	MarkerH            float64
	HasMarker          bool
	Partial            bool
}

// gridLine is a vertical (hbar) or horizontal (vbar) value guide.
type gridLine struct {
	X1, Y1, X2, Y2 float64
	TX, TY         float64
	Text           string
}

// chart is one SVG figure. ID names it in data-chart for tests and styling.
type chart struct {
	ID, Title, Desc string
	Heading         string // drawn above the plot, when set
	Width, Height   float64
	Vertical        bool
	Bars            []bar
	Grid            []gridLine
	MarkerNote      string
}

const (
	chartWidth   = 720.0
	hbarLabelW   = 200.0
	hbarRowH     = 26.0
	hbarTextW    = 120.0
	vbarHeight   = 260.0
	vbarAxisH    = 56.0
	vbarMaxLabel = 24
)

// hbarChart lays out horizontal bars, one row per item, scaled to the
// largest value (or marker).
func hbarChart(id, title, desc string, items []chartItem) chart {
	c := chart{ID: id, Title: title, Desc: desc, Width: chartWidth, Height: 24 + hbarRowH*float64(len(items)) + 20}
	top := 0.0
	for _, it := range items {
		top = math.Max(top, math.Max(it.Value, it.Marker))
	}
	scale, step := ticks(top, integral(items))
	plotW := chartWidth - hbarLabelW - hbarTextW
	x := func(v float64) float64 { return round1(hbarLabelW + plotW*v/scale) }
	for i, it := range items {
		y := 24 + hbarRowH*float64(i)
		b := bar{
			Label: clip(it.Label, 28), Full: it.Label, Text: it.Text, Partial: it.Partial,
			X: hbarLabelW, Y: round1(y + 4), W: math.Max(round1(x(it.Value)-hbarLabelW), 0), H: hbarRowH - 8,
			LabelX: hbarLabelW - 8, LabelY: round1(y + hbarRowH/2 + 4),
		}
		b.TextX, b.TextY = b.X+b.W+6, b.LabelY
		if it.Marker > 0 {
			b.HasMarker, b.MarkerX, b.MarkerTop, b.MarkerH = true, x(it.Marker), round1(y+1), hbarRowH-2
			b.TextX = math.Max(b.TextX, b.MarkerX+6)
		}
		c.Bars = append(c.Bars, b)
	}
	for v := 0.0; v <= scale+step/2; v += step {
		c.Grid = append(c.Grid, gridLine{X1: x(v), Y1: 18, X2: x(v), Y2: c.Height - 18,
			TX: x(v), TY: 12, Text: formatNumber(v)})
	}
	return c
}

// vbarChart lays out vertical columns (a time series), labels under each
// column thinned so they do not collide.
func vbarChart(id, title, desc string, items []chartItem) chart {
	return vbarChartWidth(id, title, desc, items, chartWidth)
}

// vbarChartWidth is vbarChart in a narrower frame (two side by side keep
// their text at the page's size).
func vbarChartWidth(id, title, desc string, items []chartItem, chartWidth float64) chart {
	c := chart{ID: id, Title: title, Desc: desc, Width: chartWidth, Height: vbarHeight + vbarAxisH, Vertical: true}
	top := 0.0
	for _, it := range items {
		top = math.Max(top, it.Value)
	}
	scale, step := ticks(top, integral(items))
	left, plotH := 40.0, vbarHeight-20
	slot := (chartWidth - left - 8) / math.Max(float64(len(items)), 1)
	longest := 0
	for _, it := range items {
		longest = max(longest, utf8.RuneCountInString(clip(it.Label, vbarMaxLabel)))
	}
	// About 6.5 units a character at the axis font size, plus a gap.
	every := int(math.Ceil(float64(len(items)) * (float64(longest)*6.5 + 8) / (chartWidth - left)))
	for i, it := range items {
		h := round1(plotH * it.Value / scale)
		b := bar{
			Full: it.Label, Text: it.Text,
			X: round1(left + slot*float64(i) + slot*0.15), W: round1(slot * 0.7),
			Y: round1(20 + plotH - h), H: h,
			LabelX: round1(left + slot*float64(i) + slot/2), LabelY: vbarHeight + 16,
			Partial: it.Partial,
		}
		if every <= 1 || i%every == 0 {
			b.Label = clip(it.Label, vbarMaxLabel)
		}
		b.TextX, b.TextY = b.LabelX, round1(b.Y-4)
		if slot < 22 { // no room for value labels; the tooltip and table have them
			b.Text = ""
		}
		c.Bars = append(c.Bars, b)
	}
	for v := 0.0; v <= scale+step/2; v += step {
		y := round1(20 + plotH - plotH*v/scale)
		c.Grid = append(c.Grid, gridLine{X1: left, Y1: y, X2: chartWidth - 8, Y2: y, TX: left - 6, TY: y + 4, Text: formatNumber(v)})
	}
	return c
}

// ticks picks the axis: a step of 1, 2 or 5 times a power of ten (2.5 too
// for fractional data, never below 1 for counts) giving about four grid
// intervals, and the axis end, the first multiple of step at or above top.
func ticks(top float64, integer bool) (end, step float64) {
	if top <= 0 {
		top = 1
	}
	raw := top / 4
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	mults := []float64{1, 2, 2.5, 5, 10}
	if integer {
		mults = []float64{1, 2, 5, 10}
	}
	step = 10 * p
	for _, m := range mults {
		if m*p >= raw {
			step = m * p
			break
		}
	}
	if integer {
		step = math.Max(step, 1)
	}
	return step * math.Ceil(top/step), step
}

// integral reports whether every value is a whole number.
func integral(items []chartItem) bool {
	for _, it := range items {
		if it.Value != math.Trunc(it.Value) || it.Marker != math.Trunc(it.Marker) {
			return false
		}
	}
	return true
}

func round1(v float64) float64 { return math.Round(v*10) / 10 }

// formatNumber prints whole numbers without decimals and others with one.
func formatNumber(v float64) string {
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	return strconv.FormatFloat(v, 'f', 1, 64)
}

// formatPercent writes a rate as a percentage: one decimal under 10 %
// (3.5 %), whole numbers above (42 %).
func formatPercent(v float64) string {
	if math.Abs(v) < 0.1 && v != 0 {
		return strconv.FormatFloat(v*100, 'f', 1, 64) + " %"
	}
	return strconv.FormatFloat(math.Round(v*100), 'f', 0, 64) + " %"
}

// formatCount writes a whole number with thousands separators.
func formatCount(v float64) string {
	s := strconv.FormatFloat(math.Abs(math.Round(v)), 'f', 0, 64)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	if math.Round(v) < 0 {
		s = "-" + s
	}
	return s
}

// formatDays writes a number of days as a whole number: "1 day", "57 days".
func formatDays(v float64) string {
	n := math.Round(v)
	if n == 1 {
		return "1 day"
	}
	return formatCount(n) + " days"
}

// plural writes n and its noun: "1 job", "3 jobs".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return formatCount(float64(n)) + " " + noun + "s"
}

// Human dates: "Nov 29, 2026" and "Nov 29, 2026 18:34 UTC".
const (
	humanDay  = "Jan 2, 2006"
	humanTime = "Jan 2, 2006 15:04 MST"
)

// humanInstant writes t in UTC and, for an account in another zone, in
// that zone too: "Nov 29, 2026 18:34 UTC (10:34 PST)".
func humanInstant(t time.Time, loc *time.Location) string {
	s := t.UTC().Format(humanTime)
	if loc != nil && loc != time.UTC {
		if l := t.In(loc); l.Format("MST") != "UTC" {
			if l.YearDay() == t.UTC().YearDay() {
				return s + " (" + l.Format("15:04 MST") + ")"
			}
			return s + " (" + l.Format("Jan 2 15:04 MST") + ")"
		}
	}
	return s
}

// clip shortens s to n runes with an ellipsis; the full text goes in the
// bar's tooltip.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
