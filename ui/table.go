package ui

import (
	"slices"
	"strings"
)

// column describes one table column. Widths are display cells.
type column struct {
	title string
	min   int  // width it gets before any flex share
	flex  int  // share of the spare width (0: fixed)
	right bool // numbers align right
	drop  int  // when the table is too narrow, the highest drop goes first (0: never)
	want  int  // flexible columns: the comfortable width, kept by dropping expendable columns first
	// shrink lets the column be as narrow as its widest visible cell (or
	// its title) when that is less than min: client addresses are mostly
	// short IPv4s but must fit an IPv6 one when there is one.
	shrink bool
}

// row is one rendered table row: cell texts (already sanitised) and how to
// colour them.
type row struct {
	cells   []string
	accents []accent // per cell; nil or acNone: plain
	dim     bool     // the whole row is faint (allowed alerts)
}

// table is the state every list pane shares: the cursor, the scroll offset,
// the sort and the filter. It does not hold the rows; panes hand it a row
// builder at render time so only visible rows are ever formatted.
type table struct {
	cursor  int
	offset  int
	n       int    // rows after filtering
	total   int    // rows before filtering
	selID   string // identity of the row under the cursor, to follow it across refreshes
	sortCol int    // index into the pane's columns; -1: the pane's natural order
	desc    bool
	filter  string // as typed
}

// comfortDrop: to keep flexible columns at their comfortable width, only
// columns this expendable (or more) may be dropped.
const comfortDrop = 4

// layoutCols picks the columns that fit in w cells and their widths. It
// first tries to give flexible columns their comfortable width (want),
// dropping only the most expendable columns for it; failing that it packs
// every column at its minimum, dropping by priority. The gap between
// columns is two cells when that costs nothing, else one.
func layoutCols(cols []column, w int) (vis []int, widths []int, gap int) {
	comfy := cols
	for i, c := range cols {
		if c.want > c.min {
			if &comfy[0] == &cols[0] {
				comfy = slices.Clone(cols)
			}
			comfy[i].min = c.want
		}
	}
	if &comfy[0] != &cols[0] {
		if v, g, ok := pickCols(comfy, w, comfortDrop); ok {
			return v, colWidths(comfy, v, g, w), g
		}
	}
	vis, gap, _ = pickCols(cols, w, 1)
	return vis, colWidths(cols, vis, gap, w), gap
}

// pickCols drops columns (those with drop >= minDrop, most expendable
// first) until the rest fit in w; ok says whether they do.
func pickCols(cols []column, w, minDrop int) (vis []int, gap int, ok bool) {
	for _, g := range []int{2, 1} {
		vis = vis[:0]
		for i := range cols {
			vis = append(vis, i)
		}
		for sumMins(cols, vis, g) > w && len(vis) > 1 {
			worst := -1
			for k, i := range vis {
				if cols[i].drop >= minDrop && (worst < 0 || cols[i].drop >= cols[vis[worst]].drop) {
					worst = k
				}
			}
			if worst < 0 {
				break
			}
			vis = append(vis[:worst], vis[worst+1:]...)
		}
		if g == 2 && len(vis) < len(cols) {
			continue // try the narrow gap before dropping columns
		}
		return vis, g, sumMins(cols, vis, g) <= w
	}
	return vis, 1, false
}

func sumMins(cols []column, vis []int, gap int) int {
	n := (len(vis) - 1) * gap
	for _, i := range vis {
		n += cols[i].min
	}
	return n
}

// colWidths gives the visible columns their minimum and shares the spare
// width among the flexible ones (or takes it back from the widest when
// nothing can be dropped any more).
func colWidths(cols []column, vis []int, gap, w int) []int {
	widths := make([]int, len(cols))
	used := (len(vis) - 1) * gap
	flexSum := 0
	for _, i := range vis {
		widths[i] = cols[i].min
		used += cols[i].min
		flexSum += cols[i].flex
	}
	spare := w - used
	if spare < 0 {
		// Still too wide with every droppable column gone: shrink the
		// widest columns, never below one cell.
		for spare < 0 {
			wi := -1
			for _, i := range vis {
				if wi < 0 || widths[i] > widths[wi] {
					wi = i
				}
			}
			if wi < 0 || widths[wi] <= 1 {
				break
			}
			widths[wi]--
			spare++
		}
		return widths
	}
	if flexSum > 0 {
		given := 0
		lastFlex := -1
		for _, i := range vis {
			if cols[i].flex > 0 {
				add := spare * cols[i].flex / flexSum
				widths[i] += add
				given += add
				lastFlex = i
			}
		}
		widths[lastFlex] += spare - given
	}
	return widths
}

// renderTable draws a header line and the rows [offset, offset+height-1) of
// n rows, built on demand by rowAt. The cursor row is highlighted when the
// pane is focused. sortCol/desc mark the sorted column's title.
func renderTable(c *viewCtx, cols []column, t *table, rowAt func(i int) row, w, h int, focused bool, empty string) []string {
	if h <= 0 || w <= 0 {
		return nil
	}
	st := &c.st
	// Build the visible rows first: shrinking columns size to them.
	off := clampOffset(t.offset, t.cursor, h-1, t.n)
	rows := make([]row, 0, max(0, min(h-1, t.n-off)))
	for i := off; i < t.n && len(rows) < h-1; i++ {
		rows = append(rows, rowAt(i))
	}
	cols = shrinkCols(cols, rows)
	vis, widths, gap := layoutCols(cols, w)
	sep := strings.Repeat(" ", gap)
	lines := make([]string, 0, h)

	var hb strings.Builder
	for k, i := range vis {
		if k > 0 {
			hb.WriteString(sep)
		}
		title := cols[i].title
		if i == t.sortCol {
			if t.desc {
				title += "↓"
			} else {
				title += "↑"
			}
		}
		if cols[i].right {
			hb.WriteString(fitRight(title, widths[i]))
		} else {
			hb.WriteString(fit(title, widths[i]))
		}
	}
	// Cells are fitted to their widths, so a row is exactly w cells unless
	// the table could not shrink to w (tiny terminals): only then measure.
	exact := sumWidths(vis, widths, gap) <= w
	head := hb.String()
	if !exact {
		head = clipLine(head, w)
	}
	lines = append(lines, st.colHeader.Render(head))
	rowsH := h - 1
	if t.n == 0 {
		if rowsH > 0 {
			lines = append(lines, st.dim.Render(fit(empty, w)))
		}
		return lines
	}
	for k, r := range rows {
		i := off + k
		selected := focused && i == t.cursor
		var b strings.Builder
		for k, ci := range vis {
			if k > 0 {
				b.WriteString(sep)
			}
			text := ""
			if ci < len(r.cells) {
				text = r.cells[ci]
			}
			if cols[ci].right {
				text = fitRight(text, widths[ci])
			} else {
				text = fit(text, widths[ci])
			}
			if !selected && !r.dim && ci < len(r.accents) && r.accents[ci] != acNone {
				text = st.accents[r.accents[ci]].Render(text)
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
		case r.dim:
			line = st.dim.Render(line)
		}
		lines = append(lines, line)
	}
	return lines
}

// shrinkCols returns cols with each shrinking column's min lowered to
// what its visible cells and title need.
func shrinkCols(cols []column, rows []row) []column {
	var out []column
	for ci, c := range cols {
		if !c.shrink {
			continue
		}
		need := width(c.title) + 1 // room for a sort arrow
		for _, r := range rows {
			if ci < len(r.cells) {
				need = max(need, width(r.cells[ci]))
			}
		}
		if need < c.min {
			if out == nil {
				out = slices.Clone(cols)
			}
			out[ci].min = need
		}
	}
	if out == nil {
		return cols
	}
	return out
}

func sumWidths(vis, widths []int, gap int) int {
	n := (len(vis) - 1) * gap
	for _, i := range vis {
		n += widths[i]
	}
	return n
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

// move moves the cursor by d rows, clamped, and keeps it visible in a
// window of h rows.
func (t *table) move(d, h int) {
	t.cursor += d
	t.clamp(h)
}

// clamp puts the cursor back inside the rows and the offset around it.
func (t *table) clamp(h int) {
	if t.cursor >= t.n {
		t.cursor = t.n - 1
	}
	if t.cursor < 0 {
		t.cursor = 0
	}
	t.offset = clampOffset(t.offset, t.cursor, h, t.n)
}

// follow re-finds the selected row after the rows changed: a cursor at the
// top stays at the top (new rows show at once), otherwise it follows the
// row it was on, by identity.
func (t *table) follow(n int, idAt func(i int) string) {
	t.n = n
	if t.cursor > 0 && t.selID != "" {
		for i := 0; i < n; i++ {
			if idAt(i) == t.selID {
				t.cursor = i
				break
			}
		}
	}
	if t.cursor >= n {
		t.cursor = n - 1
	}
	if t.cursor < 0 {
		t.cursor = 0
	}
	t.selID = ""
	if n > 0 {
		t.selID = idAt(t.cursor)
	}
}

// filterLower is the filter as matched: lower-case, trimmed.
func (t *table) filterLower() string {
	return strings.ToLower(strings.TrimSpace(t.filter))
}
