package ui

// altPane is one slot of the pane array that shows one of two tables: the
// Alerts slot shows the incidents, or (v) every alert, so that nothing an
// incident groups is hidden. Both are kept up to date; keys act on the one
// shown.
type altPane struct {
	pane       // shown
	other pane // the other view
}

func (a *altPane) clone() pane { return &altPane{pane: a.pane.clone(), other: a.other.clone()} }

func (a *altPane) apply(v *snapView) {
	a.pane.apply(v)
	a.other.apply(v)
}

// toggle shows the other view and says which it is.
func (a *altPane) toggle() string {
	a.pane, a.other = a.other, a.pane
	name, _ := a.heading()
	return "showing " + name + " — v switches back"
}
