package ui

import (
	"slices"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/rebindwatch/rebindwatch/detect"
)

// Pivots: f pins a value of the selected row (a key, a Host, an Origin, a
// client, a source) and every pane then shows only what was seen with it;
// the engine answers from its tables and its recent requests
// (detect.Query.Pins) and says where its answer may be short. Pins
// combine; a range of time marked on the timeline is one more. They show
// as chips in the header; F clears them all, backspace drops the last.

// chip is one pin, or (pin.Kind == "") the time range [from, to).
type chip struct {
	pin      detect.Pin
	from, to time.Time
}

func (c chip) isRange() bool { return c.pin.Kind == "" }

// pinLetters are the keys that pick a kind of value when a row has several.
var pinLetters = map[detect.PinKind]string{
	detect.PinHost: "h", detect.PinKey: "k", detect.PinOrigin: "o", detect.PinClient: "c", detect.PinSource: "s",
}

// pinText is how a pin reads in a chip or a prompt, in about w cells: its
// kind and its value, sanitised, a host-like one cut in its middle.
func pinText(p detect.Pin, w int) string {
	label := string(p.Kind) + " "
	room := max(6, w-width(label))
	switch p.Kind {
	case detect.PinHost, detect.PinOrigin:
		return label + showHost(p.Value).cut(room)
	}
	return label + cut(clean(p.Value), room)
}

// chipText is a chip as the header shows it.
func chipText(c chip, w int) string {
	if c.isRange() {
		return "⌚ " + clock(c.from) + "–" + clock(c.to) + " (" + span(c.to.Sub(c.from)) + ")"
	}
	return pinText(c.pin, w)
}

// span formats a range's length: 30s, 5m, 2h10m.
func span(d time.Duration) string {
	switch {
	case d < time.Minute:
		return duration(d)
	case d%time.Minute == 0 && d < time.Hour:
		return d.String()[:len(d.String())-2]
	}
	return duration(d)
}

// pins are the chips' pins, in order.
func (m *Model) pins() []detect.Pin {
	var out []detect.Pin
	for _, c := range m.chips {
		if !c.isRange() {
			out = append(out, c.pin)
		}
	}
	return out
}

// timeRange is the pinned range, if any.
func (m *Model) timeRange() (chip, bool) {
	for _, c := range m.chips {
		if c.isRange() {
			return c, true
		}
	}
	return chip{}, false
}

// narrowed reports whether pins or a range narrow what is shown.
func (m *Model) narrowed() bool { return len(m.chips) > 0 }

// pinChoices are what f can pin here: the selected evidence row's values
// in a detail, else what the detail is about, else the focused pane's
// selected row's.
func (m *Model) pinChoices() []detect.Pin {
	n := len(m.snap.Sources)
	if m.mode == modeDetail {
		body := m.detail.body(m.ctx, m.view, m.ctx.width)
		if t, ok := body.selected(); ok && t.open.detail.kind == detailRequest {
			return withoutLoneSource(requestPins(&t.open.detail.req), n)
		}
		return withoutLoneSource(m.detail.pins(), n)
	}
	return withoutLoneSource(m.panes[m.focus].pinsSelected(), n)
}

// startPin pins the selected row's value, or asks which one when it has
// several.
func (m Model) startPin() (Model, tea.Cmd) {
	choices := m.pinChoices()
	switch len(choices) {
	case 0:
		m.setFlash("nothing to pin here: select a row (a key, a Host, an Origin, a request, an alert)", true)
		return m, nil
	case 1:
		return m.addPin(choices[0])
	}
	m.choices, m.back, m.mode = choices, m.mode, modePin
	return m, nil
}

// keyPin answers the pin prompt: a kind's letter, f for the first, anything
// else cancels.
func (m Model) keyPin(k tea.KeyPressMsg) (Model, tea.Cmd) {
	km := &m.ctx.keys
	choices := m.choices
	m.mode, m.choices = m.back, nil
	switch {
	case key.Matches(k, km.Interrupt):
		return m, tea.Quit
	case key.Matches(k, km.Pin):
		return m.addPin(choices[0])
	}
	for _, c := range choices {
		if k.String() == pinLetters[c.Kind] {
			return m.addPin(c)
		}
	}
	m.setFlash("nothing pinned", false)
	return m, nil
}

// addPin adds a pin and asks the engine for the narrowed tables. From a
// detail view it goes back to the panes, which now show the pin.
func (m Model) addPin(p detect.Pin) (Model, tea.Cmd) {
	if slices.ContainsFunc(m.chips, func(c chip) bool { return c.pin == p }) {
		m.setFlash(pinText(p, 60)+" is pinned already", false)
		return m, nil
	}
	m.chips = append(slices.Clip(m.chips), chip{pin: p})
	if m.mode == modeDetail {
		m.closeDetail()
	}
	m.setFlash("pinned "+pinText(p, 60)+": every pane shows its traffic — F clears, backspace drops it", false)
	return m, m.fetch(0, false)
}

// unpin clears every chip (and a mark half made).
func (m Model) unpin() (Model, tea.Cmd) {
	if len(m.chips) == 0 && m.mark.IsZero() {
		m.setFlash("nothing pinned (f pins the selected row's value)", false)
		return m, nil
	}
	m.chips, m.mark = nil, time.Time{}
	m.setFlash("pins and range cleared: every pane shows all traffic", false)
	return m, m.fetch(0, false)
}

// dropPin drops the last chip.
func (m Model) dropPin() (Model, tea.Cmd) {
	n := len(m.chips)
	if n == 0 {
		m.setFlash("nothing pinned (f pins the selected row's value)", false)
		return m, nil
	}
	last := m.chips[n-1]
	m.chips = slices.Clone(m.chips[:n-1])
	m.setFlash("dropped "+chipText(last, 60), false)
	return m, m.fetch(0, false)
}

// requestPins are the values of a request f can pin, most telling first.
func requestPins(r *detect.Request) []detect.Pin {
	var out []detect.Pin
	if h := checkedHost(r); r.HasHost || r.URIHost != "" {
		out = append(out, detect.Pin{Kind: detect.PinHost, Value: detect.NormalizeHost(h)})
	}
	if r.Key != "" {
		out = append(out, detect.Pin{Kind: detect.PinKey, Value: r.Key})
	}
	if r.HasOrigin {
		out = append(out, detect.Pin{Kind: detect.PinOrigin, Value: detect.NormalizeOrigin(r.Origin)})
	}
	if r.Client.IsValid() {
		out = append(out, detect.Pin{Kind: detect.PinClient, Value: r.Client.Addr().Unmap().String()})
	}
	if r.Source != "" {
		out = append(out, detect.Pin{Kind: detect.PinSource, Value: r.Source})
	}
	return out
}

// withoutLoneSource drops a source pin when there is one source: it would
// narrow nothing.
func withoutLoneSource(pins []detect.Pin, sources int) []detect.Pin {
	if sources > 1 {
		return pins
	}
	return slices.DeleteFunc(slices.Clone(pins), func(p detect.Pin) bool { return p.Kind == detect.PinSource })
}

// alertPins are an alert's values: what it is about first.
func alertPins(a *detect.Alert) []detect.Pin {
	var out []detect.Pin
	add := func(k detect.PinKind, v string) {
		if v != "" && !slices.ContainsFunc(out, func(p detect.Pin) bool { return p.Kind == k }) {
			out = append(out, detect.Pin{Kind: k, Value: v})
		}
	}
	switch detect.AllowKind(a.Detector) {
	case "host":
		add(detect.PinHost, detect.NormalizeHost(a.Subject))
	case "origin":
		add(detect.PinOrigin, detect.NormalizeOrigin(a.Subject))
	}
	if a.Detector == detect.DetDNSRebind || a.Detector == detect.DetDNSPrivateAnswer {
		add(detect.PinHost, detect.NormalizeHost(a.Subject))
	}
	add(detect.PinKey, a.Key)
	if a.Host != "" {
		add(detect.PinHost, detect.NormalizeHost(a.Host))
	}
	if a.Origin != "" {
		add(detect.PinOrigin, detect.NormalizeOrigin(a.Origin))
	}
	add(detect.PinClient, a.Client)
	return out
}

// incidentPins are an incident's values: its name, its first key and client.
func incidentPins(inc *detect.Incident) []detect.Pin {
	var out []detect.Pin
	if len(inc.Names) > 0 {
		out = append(out, detect.Pin{Kind: detect.PinHost, Value: detect.NormalizeHost(inc.Names[0])})
	}
	if len(inc.Keys) > 0 {
		out = append(out, detect.Pin{Kind: detect.PinKey, Value: inc.Keys[0]})
	}
	if len(inc.Clients) > 0 {
		out = append(out, detect.Pin{Kind: detect.PinClient, Value: inc.Clients[0]})
	}
	return out
}

// pins are what f pins in a detail view with no row selected: what the
// view is about.
func (d *detailView) pins() []detect.Pin {
	switch d.kind {
	case detailAlert:
		return alertPins(&d.alert)
	case detailIncident:
		return incidentPins(&d.incident.Incident)
	case detailKey:
		return []detect.Pin{{Kind: detect.PinKey, Value: d.key.Key}}
	case detailRequest:
		return requestPins(&d.req)
	}
	return nil
}

// pinPrompt is the footer while f asks which value to pin, in w cells:
// each choice with its letter, kind and value; the kinds go first when it
// is too long, then the longest values lose their middle.
func (m *Model) pinPrompt(w int) string {
	const head, tail, sep = "pin: ", " · esc: none", " · "
	for _, kinds := range []bool{true, false} {
		parts := make([]string, len(m.choices))
		room := make([]int, len(m.choices))
		for i, c := range m.choices {
			room[i] = width(clean(c.Value)) + len(c.Kind) + 1
		}
		for {
			total := width(head) + width(tail) + width(sep)*(len(parts)-1)
			for i, c := range m.choices {
				if kinds {
					parts[i] = pinLetters[c.Kind] + " " + pinText(c, room[i])
				} else {
					parts[i] = pinLetters[c.Kind] + " " + strings.TrimPrefix(pinText(c, room[i]), string(c.Kind)+" ")
				}
				total += width(parts[i])
			}
			if total <= w {
				return head + strings.Join(parts, sep) + tail
			}
			if kinds {
				break // try without the kinds first
			}
			widest := 0
			for i := range room {
				if room[i] > room[widest] {
					widest = i
				}
			}
			if room[widest] <= len(m.choices[widest].Kind)+1+6 {
				return head + strings.Join(parts, sep) + tail
			}
			room[widest]--
		}
	}
	return ""
}
