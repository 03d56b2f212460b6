package report

import (
	"fmt"
	"strconv"
	"time"

	"github.com/rebindwatch/rebindwatch/detect"
)

// A chart is an SVG bar chart over the run's buckets, its geometry worked
// out here so that the template only places numbers.
type chart struct {
	Title   string
	Caption string
	Empty   string // said instead of the chart when there is nothing to draw
	W, H    int    // the viewBox
	Plot    box    // where bars go
	YMax    string // the top of the scale
	Labels  []axisLabel
	Bars    []bar
	Legend  []legendItem
}

type box struct{ X, Y, W, H float64 }

// Bottom is the plot's baseline.
func (b box) Bottom() float64 { return b.Y + b.H }

// Right is the plot's right edge.
func (b box) Right() float64 { return b.X + b.W }

type axisLabel struct {
	X      float64
	Text   string
	Anchor string // start, middle, end
}

// bar is one rectangle; Class picks its colour (a severity), Tip is its
// tooltip (an SVG title: shown on hover, read by screen readers).
type bar struct {
	X, Y, W, H float64
	Class      string
	Tip        string
}

type legendItem struct{ Class, Text string }

const (
	chartW, chartH = 960, 180
	padL, padR     = 48, 12
	padT, padB     = 10, 28
)

func newChart(title string, h detect.RunHistory) chart {
	c := chart{Title: title, W: chartW, H: chartH,
		Plot: box{X: padL, Y: padT, W: chartW - padL - padR, H: chartH - padT - padB}}
	if len(h.Buckets) == 0 {
		c.Empty = "no events yet"
		return c
	}
	n := len(h.Buckets)
	bw := c.Plot.W / float64(n)
	for _, f := range []float64{0, 0.5, 1} {
		i := int(f * float64(n))
		anchor := map[float64]string{0: "start", 0.5: "middle", 1: "end"}[f]
		if n == 1 && f > 0 {
			continue
		}
		c.Labels = append(c.Labels, axisLabel{X: c.Plot.X + float64(i)*bw, Text: h.Start.Add(time.Duration(i) * h.Width).UTC().Format("2006-01-02 15:04:05Z"), Anchor: anchor})
	}
	c.Caption = fmt.Sprintf("%d buckets of %s, %s to %s (UTC)", n, durText(h.Width),
		h.Start.UTC().Format(time.RFC3339), h.End().UTC().Format(time.RFC3339))
	return c
}

// requestChart charts the requests per bucket.
func requestChart(h detect.RunHistory) chart {
	c := newChart("Requests", h)
	if c.Empty != "" {
		return c
	}
	var top uint64
	for _, b := range h.Buckets {
		top = max(top, b.Requests)
	}
	c.YMax = perBucket(top, h.Width)
	if top == 0 {
		c.Empty = "no requests"
		return c
	}
	bw := c.Plot.W / float64(len(h.Buckets))
	for i, b := range h.Buckets {
		if b.Requests == 0 {
			continue
		}
		ht := max(1, c.Plot.H*float64(b.Requests)/float64(top))
		c.Bars = append(c.Bars, bar{X: c.Plot.X + float64(i)*bw, Y: c.Plot.Bottom() - ht, W: barWidth(bw), H: ht, Class: "req",
			Tip: bucketTip(h, i) + ": " + strconv.FormatUint(b.Requests, 10) + " requests"})
	}
	return c
}

// alertChart stacks the new alerts per bucket by severity, most severe on top.
func alertChart(h detect.RunHistory) chart {
	c := newChart("New alerts, by severity", h)
	if c.Empty != "" {
		return c
	}
	var top uint64
	for _, b := range h.Buckets {
		top = max(top, b.Alerts[0]+b.Alerts[1]+b.Alerts[2]+b.Alerts[3])
	}
	c.YMax = perBucket(top, h.Width)
	for s := detect.SeverityCritical; s >= detect.SeverityLow; s-- {
		c.Legend = append(c.Legend, legendItem{Class: "sev-" + s.String(), Text: s.String()})
	}
	if top == 0 {
		c.Empty = "no alerts"
		return c
	}
	bw := c.Plot.W / float64(len(h.Buckets))
	for i, b := range h.Buckets {
		y := c.Plot.Bottom()
		for s := detect.SeverityLow; s <= detect.SeverityCritical; s++ {
			n := b.Alerts[s]
			if n == 0 {
				continue
			}
			ht := max(2, c.Plot.H*float64(n)/float64(top))
			y -= ht
			c.Bars = append(c.Bars, bar{X: c.Plot.X + float64(i)*bw, Y: y, W: barWidth(bw), H: ht, Class: "sev-" + s.String(),
				Tip: bucketTip(h, i) + ": " + strconv.FormatUint(n, 10) + " " + s.String()})
		}
	}
	return c
}

// barWidth leaves a gap between wide bars; thin ones touch.
func barWidth(bw float64) float64 {
	if bw >= 4 {
		return bw - 1
	}
	return bw
}

func bucketTip(h detect.RunHistory, i int) string {
	return h.Start.Add(time.Duration(i)*h.Width).UTC().Format("2006-01-02 15:04:05Z") + " +" + durText(h.Width)
}

// perBucket labels the top of a scale: a count per bucket.
func perBucket(n uint64, w time.Duration) string {
	return strconv.FormatUint(n, 10) + " / " + durText(w)
}

// durText writes a bucket width: "1 s", "10 min", "2 h", "1 d".
func durText(d time.Duration) string {
	switch {
	case d >= 24*time.Hour && d%(24*time.Hour) == 0:
		return strconv.FormatInt(int64(d/(24*time.Hour)), 10) + " d"
	case d >= time.Hour && d%time.Hour == 0:
		return strconv.FormatInt(int64(d/time.Hour), 10) + " h"
	case d >= time.Minute && d%time.Minute == 0:
		return strconv.FormatInt(int64(d/time.Minute), 10) + " min"
	}
	return strconv.FormatFloat(d.Seconds(), 'g', -1, 64) + " s"
}
