package ui

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/rebindwatch/rebindwatch/detect"
)

// Exports (e): what the focused pane shows under the pins and the range,
// every row of it and not only those on screen (the engine is asked again
// for all its matching rows), or the open detail's evidence, written to a
// new file as JSON lines or CSV. Strings are sanitised as on screen (keys
// are fingerprints already) and then JSON-escaped or CSV-quoted; a CSV
// cell that a spreadsheet would run as a formula (=, +, -, @, tab, CR
// first) gets a leading apostrophe.

// exportFormat is a file format of an export.
type exportFormat struct {
	letter, name, ext string
	write             func(w io.Writer, names []string, rows [][]any) error
}

var exportFormats = []exportFormat{
	{"j", "JSON lines", ".jsonl", writeJSONLines},
	{"c", "CSV", ".csv", writeCSV},
}

// exportValue is the value an export writes for a row's cell: raw when the
// column has one (numbers stay numbers), a time as RFC 3339 UTC (an age
// on screen), else the text shown, never cut.
func (c *col[T]) exportValue(r *T, now time.Time) any {
	switch {
	case c.raw != nil:
		switch v := c.raw(r).(type) {
		case string:
			return clean(v)
		case time.Time:
			return stamp(v)
		default:
			return v
		}
	case c.age != nil:
		return stamp(c.age(r))
	case c.host != nil:
		return c.host(r).String()
	}
	return c.cell(r)
}

// stamp is a time as exports write it; "" for none.
func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04:05.000000Z")
}

// exportTable is rows as named values in cols' order.
func exportTable[T any](cols []col[T], rows []*T, now time.Time) ([]string, [][]any) {
	out := make([][]any, len(rows))
	for i, r := range rows {
		vals := make([]any, len(cols))
		for j := range cols {
			vals[j] = cols[j].exportValue(r, now)
		}
		out[i] = vals
	}
	return columnNames(cols), out
}

func (p *tablePane[T]) export(now time.Time) ([]string, [][]any) {
	cols, _ := p.shownCols()
	return exportTable(cols, p.shown, now)
}

// writeJSONLines writes one object a row, its fields in column order.
func writeJSONLines(w io.Writer, names []string, rows [][]any) error {
	bw := bufio.NewWriter(w)
	keys := make([][]byte, len(names))
	for i, n := range names {
		keys[i], _ = json.Marshal(n)
	}
	for _, r := range rows {
		bw.WriteByte('{')
		for i := range names {
			if i > 0 {
				bw.WriteByte(',')
			}
			v, err := json.Marshal(r[i])
			if err != nil {
				return err
			}
			bw.Write(keys[i])
			bw.WriteByte(':')
			bw.Write(v)
		}
		bw.WriteString("}\n")
	}
	return bw.Flush()
}

// writeCSV writes a header line of column names, then a line a row.
func writeCSV(w io.Writer, names []string, rows [][]any) error {
	cw := csv.NewWriter(w)
	rec := make([]string, len(names))
	for i, n := range names {
		rec[i] = neutralise(n)
	}
	cw.Write(rec)
	for _, r := range rows {
		for i, v := range r {
			rec[i] = csvCell(v)
		}
		cw.Write(rec)
	}
	cw.Flush()
	return cw.Error()
}

// csvCell is one value as CSV text: numbers as they are, text neutralised.
func csvCell(v any) string {
	switch x := v.(type) {
	case string:
		return neutralise(x)
	case int:
		return strconv.Itoa(x)
	case uint64:
		return strconv.FormatUint(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	case nil:
		return ""
	}
	return neutralise(fmt.Sprint(v))
}

// neutralise keeps a spreadsheet from running a cell as a formula (OWASP,
// "CSV injection"): text starting with =, +, -, @, a tab or a carriage
// return gets a leading apostrophe.
func neutralise(s string) string {
	if s != "" {
		switch s[0] {
		case '=', '+', '-', '@', '\t', '\r':
			return "'" + s
		}
	}
	return s
}

// exportPlan is what an export will write: a name for the file, and how
// to get its rows (run in a command: it may ask the engine).
type exportPlan struct {
	name string // "keys", "evidence-inc-3"
	rows func() ([]string, [][]any)
}

// exportPlan is the export e would make from mode: the open detail's
// evidence or requests, else the focused pane under the pins and range,
// all its rows.
func (m *Model) exportPlan(from mode) (exportPlan, bool) {
	if from == modeDetail {
		names, rows, name, ok := m.detail.export(m.view)
		if !ok {
			return exportPlan{}, false
		}
		return exportPlan{name: name, rows: func() ([]string, [][]any) { return names, rows }}, true
	}
	q := m.query()
	q.All = true
	b, clearedAt, narrowed := m.opts.Backend, m.clearedAt, m.narrowed()
	p := m.panes[m.focus].clone()
	name, _ := p.heading()
	return exportPlan{name: name, rows: func() ([]string, [][]any) {
		full := b.SnapshotFor(q)
		v := newSnapView(&full, nil, clearedAt, narrowed)
		p.apply(v)
		return p.export(v.now())
	}}, true
}

// startExport asks for the format.
func (m Model) startExport() (Model, tea.Cmd) {
	if _, ok := m.exportPlan(m.mode); !ok {
		m.setFlash("nothing to export here: e exports a pane, or an alert's, incident's or key's evidence", true)
		return m, nil
	}
	m.exportFromBack, m.mode = m.mode, modeExport
	return m, nil
}

// keyExport answers the format prompt and writes the file in a command.
func (m Model) keyExport(k tea.KeyPressMsg) (Model, tea.Cmd) {
	km := &m.ctx.keys
	m.mode = m.exportFromBack
	if key.Matches(k, km.Interrupt) {
		return m, tea.Quit
	}
	var f *exportFormat
	for i := range exportFormats {
		if k.String() == exportFormats[i].letter {
			f = &exportFormats[i]
		}
	}
	plan, ok := m.exportPlan(m.mode)
	if f == nil || !ok {
		m.setFlash("nothing exported", false)
		return m, nil
	}
	dir, at := m.opts.ExportDir, m.opts.Now()
	return m, func() tea.Msg {
		names, rows := plan.rows()
		path, err := writeExport(dir, plan.name, at, f, names, rows)
		return exportMsg{path: path, rows: len(rows), err: err}
	}
}

// writeExport writes a new file in dir named after what it holds and when
// (never over an existing one) and returns its path.
func writeExport(dir, name string, at time.Time, f *exportFormat, names []string, rows [][]any) (string, error) {
	if dir == "" {
		dir = "."
	}
	base := "rebindwatch-" + name + "-" + at.Format("20060102-150405")
	for i := 1; i < 100; i++ {
		path := filepath.Join(dir, base+f.ext)
		if i > 1 {
			path = filepath.Join(dir, base+"-"+strconv.Itoa(i)+f.ext)
		}
		file, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return path, err
		}
		werr := f.write(file, names, rows)
		if cerr := file.Close(); werr == nil {
			werr = cerr
		}
		if werr != nil {
			return path, fmt.Errorf("writing %s: %w", path, werr)
		}
		return path, nil
	}
	return "", fmt.Errorf("no free file name for %s in %s", base, dir)
}

// exportPrompt is the footer while e asks for the format.
func (m *Model) exportPrompt() string {
	what := "this pane's rows"
	if plan, ok := m.exportPlan(m.exportFromBack); ok {
		what = plan.name
	}
	if m.narrowed() && m.exportFromBack != modeDetail {
		what += " (under the pins)"
	}
	return "export " + what + " as: j JSON lines · c CSV · esc: nothing"
}

// export is the detail's rows as an export: an alert's or an incident's
// evidence timeline, a key's recent requests, one request.
func (d *detailView) export(v *snapView) (names []string, rows [][]any, name string, ok bool) {
	now := v.now()
	switch {
	case !d.loaded:
		return nil, nil, "", false
	case d.kind == detailAlert || d.kind == detailIncident:
		entries := d.incident.Timeline
		name = "evidence-" + d.incident.Incident.ID
		if d.kind == detailAlert {
			entries, name = detect.Timeline(d.alert), "evidence-alert-"+strconv.FormatUint(d.alert.ID, 10)
		}
		names, rows = exportTable(timelineCols(), ptrsOf(timelineRows(v, entries)), now)
		return names, rows, name, true
	case d.kind == detailKey:
		reqs := reqRows(v, d.key.Recent)
		names, rows = exportTable(requestCols(), ptrsOf(reqs), now)
		return names, rows, "key-" + d.key.Key + "-requests", true
	case d.kind == detailRequest:
		reqs := reqRows(v, []detect.Request{d.req})
		names, rows = exportTable(requestCols(), ptrsOf(reqs), now)
		return names, rows, "request", true
	}
	return nil, nil, "", false
}

func ptrsOf[T any](rows []T) []*T {
	out := make([]*T, len(rows))
	for i := range rows {
		out[i] = &rows[i]
	}
	return out
}
