package queries

import (
	"fmt"
	"math"
	"strconv"
	"unicode/utf8"
)

// The report's charts are plain SVG laid out here and drawn by
// report.html.tmpl, so every label passes through html/template's escaping
// and the page needs no script, font or image.

// chartItem is one bar: a label, its value, the text shown at the bar's end,
// and an optional marker value (a p75 tick on time-to-fill).
type chartItem struct {
	Label  string
	Value  float64
	Text   string
	Marker float64
}

// bar is one laid-out bar, in SVG user units.
type bar struct {
	Label, Full, Text  string
	X, Y, W, H         float64
	LabelX, LabelY     float64
	TextX, TextY       float64
	MarkerX, MarkerTop float64
	HasMarker          bool
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
			Label: clip(it.Label, 28), Full: it.Label, Text: it.Text,
			X: hbarLabelW, Y: round1(y + 4), W: math.Max(round1(x(it.Value)-hbarLabelW), 0), H: hbarRowH - 8,
			LabelX: hbarLabelW - 8, LabelY: round1(y + hbarRowH/2 + 4),
		}
		b.TextX, b.TextY = b.X+b.W+6, b.LabelY
		if it.Marker > 0 {
			b.HasMarker, b.MarkerX, b.MarkerTop = true, x(it.Marker), round1(y+1)
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
	c := chart{ID: id, Title: title, Desc: desc, Width: chartWidth, Height: vbarHeight + vbarAxisH, Vertical: true}
	top := 0.0
	for _, it := range items {
		top = math.Max(top, it.Value)
	}
	scale, step := ticks(top, integral(items))
	left, plotH := 40.0, vbarHeight-20
	slot := (chartWidth - left - 8) / math.Max(float64(len(items)), 1)
	every := int(math.Ceil(float64(len(items)) * 60 / (chartWidth - left)))
	for i, it := range items {
		h := round1(plotH * it.Value / scale)
		b := bar{
			Full: it.Label, Text: it.Text,
			X: round1(left + slot*float64(i) + slot*0.15), W: round1(slot * 0.7),
			Y: round1(20 + plotH - h), H: h,
			LabelX: round1(left + slot*float64(i) + slot/2), LabelY: vbarHeight + 16,
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

func formatPercent(v float64) string { return fmt.Sprintf("%.0f%%", v*100) }

// clip shortens s to n runes with an ellipsis; the full text goes in the
// bar's tooltip.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
