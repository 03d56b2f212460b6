package ui

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/rebindwatch/rebindwatch/detect"
)

// pane is a list pane as the root model drives it; the model keeps one per
// paneID in an array and never asks which it is.
type pane interface {
	// heading is the pane's name and title as in the spec.
	heading() (name, title string)
	// status is the title with counts: "Keys 4", "Keys 1/4", "Alerts 9 · 1 new ↑".
	status() string
	// news counts rows that came while the user was scrolled away.
	news() int
	apply(v *snapView)
	// markSeen takes the rows as seen when the pane is on screen with its
	// cursor at the top.
	markSeen(shown bool)
	render(c *viewCtx, w, h int, focused bool, now time.Time) string
	// clamp keeps the cursor on a row and in the window of a pane h lines
	// high (its header and notes included); moveBy moves it by a
	// navigation key.
	clamp(h int)
	moveBy(km *KeyMap, k tea.KeyPressMsg, h int)
	// filterText is what the pane is filtered by, for the header: the
	// typed filter and a drill-down's exact value ("host = a.test").
	filterText() string
	typed() string
	// setFilter filters anew; fromTop puts the cursor on the first match
	// (a filter being typed, a drill-down), else it follows its row (esc
	// clearing the filter). Clearing it drops a drill-down's pin too. The
	// caller applies the snapshot again.
	setFilter(f string, fromTop bool)
	// pinTo shows only the rows whose kind ("host", "origin") is exactly
	// value; false when the pane has no such rows.
	pinTo(kind, value string) bool
	// sortNext picks the next sort column (or, reverse, flips the
	// direction) and describes the new order.
	sortNext(reverse bool) string
	// fillQuery writes the pane's sort and filter into the engine's
	// query, so the rows it gets are the top rows of its order over the
	// whole table, not only the most recent ones.
	fillQuery(q *detect.Query)
	// enter is where enter on the selected row leads; false when there is
	// no row or nowhere to go.
	enter() (drill, bool)
	// allowSelected is what `a` allows on this pane: ok is false when no
	// row is selected; a zero target when the pane allows nothing.
	allowSelected() (t allowTarget, ok bool)
	// pinsSelected are the values f can pin on the selected row, most
	// telling first; none when no row is selected.
	pinsSelected() []detect.Pin
	// clone is a copy whose state changes leave the original alone.
	clone() pane

	// Columns (C): every column's name, whether it is shown, in the order
	// shown (hidden ones after); setColumns shows the named ones in that
	// order (unknown names are ignored; none keeps them all).
	columnList() []columnItem
	setColumns(names []string)
	// export is every row (not only those on screen) as named values in
	// the columns shown (export.go).
	export(now time.Time) (names []string, rows [][]any)
	// Mouse (mouse.go): the visible column at x of a table w cells wide
	// and h lines high (-1: none), sorting by it (as s would); the row
	// index on screen line y of the table (0 is its header; -1: none);
	// selecting it; scrolling by n rows.
	columnAt(c *viewCtx, w, h, x int, now time.Time) int
	sortBy(col int) string
	rowAt(y, h int) int
	selectRow(i, h int)
	scrollBy(n, h int)
}

// columnItem is one column of a pane as the chooser lists it.
type columnItem struct {
	name, title string
	shown       bool
}

// drill is where enter on a row leads: a detail view, or (detail.kind ==
// detailNone) the recent requests carrying a host or origin value.
type drill struct {
	detail      detailView
	kind, value string
}

// allowTarget is what `a` would allow: kind ("host" or "origin", as
// Backend.Allow takes it; empty when the row has nothing to allow) and the
// value as sent.
type allowTarget struct {
	kind, value string
	already     bool
}

// tableSpec is what makes one list pane different from another: its
// columns and where its rows come from. It never changes after New, so
// every copy of the model shares it.
type tableSpec[T any] struct {
	name  string // lower-case, in messages: "alerts"
	title string // "Alerts"
	cols  []col[T]
	rows  func(v *snapView) []T
	id    func(r *T) string   // identity, to follow a row across refreshes
	tie   func(a, b *T) int   // order of rows equal in the sorted column
	dim   func(r *T) bool     // nil: never; a dim row is faint and uncoloured
	seq   func(r *T) uint64   // nil: no "new" count; else rows above the seen seq are new
	match func(r *T) []string // the texts the filter searches, raw (the table cleans them)
	// empty is shown when there are no rows (emptyWhy, when it says
	// something, overrides it: a source without the field, a clear);
	// noMatch when the filter hides them all.
	empty, noMatch string
	emptyWhy       func(v *snapView) string
	// open is where enter on a row leads; allow is what `a` allows for a
	// row. Nil: the pane has no such action.
	open  func(r *T) drill
	allow func(r *T) allowTarget
	// pin matches a row against a drill-down's exact value (nil: the pane
	// takes none).
	pin func(r *T, kind, value string) bool
	// query picks the table of the engine's Query the pane's rows come
	// from (nil: the snapshot's rows are all there are); engineFilter turns
	// the typed filter into one the engine can answer and that keeps every
	// row this pane's filter would keep (zero: all rows).
	query        func(q *detect.Query) *detect.TableQuery
	engineFilter func(f string) detect.TableQuery
	// pins are the values f can pin on a row, most telling first.
	pins func(r *T) []detect.Pin
	// partial is how complete the engine's answer for this table is under
	// the pins and range (nil: always complete).
	partial func(v *snapView) detect.Partial
}

// col is one column of a table of T: how it is laid out, how a row's cell
// reads and looks, and how rows compare when the table is sorted by it.
// Widths are display cells.
type col[T any] struct {
	title string
	// name is the column's name in the config ([ui] columns) and in
	// exports; "" is the title in lower case.
	name  string
	min   int  // width it gets before any flex share
	flex  int  // share of the spare width (0: fixed)
	right bool // numbers align right
	drop  int  // when the table is too narrow, the highest drop goes first (0: never)
	want  int  // flexible columns: the comfortable width, kept by dropping expendable columns first
	// shrink lets the column be as narrow as its widest visible cell (or
	// its title) when that is less than min: client addresses are mostly
	// short IPv4s but must fit an IPv6 one when there is one.
	shrink bool

	// Exactly one of cell, host and age is set. cell returns sanitised
	// text (through clean); host a host-like value, cut in its middle
	// (hostText); age is a time shown as its age on the event clock.
	cell   func(r *T) string
	host   func(r *T) hostText
	age    func(r *T) time.Time
	accent func(r *T) accent // nil: plain

	// cmp orders rows ascending; nil in read-only tables. An age column
	// needs none: it orders by age, youngest first, so AGE↓ is the oldest.
	cmp func(a, b *T) int
	// desc: s picks this column most or newest first.
	desc bool
	// sorted: the pane opens sorted by this column (in its desc direction).
	sorted bool
	// natural: the engine's own order (newest first) stands for this
	// column descending; s cycles through it after the last column, and S
	// turns it into this column ascending.
	natural bool
	// query is the engine's name for this column (detect.KeyColumns,
	// ValueColumns), in panes whose rows come from a query.
	query string
	// raw is the value an export writes when the cell's text is not it
	// (a count with separators, a host cut in its middle); nil: the cell.
	raw func(r *T) any
}

// id is the column's name in the config and in exports.
func (c *col[T]) id() string {
	if c.name != "" {
		return c.name
	}
	return strings.ToLower(c.title)
}

// cell is one cell of a table row: its whole text, and for a host-like
// column the parts that cutting keeps.
type cell struct {
	text string
	host hostText
}

// cellOf is the cell of r at event time now.
func (c *col[T]) cellOf(r *T, now time.Time) cell {
	switch {
	case c.age != nil:
		return cell{text: age(now, c.age(r))}
	case c.host != nil:
		h := c.host(r)
		return cell{text: h.String(), host: h}
	}
	return cell{text: c.cell(r)}
}

// fitted is the cell fitted to exactly w cells.
func (c *col[T]) fitted(x cell, w int) string {
	if c.host != nil {
		return x.host.fit(w)
	}
	return align(x.text, w, c.right)
}

// compare orders two rows by this column, ascending.
func (c *col[T]) compare(a, b *T) int {
	if c.age != nil && c.cmp == nil {
		return c.age(b).Compare(c.age(a)) // younger first
	}
	return c.cmp(a, b)
}

// always is an accent that does not depend on the row.
func always[T any](a accent) func(*T) accent {
	return func(*T) accent { return a }
}

// order is how a table's rows are sorted: by one of its own columns (an
// index into the pane's column slice), or with col < 0 in the engine's
// order.
type order struct {
	col  int
	desc bool
}

// tablePane is a list pane: the rows of one snapshot slice, filtered and
// sorted, with a cursor. Every list pane is one of these.
type tablePane[T any] struct {
	*tableSpec[T]
	cursor, offset int
	order          order
	filter         string // as typed
	pinKind        string // a drill-down's exact match: "host", "origin"; "" = none
	pinValue       string // its value, normalised
	all            []T    // the rows of the snapshot on screen, before filtering
	shown          []*T   // filtered and sorted; they point into all
	why            string // the empty text, when the snapshot explains it
	seenSeq        uint64 // the newest seq the user has had on screen at the top
	unseen         int    // rows newer than seenSeq
	show           []int  // the columns shown, in order (indexes into cols); nil: all
	part           detect.Partial
}

func newTablePane[T any](spec *tableSpec[T]) *tablePane[T] {
	p := &tablePane[T]{tableSpec: spec, order: order{col: -1}}
	for i, c := range spec.cols {
		if c.sorted {
			p.order = order{col: i, desc: c.desc}
		}
	}
	return p
}

func (p *tablePane[T]) heading() (string, string) { return p.name, p.title }

func (p *tablePane[T]) status() string {
	s := p.title + " " + count(uint64(len(p.shown)))
	if p.filter != "" || p.pinKind != "" {
		s += "/" + count(uint64(len(p.all)))
	}
	switch {
	case p.part.Unsure > 0:
		s += " +" + count(uint64(p.part.Unsure)) + "?"
	case p.part.Why != "":
		s += " ≈"
	}
	if p.unseen > 0 {
		s += " · " + strconv.Itoa(p.unseen) + " new ↑"
	}
	return s
}

func (p *tablePane[T]) news() int { return p.unseen }

func (p *tablePane[T]) clone() pane {
	c := *p
	return &c
}

// apply filters and sorts the snapshot's rows. A cursor at the top stays
// at the top (new rows show at once); otherwise it follows the row it was
// on, by identity.
func (p *tablePane[T]) apply(v *snapView) {
	var sel string
	if p.cursor > 0 && p.cursor < len(p.shown) {
		sel = p.id(p.shown[p.cursor])
	}
	p.all = p.rows(v)
	p.why = ""
	if p.emptyWhy != nil {
		p.why = p.emptyWhy(v)
	}
	if p.why == "" && v.narrowed {
		p.why = "nothing seen with the pins and the range (F clears them, backspace drops the last)"
	}
	p.part = detect.Partial{}
	if p.partial != nil {
		p.part = p.partial(v)
	}
	all := p.all
	f := strings.ToLower(strings.TrimSpace(p.filter))
	pos := make([]int, 0, len(all)) // of the rows kept, in the snapshot
	for i := range all {
		if (f == "" || p.matches(&all[i], f)) && (p.pinKind == "" || p.pin(&all[i], p.pinKind, p.pinValue)) {
			pos = append(pos, i)
		}
	}
	if o := p.order; o.col >= 0 {
		by := &p.cols[o.col]
		slices.SortFunc(pos, func(i, j int) int {
			a, b := &all[i], &all[j]
			if r := by.compare(a, b); r != 0 {
				if o.desc {
					return -r
				}
				return r
			}
			// Then the pane's tie-break, then the engine's order: rows
			// never shuffle between refreshes.
			return cmp.Or(p.tie(a, b), cmp.Compare(i, j))
		})
	}
	p.shown = make([]*T, len(pos))
	for k, i := range pos {
		p.shown[k] = &all[i]
	}
	if sel != "" {
		for i, r := range p.shown {
			if p.id(r) == sel {
				p.cursor = i
				break
			}
		}
	}
	p.cursor = max(0, min(p.cursor, len(p.shown)-1))
}

// matches is the filter: a case-insensitive substring of any text the
// pane searches, as displayed.
func (p *tablePane[T]) matches(r *T, lowerFilter string) bool {
	for _, s := range p.match(r) {
		if containsFold(clean(s), lowerFilter) {
			return true
		}
	}
	return false
}

func (p *tablePane[T]) markSeen(shown bool) {
	if p.seq == nil {
		return
	}
	p.unseen = 0
	for i := range p.all {
		switch n := p.seq(&p.all[i]); {
		case shown && p.cursor == 0:
			p.seenSeq = max(p.seenSeq, n)
		case n > p.seenSeq:
			p.unseen++
		}
	}
}

func (p *tablePane[T]) clamp(h int) {
	p.cursor = max(0, min(p.cursor, len(p.shown)-1))
	p.offset = clampOffset(p.offset, p.cursor, p.rowsIn(h), len(p.shown))
}

func (p *tablePane[T]) moveBy(km *KeyMap, k tea.KeyPressMsg, h int) {
	rows := p.rowsIn(h)
	if i, ok := km.motion(k, p.cursor, max(1, rows-1), len(p.shown)-1); ok {
		p.cursor = i
		p.clamp(h)
	}
}

// rowAt is the index of the row drawn on line y of the pane (0 is the
// column header), or -1.
func (p *tablePane[T]) rowAt(y, h int) int {
	off := clampOffset(p.offset, p.cursor, p.rowsIn(h), len(p.shown))
	if y < 1 || y > p.rowsIn(h) || off+y-1 >= len(p.shown) {
		return -1
	}
	return off + y - 1
}

func (p *tablePane[T]) selectRow(i, h int) {
	if i >= 0 && i < len(p.shown) {
		p.cursor = i
		p.clamp(h)
	}
}

// scrollBy moves the cursor n rows (the wheel), the window with it.
func (p *tablePane[T]) scrollBy(n, h int) {
	p.cursor = max(0, min(len(p.shown)-1, p.cursor+n))
	p.clamp(h)
}

// columnAt finds the shown column drawn at x, as lines lays them out.
func (p *tablePane[T]) columnAt(c *viewCtx, w, h, x int, now time.Time) int {
	v := p.view(now)
	v.offset = clampOffset(p.offset, p.cursor, p.rowsIn(h), len(p.shown))
	_, vis, widths, gap := v.layoutAt(w, p.rowsIn(h)+1)
	pos := 0
	for k, i := range vis {
		if k > 0 {
			pos += gap
		}
		if x >= pos && x < pos+widths[i] {
			if p.show == nil {
				return i
			}
			return p.show[i]
		}
		pos += widths[i]
	}
	return -1
}

func (p *tablePane[T]) filterText() string {
	parts := make([]string, 0, 2)
	if p.pinKind != "" {
		parts = append(parts, p.pinKind+" = "+clean(p.pinValue))
	}
	if p.filter != "" {
		parts = append(parts, "~ \""+clean(p.filter)+"\"")
	}
	return strings.Join(parts, ", ")
}

func (p *tablePane[T]) typed() string { return p.filter }

func (p *tablePane[T]) setFilter(f string, fromTop bool) {
	p.filter = f
	if f == "" {
		p.pinKind, p.pinValue = "", ""
	}
	if fromTop {
		p.cursor = 0
	}
}

func (p *tablePane[T]) pinTo(kind, value string) bool {
	if p.pin == nil {
		return false
	}
	p.filter, p.pinKind, p.pinValue = "", kind, value
	p.cursor = 0
	return true
}

func (p *tablePane[T]) fillQuery(q *detect.Query) {
	if p.query == nil {
		return
	}
	tq := detect.TableQuery{}
	if o := p.order; o.col >= 0 && p.cols[o.col].query != "" {
		c := &p.cols[o.col]
		tq.Sort, tq.Desc = c.query, o.desc
		if c.age != nil && c.cmp == nil {
			tq.Desc = !o.desc // ages ascending are times descending
		}
	}
	if f := strings.TrimSpace(p.filter); f != "" && p.engineFilter != nil {
		ef := p.engineFilter(f)
		tq.Filter, tq.Detectors = ef.Filter, ef.Detectors
	}
	*p.query(q) = tq
}

// sortNext sorts by the next column shown (or flips the direction);
// after the last, a pane with a natural column goes back to the engine's
// order.
func (p *tablePane[T]) sortNext(reverse bool) string {
	o := &p.order
	vis := p.visible()
	natural := slices.IndexFunc(p.cols, func(c col[T]) bool { return c.natural })
	switch {
	case reverse && o.col < 0:
		// The engine's order is newest first; reversing it means sorting by
		// time, oldest first.
		o.col, o.desc = natural, false
	case reverse:
		o.desc = !o.desc
	default:
		next := 0
		if i := slices.Index(vis, o.col); i >= 0 {
			next = i + 1
		}
		switch {
		case next < len(vis):
			o.col = vis[next]
		case natural >= 0:
			o.col = -1
		default:
			o.col = vis[0]
		}
		o.desc = o.col >= 0 && p.cols[o.col].desc
	}
	return p.orderText()
}

// sortBy sorts by column c (a click on its title): its own direction
// first, the other on a second click.
func (p *tablePane[T]) sortBy(c int) string {
	if c < 0 || c >= len(p.cols) {
		return ""
	}
	if p.order.col == c {
		p.order.desc = !p.order.desc
	} else {
		p.order = order{col: c, desc: p.cols[c].desc}
	}
	return p.orderText()
}

// orderText describes the sort.
func (p *tablePane[T]) orderText() string {
	o := p.order
	if o.col < 0 {
		return p.name + ": newest first"
	}
	dir := "ascending"
	if o.desc {
		dir = "descending"
	}
	return p.name + " sorted by " + strings.ToLower(p.cols[o.col].title) + ", " + dir
}

// visible is the columns shown, in order.
func (p *tablePane[T]) visible() []int {
	if p.show != nil {
		return p.show
	}
	out := make([]int, len(p.cols))
	for i := range out {
		out[i] = i
	}
	return out
}

// shownCols is the columns shown and where the sorted one is among them
// (-1: not shown, or the engine's order).
func (p *tablePane[T]) shownCols() ([]col[T], order) {
	if p.show == nil {
		return p.cols, p.order
	}
	cols := make([]col[T], len(p.show))
	o := order{col: -1, desc: p.order.desc}
	for i, c := range p.show {
		cols[i] = p.cols[c]
		if c == p.order.col {
			o.col = i
		}
	}
	return cols, o
}

func (p *tablePane[T]) columnList() []columnItem {
	out := make([]columnItem, 0, len(p.cols))
	vis := p.visible()
	for _, i := range vis {
		out = append(out, columnItem{name: p.cols[i].id(), title: p.cols[i].title, shown: true})
	}
	for i := range p.cols {
		if !slices.Contains(vis, i) {
			out = append(out, columnItem{name: p.cols[i].id(), title: p.cols[i].title})
		}
	}
	return out
}

func (p *tablePane[T]) setColumns(names []string) {
	var show []int
	for _, n := range names {
		i := slices.IndexFunc(p.cols, func(c col[T]) bool { return c.id() == n })
		if i >= 0 && !slices.Contains(show, i) {
			show = append(show, i)
		}
	}
	if len(show) == 0 || len(show) == len(p.cols) && slices.IsSorted(show) {
		show = nil // all, as designed
	}
	p.show = show
}

// columnNames lists a table's column names (the config's [ui] columns).
func columnNames[T any](cols []col[T]) []string {
	out := make([]string, len(cols))
	for i := range cols {
		out[i] = cols[i].id()
	}
	return out
}

func (p *tablePane[T]) pinsSelected() []detect.Pin {
	r, ok := p.selected()
	if !ok || p.pins == nil {
		return nil
	}
	return p.pins(r)
}

func (p *tablePane[T]) selected() (*T, bool) {
	if p.cursor < 0 || p.cursor >= len(p.shown) {
		return nil, false
	}
	return p.shown[p.cursor], true
}

func (p *tablePane[T]) enter() (drill, bool) {
	r, ok := p.selected()
	if !ok || p.open == nil {
		return drill{}, false
	}
	return p.open(r), true
}

func (p *tablePane[T]) allowSelected() (allowTarget, bool) {
	if p.allow == nil {
		return allowTarget{}, true
	}
	r, ok := p.selected()
	if !ok {
		return allowTarget{}, false
	}
	return p.allow(r), true
}

func (p *tablePane[T]) render(c *viewCtx, w, h int, focused bool, now time.Time) string {
	v := p.view(now)
	switch {
	case len(p.all) > 0 && (p.filter != "" || p.pinKind != ""):
		v.empty = p.noMatch
	case p.why != "":
		v.empty = p.why
	case p.part.Unsure > 0 && len(p.all) == 0:
		v.empty = ""
	}
	note := p.partialLines(c, w, h)
	lines := v.lines(c, w, h-len(note), focused)
	return strings.Join(append(lines, note...), "\n")
}

// view is the table as drawn at event time now: the columns shown.
func (p *tablePane[T]) view(now time.Time) tableView[T] {
	cols, o := p.shownCols()
	return tableView[T]{
		cols: cols, n: len(p.shown), at: func(i int) *T { return p.shown[i] },
		order: o, cursor: p.cursor, offset: p.offset, dim: p.dim, now: now, empty: p.empty,
	}
}

// partialLines say, under the table, why the engine's answer may be
// short: one line (two when the pane is tall), kept whatever the height.
func (p *tablePane[T]) partialLines(c *viewCtx, w, h int) []string {
	if p.part.Why == "" || h < 3 {
		return nil
	}
	n := 1
	if h >= 12 {
		n = 2
	}
	lines := wrapCut("≈ "+p.part.Why, w, n)
	for len(lines) < n {
		lines = append(lines, "")
	}
	for i := range lines {
		lines[i] = c.st.warn.Render(fit(lines[i], w))
	}
	return lines
}

// rows is how many table rows fit in h lines (the header and a partial
// note aside).
func (p *tablePane[T]) rowsIn(h int) int {
	n := 0
	if p.part.Why != "" && h >= 3 {
		n = 1
		if h >= 12 {
			n = 2
		}
	}
	return h - 1 - n
}

// tableView is one frame of a table: n rows, built on demand by at, so only
// the visible ones are ever formatted.
type tableView[T any] struct {
	cols   []col[T]
	n      int
	at     func(i int) *T
	order  order // the sorted column's title gets an arrow
	cursor int   // < 0: no selection
	offset int
	dim    func(r *T) bool
	now    time.Time // the event clock, for age cells
	empty  string    // shown when n == 0
}

// listTable renders every row of a table in a detail view (evidence, a
// key's requests, an incident's alerts), the row at cursor highlighted
// (-1: none).
func listTable[T any](c *viewCtx, cols []col[T], rows []T, w int, now time.Time, cursor int) []string {
	v := tableView[T]{cols: cols, n: len(rows), at: func(i int) *T { return &rows[i] }, order: order{col: -1}, cursor: cursor, now: now}
	return v.lines(c, w, len(rows)+1, cursor >= 0)
}

// lines draws a header line and the rows [offset, offset+h-1), the cursor
// row highlighted when the pane is focused.
func (v *tableView[T]) lines(c *viewCtx, w, h int, focused bool) []string {
	if h <= 0 || w <= 0 {
		return nil
	}
	st := &c.st
	off, rows, cells := v.visibleCells(h)
	cols := shrinkCols(v.cols, cells)
	vis, widths, gap := layoutCols(cols, w)
	sep := strings.Repeat(" ", gap)
	lines := make([]string, 0, h)

	var hb strings.Builder
	for k, i := range vis {
		if k > 0 {
			hb.WriteString(sep)
		}
		title := cols[i].title
		if i == v.order.col {
			if v.order.desc {
				title += "↓"
			} else {
				title += "↑"
			}
		}
		hb.WriteString(align(title, widths[i], cols[i].right))
	}
	// Cells are fitted to their widths, so a row is exactly w cells unless
	// the table could not shrink to w (tiny terminals): only then measure.
	exact := sumWidths(vis, widths, gap) <= w
	head := hb.String()
	if !exact {
		head = clipLine(head, w)
	}
	lines = append(lines, st.colHeader.Render(head))
	if v.n == 0 {
		for _, l := range wrapCut(v.empty, w, max(0, h-1)) {
			lines = append(lines, st.dim.Render(fit(l, w)))
		}
		return lines
	}
	for ri, r := range rows {
		selected := focused && off+ri == v.cursor
		dim := v.dim != nil && v.dim(r)
		var b strings.Builder
		for k, ci := range vis {
			if k > 0 {
				b.WriteString(sep)
			}
			text := cols[ci].fitted(cells[ri][ci], widths[ci])
			if a := cols[ci].accent; !selected && !dim && a != nil {
				if ac := a(r); ac != acNone {
					text = st.accents[ac].Render(text)
				}
			}
			b.WriteString(text)
		}
		line := b.String()
		if !exact {
			line = clipLine(line, w)
		}
		switch {
		case selected:
			line = st.selected.Render(line)
		case dim:
			line = st.dim.Render(line)
		}
		lines = append(lines, line)
	}
	return lines
}

// visibleCells builds the cells of the rows a window of h lines shows
// (first: their offset): shrinking columns size to them.
func (v *tableView[T]) visibleCells(h int) (off int, rows []*T, cells [][]cell) {
	off = clampOffset(v.offset, v.cursor, h-1, v.n)
	rows = make([]*T, 0, max(0, min(h-1, v.n-off)))
	cells = make([][]cell, 0, cap(rows))
	for i := off; i < v.n && len(rows) < h-1; i++ {
		r := v.at(i)
		texts := make([]cell, len(v.cols))
		for ci := range v.cols {
			texts[ci] = v.cols[ci].cellOf(r, v.now)
		}
		rows, cells = append(rows, r), append(cells, texts)
	}
	return off, rows, cells
}

// layout is where lines puts the columns of a window of h lines w cells
// wide: the columns after shrinking, those shown, their widths, the gap.
func (v *tableView[T]) layoutAt(w, h int) (cols []col[T], vis, widths []int, gap int) {
	_, _, cells := v.visibleCells(h)
	cols = shrinkCols(v.cols, cells)
	vis, widths, gap = layoutCols(cols, w)
	return cols, vis, widths, gap
}

// align fits s to w cells, on the right for numbers.
func align(s string, w int, right bool) string {
	if right {
		return fitRight(s, w)
	}
	return fit(s, w)
}

// clampOffset keeps the cursor inside a window of h rows over n rows,
// moving the window as little as possible.
func clampOffset(off, cursor, h, n int) int {
	if h <= 0 {
		return cursor
	}
	if cursor < off {
		off = cursor
	}
	if cursor >= off+h {
		off = cursor - h + 1
	}
	if off > n-h {
		off = n - h
	}
	if off < 0 {
		off = 0
	}
	return off
}
