package ui

import "slices"

// Column layout: which of a table's columns fit a width, and how wide each
// one is. It reads only the layout fields of col.

// comfortDrop: to keep flexible columns at their comfortable width, only
// columns this expendable (or more) may be dropped.
const comfortDrop = 4

// layoutCols picks the columns that fit in w cells and their widths. It
// first tries to give flexible columns their comfortable width (want),
// dropping only the most expendable columns for it; failing that it packs
// every column at its minimum, dropping by priority. The gap between
// columns is two cells when that costs nothing, else one.
func layoutCols[T any](cols []col[T], w int) (vis []int, widths []int, gap int) {
	// The comfortable widths, then half way to them, before giving up on
	// them: a squeezed Host is worse than a missing METHOD.
	for _, part := range []int{2, 1} {
		comfy := cols
		for i, c := range cols {
			if c.want > c.min {
				if &comfy[0] == &cols[0] {
					comfy = slices.Clone(cols)
				}
				comfy[i].min = c.min + (c.want-c.min)*part/2
			}
		}
		if &comfy[0] == &cols[0] {
			break
		}
		if v, g, ok := pickCols(comfy, w, comfortDrop); ok {
			return v, colWidths(comfy, v, g, w), g
		}
	}
	vis, gap, _ = pickCols(cols, w, 1)
	return vis, colWidths(cols, vis, gap, w), gap
}

// pickCols drops columns (those with drop >= minDrop, most expendable
// first) until the rest fit in w; ok says whether they do.
func pickCols[T any](cols []col[T], w, minDrop int) (vis []int, gap int, ok bool) {
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
		if g == 2 && (len(vis) < len(cols) || sumMins(cols, vis, g) > w) {
			continue // try the narrow gap before dropping columns (or giving up)
		}
		return vis, g, sumMins(cols, vis, g) <= w
	}
	return vis, 1, false
}

func sumMins[T any](cols []col[T], vis []int, gap int) int {
	n := (len(vis) - 1) * gap
	for _, i := range vis {
		n += cols[i].min
	}
	return n
}

// colWidths gives the visible columns their minimum and shares the spare
// width among the flexible ones (or takes it back from the widest when
// nothing can be dropped any more).
func colWidths[T any](cols []col[T], vis []int, gap, w int) []int {
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

// shrinkCols returns cols with each shrinking column's min lowered to
// what its visible cells (one row of cells each) and title need.
func shrinkCols[T any](cols []col[T], cells [][]cell) []col[T] {
	var out []col[T]
	for ci, c := range cols {
		if !c.shrink {
			continue
		}
		need := width(c.title) + 1 // room for a sort arrow
		for _, r := range cells {
			need = max(need, width(r[ci].text))
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
