package ui

import (
	"strconv"

	tea "charm.land/bubbletea/v2"
)

// scrollView is a window of rows over a body of lines that may be taller
// than the screen: the detail views and the help. The body is built per
// frame by its owner; the view keeps only how far it is scrolled.
type scrollView struct{ offset int }

// window returns the visible part of body: exactly height lines, each
// exactly width cells.
func (v *scrollView) window(body []string, width, height int) []string {
	if height <= 0 {
		return nil
	}
	off := min(v.offset, max(0, len(body)-height))
	out := make([]string, 0, height)
	for i := off; i < len(body) && len(out) < height; i++ {
		out = append(out, clipLine(body[i], width))
	}
	for len(out) < height {
		out = append(out, "")
	}
	return out
}

// position says which lines of n are on screen ("3–20 of 40"), or "" when
// they all fit.
func (v *scrollView) position(n, height int) string {
	if n <= height {
		return ""
	}
	off := min(v.offset, n-height)
	return strconv.Itoa(off+1) + "–" + strconv.Itoa(min(off+height, n)) + " of " + strconv.Itoa(n)
}

// scroll moves the window over a body of n lines by a navigation key.
func (v *scrollView) scroll(km *KeyMap, k tea.KeyPressMsg, n, height int) {
	last := max(0, n-height)
	if off, ok := km.motion(k, v.offset, max(1, height-1), last); ok {
		v.offset = max(0, min(last, off))
	}
}
