package ui

import (
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"github.com/rebindwatch/rebindwatch/detect"
)

// Timing. The tick is a Cmd that takes a snapshot; it slows down when
// nothing changes so an idle dashboard costs almost nothing.
const (
	tickFast  = 100 * time.Millisecond
	tickIdle  = 500 * time.Millisecond
	idleAfter = 20 // unchanged snapshots before the tick slows down
	// snapshotShare: the tick waits at least this many times what its
	// last snapshot took; tickSlowest bounds that wait.
	snapshotShare = 10
	tickSlowest   = 2 * time.Second
	maxFPS        = 20
	flashFor      = 4 * time.Second
	// maxNotesShown: news that came together (two SIGHUPs within a tick)
	// is flashed together, this many at most.
	maxNotesShown = 3
	// Grid layout (panes side by side) from this size on; tabs below.
	gridMinWidth  = 140
	gridMinHeight = 30
	// Below this the dashboard only says the terminal is too small.
	minWidth, minHeight = 40, 12
)

// paneID names the five list panes, in tab order (keys 1-5); it indexes
// Model.panes.
type paneID int

const (
	paneAlerts paneID = iota
	paneKeys
	paneHosts
	paneOrigins
	paneRequests
	nPanes
)

type mode uint8

const (
	modeNormal  mode = iota
	modeFilter       // typing a filter for the focused pane
	modeConfirm      // a y/n question (Model.ask)
	modeHelp
	modeDetail
	modePin     // f asks which of the row's values to pin
	modeExport  // e asks for the format
	modeColumns // C: choosing the focused pane's columns
)

// Messages. Every call into the Backend or the Pacer happens in a Cmd that
// returns one of these; Update only changes state.
type (
	// snapMsg carries a snapshot and the pacer's state at the time it was
	// taken. chain marks the tick's own snapshots (they schedule the next
	// tick); one-shot refreshes after an action do not.
	snapMsg struct {
		snap   detect.Snapshot
		q      detect.Query // what it was taken for: a snapshot for an older sort or filter is not shown
		at     time.Time    // wall clock when taken: only for rates and flash expiry
		paused bool
		speed  float64
		gen    uint64 // pacer controls applied when it was taken
		done   bool
		chain  bool
		took   time.Duration // how long the snapshot took (the engine's lock held)
	}
	alertDetailMsg struct {
		id    uint64
		alert detect.Alert
		ok    bool
	}
	incidentDetailMsg struct {
		id     string
		detail detect.IncidentDetail
		ok     bool
	}
	keyDetailMsg struct {
		fp     string
		detail detect.KeyDetail
		ok     bool
	}
	proposalMsg struct{ p Proposal }
	// actionMsg reports that a Backend/Pacer action ran.
	actionMsg struct {
		text   string
		paused bool
		speed  float64
		pacer  bool   // paused/speed are valid
		gen    uint64 // the pacer control generation it carries
		warn   bool   // the action was refused
	}
	saveMsg struct {
		path           string
		hosts, origins []string // what was written
		err            error
	}
	// exportMsg reports an export written (or not).
	exportMsg struct {
		path string
		rows int
		err  error
	}
	// columnsMsg reports a pane's columns saved to the config (or not).
	columnsMsg struct {
		path, pane string
		err        error
	}
)

// pacerCtl orders pacer controls. Bubble Tea runs each command in its own
// goroutine, so "+ + +" could reach the pacer as 2×, 10×, 5×; each control
// carries a generation and one older than the last applied is dropped.
type pacerCtl struct {
	mu      sync.Mutex
	applied uint64
}

// snapSig is what decides whether a snapshot changed enough to re-sort and
// re-filter the tables.
type snapSig struct {
	requests    uint64
	event       time.Time
	alerts      int
	firstAlert  uint64
	firstCount  int
	incidents   uint64
	incCount    int
	keys        int
	hosts       int
	origins     int
	added       int
	allowed     int
	parseErrors uint64
	dropped     uint64
	srcDone     int64
	srcState    int
	hostCheck   string
	originCheck string
	// The timeline's shape: a snapshot for a new width or zoom must show
	// though nothing else changed (a finished replay).
	buckets int
	step    time.Duration
}

func signature(s *detect.Snapshot) snapSig {
	g := snapSig{
		requests: s.Requests, event: s.EventTime, alerts: len(s.Alerts), incidents: s.IncidentsOpened,
		keys: len(s.Keys), hosts: len(s.Hosts), origins: len(s.Origins),
		added:       len(s.AddedHosts) + len(s.AddedOrigins),
		allowed:     len(s.AllowedHosts) + len(s.AllowedOrigins),
		parseErrors: s.ParseErrors, dropped: s.Dropped, hostCheck: s.HostCheck, originCheck: s.OriginCheck,
		buckets: len(s.Activity.Requests), step: s.Activity.Step,
	}
	if len(s.Alerts) > 0 {
		g.firstAlert, g.firstCount = s.Alerts[0].ID, s.Alerts[0].Count
	}
	for _, inc := range s.Incidents {
		g.incCount += inc.Count
	}
	for _, src := range s.Sources {
		g.srcDone += src.Done
		g.srcState = g.srcState*7 + int(src.State) + 3*len(src.Blind)
	}
	return g
}

// snapView is the snapshot on screen as the panes and views read it: the
// snapshot, and what the model works out from it once for all of them.
type snapView struct {
	*detect.Snapshot
	allow     detect.Allowlist
	clearedAt time.Time // c cleared the alerts (and incidents) up to here, event time
	narrowed  bool      // pins or a range narrow the snapshot's tables
}

func newSnapView(s *detect.Snapshot, prev *snapView, clearedAt time.Time, narrowed bool) *snapView {
	v := &snapView{Snapshot: s, clearedAt: clearedAt, narrowed: narrowed}
	if prev != nil && prev.Snapshot != nil && slices.Equal(prev.AllowedHosts, s.AllowedHosts) && slices.Equal(prev.AllowedOrigins, s.AllowedOrigins) {
		v.allow = prev.allow
	} else {
		v.allow = detect.NewAllowlist(s.AllowedHosts, s.AllowedOrigins)
	}
	return v
}

// now is the clock ages and rates are read at: the wall clock a live view
// asked for, a paused replay's step, or the latest event time.
func (v *snapView) now() time.Time {
	if v.Now.After(v.EventTime) {
		return v.Now
	}
	return v.EventTime
}

// alert finds an alert of the snapshot by ID.
func (v *snapView) alert(id uint64) (*detect.Alert, bool) {
	for i := range v.Alerts {
		if v.Alerts[i].ID == id {
			return &v.Alerts[i], true
		}
	}
	return nil, false
}

// allowedNow reports whether an alert's subject is allowed: it was allowed
// after the alert (the engine marks it), or is matched by the allowlist
// now (a config reloaded with it: the engine marks only what Allow allows).
func (v *snapView) allowedNow(a *detect.Alert) bool {
	if a.Allowed {
		return true
	}
	switch allowKindOf(a.Detector) {
	case "host":
		return v.allow.Host(a.Subject)
	case "origin":
		return v.allow.Origin(a.Subject)
	}
	return false
}

// unsaved are this run's allowlist additions not yet written.
func (m *Model) unsaved() (hosts, origins []string) {
	for _, h := range m.snap.AddedHosts {
		if !slices.Contains(m.savedHosts, h) {
			hosts = append(hosts, h)
		}
	}
	for _, o := range m.snap.AddedOrigins {
		if !slices.Contains(m.savedOrigins, o) {
			origins = append(origins, o)
		}
	}
	return hosts, origins
}

// Model is the dashboard's root model: all state lives here; the panes,
// the header, the detail views and the help are plain data it renders.
type Model struct {
	opts Options
	ctx  *viewCtx
	ctl  *pacerCtl
	// pacerGen numbers the pacer controls issued; see pacerCtl.
	pacerGen uint64
	input    textinput.Model

	// snap is what is on screen, latest the newest snapshot while the
	// display is held (nil otherwise). Snapshots are never changed once
	// received, so model copies share them; view is snap as the panes
	// read it.
	snap    *detect.Snapshot
	view    *snapView
	latest  *detect.Snapshot
	loaded  bool
	sig     snapSig
	idle    int
	took    time.Duration // how long the latest tick's snapshot took
	wall    time.Time     // wall time of the latest snapshot (from its message)
	prog    map[string]progress
	paused  bool      // replay paused (Pacer)
	stepTo  time.Time // a paused replay stepped with .: the event time it has reached
	speed   float64
	held    bool // display held (live)
	done    bool
	mode    mode
	back    mode   // where help returns to
	focus   paneID // the pane keys act on
	flash   string
	flashTo time.Time
	warn    bool // the flash is a warning
	pacerUI bool // the flash is about the replay's pace (it goes when the replay ends)
	// notesSeen is the Snapshot.NotesTotal already flashed: a note (a
	// config reloaded or refused on SIGHUP) is shown once, when it is new.
	notesSeen uint64

	ask question // the y/n question in modeConfirm
	// savedHosts and savedOrigins are the additions written this run.
	savedHosts, savedOrigins []string
	clearedAt                time.Time // c: alerts up to here were cleared (event time)

	// Pivots (pivot.go) and time (timecursor.go): the pins and the range,
	// in the order made; the timeline's zoom; its cursor and a first mark
	// (zero: none).
	chips          []chip
	choices        []detect.Pin // modePin: what f offers
	zoom           int
	cursor, mark   time.Time
	lastClick      click       // mouse.go: a second click on the same row soon after opens it
	columns        columnsEdit // modeColumns
	exportFromBack mode        // modeExport: where the export was asked from

	panes  panes
	detail detailView
	stack  []detailView // the details enter went through, to go back to with esc
	help   helpView
}

// panes holds the list panes by paneID.
type panes [nPanes]pane

// clone gives a model its own panes. They are pointers, and Bubble Tea and
// the tests keep earlier models, which must not change under them.
func (ps panes) clone() panes {
	for i, p := range ps {
		ps[i] = p.clone()
	}
	return ps
}

// New returns the root model (for Run, tests and teatest).
func New(opts Options) Model {
	c := &viewCtx{st: newStyles(opts.NoColor, true)}
	c.help = newHelpModel(&c.st)
	km := DefaultKeyMap()
	var notes [][2]string
	switch {
	case opts.Pacer != nil:
		km.Pause.SetHelp("space", "pause/resume replay")
		notes = append(notes, [2]string{"replay", "space pauses the replay; + - change speed; . steps 1 s of event time"})
	default:
		km.Pause.SetHelp("space", "hold display (counting goes on)")
		km.Faster.SetHelp("+", "faster (replays only)")
		km.Slower.SetHelp("-", "slower (replays only)")
		km.Step.SetHelp(".", "step 1 s (replays only)")
		notes = append(notes, [2]string{"live", "space holds the display; counting goes on (the header says how much)"})
	}
	if opts.SaveAllowlist == nil {
		km.Write.SetHelp("w", "write allowlist (not available)")
		notes = append(notes, [2]string{"config", "no config file to write: allowlist changes last for this run only"})
	} else {
		notes = append(notes, [2]string{"config", "w writes allowlist changes to " + clean(opts.AllowlistPath) + " (after a y/n question)"})
	}
	if opts.Proposal == nil {
		km.Suggest.SetHelp("p", "suggested allowlist (not available)")
	}
	if opts.WriteReport == nil {
		km.Report.SetHelp("R", "incident report (not available)")
	}
	notes = append(notes,
		[2]string{"first run", "no config? p proposes an allowlist from this traffic; rebindwatch --suggest-config writes one"},
		[2]string{"logs", "a log without Host, Origin or key columns leaves detectors blind (the header says which); " +
			"rebindwatch --print-log-config nginx|apache|gunicorn|flask prints a format that has them"})
	in := textinput.New()
	in.Prompt = "/"
	in.CharLimit = 256
	is := textinput.DefaultStyles(true)
	is.Cursor.Blink = false
	if opts.NoColor {
		is = textinput.Styles{Cursor: textinput.CursorStyle{Blink: false}}
	}
	in.SetStyles(is)

	if opts.SaveColumns == nil {
		notes = append(notes, [2]string{"columns", "C chooses this pane's columns for this run (no config file to keep them in)"})
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	c.keys = km
	m := Model{
		opts:  opts,
		ctx:   c,
		ctl:   &pacerCtl{},
		input: in,
		speed: opts.Pacer.Speed(),
		snap:  &detect.Snapshot{},
		view:  &snapView{Snapshot: &detect.Snapshot{}},
		panes: panes{
			paneAlerts:   &altPane{pane: incidentsPane(), other: alertsPane()},
			paneKeys:     keysPane(),
			paneHosts:    valuesPane("host"),
			paneOrigins:  valuesPane("origin"),
			paneRequests: requestsPane(),
		},
		help: helpView{notes: notes},
	}
	for _, p := range m.allPanes() {
		if name, _ := p.heading(); opts.Columns[name] != nil {
			cols := opts.Columns[name]
			p.setColumns(cols)
		}
	}
	return m
}

// Init starts the snapshot tick.
func (m Model) Init() tea.Cmd {
	return m.fetch(0, true)
}

// allPanes lists every table, both views of the alerts slot included.
func (m *Model) allPanes() []pane {
	out := make([]pane, 0, nPanes+1)
	for _, p := range m.panes {
		if a, ok := p.(*altPane); ok {
			out = append(out, a.pane, a.other)
			continue
		}
		out = append(out, p)
	}
	return out
}

// fetch is the tick: after delay it takes a snapshot for the panes' query
// and reads the pacer. It is the only place the Backend is read on a
// schedule.
func (m Model) fetch(delay time.Duration, chain bool) tea.Cmd {
	b, p, done, ctl := m.opts.Backend, m.opts.Pacer, m.opts.Done, m.ctl
	q, live := m.query(), m.opts.Live
	take := func(at time.Time) tea.Msg {
		if live {
			q.Now = at // the wall clock: rates fall when traffic stops
		}
		start := time.Now()
		msg := snapMsg{snap: b.SnapshotFor(q), q: q, at: at, chain: chain}
		msg.took = time.Since(start)
		if p != nil {
			ctl.mu.Lock()
			msg.paused, msg.speed, msg.gen = p.Paused(), p.Speed(), ctl.applied
			ctl.mu.Unlock()
		}
		if done != nil {
			select {
			case <-done:
				msg.done = true
			default:
			}
		}
		return msg
	}
	if delay <= 0 {
		return func() tea.Msg { return take(time.Now()) }
	}
	return tea.Tick(delay, take)
}

// query is what the panes ask of the engine: each table's sort and
// filter, and the clock of a stepped replay (a live one's is the wall
// clock, read in the command).
func (m *Model) query() detect.Query {
	var q detect.Query
	for _, p := range m.panes {
		p.fillQuery(&q)
	}
	if m.paused {
		q.Now = m.stepTo
	}
	q.Pins = m.pins()
	if r, ok := m.timeRange(); ok {
		q.From, q.To = r.from, r.to
	}
	q.Span, q.Buckets = zooms[m.zoom].span, sparkWidth(m.ctx.width)
	return q
}

// sameTables reports whether two queries ask for the same rows (the
// timeline's shape aside: the header draws any).
func sameTables(a, b detect.Query) bool {
	a.Span, a.Buckets, b.Span, b.Buckets = 0, 0, 0, 0
	return a.Same(&b)
}

// Update is the state transition; it never calls the Backend itself.
func (m Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	m.panes = m.panes.clone()
	m, cmd := m.update(msg)
	// One place for "the user has seen these alerts", whatever moved the
	// cursor, the focus or the layout.
	for p, pn := range m.panes {
		pn.markSeen(m.shown(paneID(p)))
	}
	return m, cmd
}

func (m Model) update(msg tea.Msg) (Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		first := m.ctx.width == 0 && m.ctx.height == 0
		m.ctx.width, m.ctx.height = msg.Width, msg.Height
		m.ctx.grid = msg.Width >= gridMinWidth && msg.Height >= gridMinHeight
		m.fixScroll()
		if first && !m.opts.NoColor {
			// A terminal is there: ask for its background colour (a light
			// one gets darker colours).
			return m, tea.RequestBackgroundColor
		}
		return m, nil
	case snapMsg:
		return m.onSnapshot(msg)
	case alertDetailMsg:
		if d := &m.detail; d.kind == detailAlert && d.alert.ID == msg.id {
			d.alert = msg.alert
			d.answered(msg.ok)
		}
		return m, nil
	case incidentDetailMsg:
		if d := &m.detail; d.kind == detailIncident && d.incident.Incident.ID == msg.id {
			d.incident = msg.detail
			d.answered(msg.ok)
		}
		return m, nil
	case keyDetailMsg:
		if d := &m.detail; d.kind == detailKey && d.key.Key == msg.fp {
			d.key = msg.detail
			d.answered(msg.ok)
		}
		return m, nil
	case proposalMsg:
		if d := &m.detail; d.kind == detailSuggest {
			d.proposal = msg.p
			d.answered(true)
		}
		return m, nil
	case actionMsg:
		if msg.pacer && msg.gen == m.pacerGen {
			m.paused, m.speed = msg.paused, msg.speed
		}
		m.setFlash(msg.text, msg.warn)
		m.pacerUI = msg.pacer
		return m, m.fetch(0, false)
	case saveMsg:
		if msg.err != nil {
			m.setFlash("could not write the allowlist: "+clean(msg.err.Error()), true)
			return m, m.fetch(0, false)
		}
		m.savedHosts = append(slices.Clip(m.savedHosts), msg.hosts...)
		m.savedOrigins = append(slices.Clip(m.savedOrigins), msg.origins...)
		m.setFlash("allowlist written to "+clean(msg.path), false)
		return m, m.fetch(0, false)
	case exportMsg:
		if msg.err != nil {
			m.setFlash("export failed: "+clean(msg.err.Error()), true)
			return m, nil
		}
		m.setFlash("exported "+plural(msg.rows, "row", "rows")+" to "+clean(msg.path), false)
		return m, nil
	case columnsMsg:
		if msg.err != nil {
			m.setFlash("could not save the columns: "+clean(msg.err.Error()), true)
			return m, nil
		}
		m.setFlash(msg.pane+" columns saved to "+clean(msg.path)+" ([ui] columns)", false)
		return m, nil
	case tea.BackgroundColorMsg:
		// The terminal said its background: colours that read on it. The
		// context is shared by earlier models, so it is copied.
		c := *m.ctx
		c.st = newStyles(m.opts.NoColor, msg.IsDark())
		c.help = newHelpModel(&c.st)
		m.ctx = &c
		return m, nil
	case tea.MouseMsg:
		m.idle = 0
		return m.onMouse(msg)
	case tea.KeyPressMsg:
		m.idle = 0
		return m.onKey(msg)
	case tea.PasteMsg:
		if m.mode == modeFilter {
			return m.updateInput(msg)
		}
		return m, nil
	}
	if m.mode == modeFilter {
		return m.updateInput(msg)
	}
	return m, nil
}

func (m Model) onSnapshot(msg snapMsg) (Model, tea.Cmd) {
	m.wall = msg.at
	// A message lasts flashFor from the first snapshot after it was set,
	// so its life never depends on when the previous tick happened.
	switch {
	case m.flash == "":
	case m.flashTo.IsZero():
		m.flashTo = msg.at.Add(flashFor)
	case msg.at.After(m.flashTo):
		m.flash, m.flashTo = "", time.Time{}
	}
	if n := msg.snap.NotesTotal; n > m.notesSeen && len(msg.snap.Notes) > 0 {
		// The new notes are what the user just caused (a SIGHUP or two),
		// newest first; a refusal is a warning, since the config on disk
		// is not in force.
		notes := msg.snap.Notes
		fresh := notes[max(0, len(notes)-int(min(n-m.notesSeen, maxNotesShown))):]
		m.notesSeen = n
		texts, refused := make([]string, 0, len(fresh)), false
		for i := len(fresh) - 1; i >= 0; i-- {
			texts = append(texts, clean(fresh[i].Source)+": "+clean(fresh[i].Text))
			refused = refused || strings.Contains(fresh[i].Text, "refused")
		}
		m.setFlash(strings.Join(texts, " · "), refused)
	}
	if m.opts.Pacer != nil && msg.gen >= m.pacerGen {
		// Only a snapshot taken after our latest control shows its effect;
		// an older one would flip the badge back for a frame.
		m.paused, m.speed = msg.paused, msg.speed
	}
	if msg.done && !m.done && m.pacerUI {
		m.flash, m.pacerUI = "", false // "replay at 50×" means nothing once it is over
	}
	m.done = m.done || msg.done
	m.prog = nextProgress(m.prog, msg.snap.Sources, msg.at)

	if !sameTables(msg.q, m.query()) {
		// Taken for a sort or filter the user has since changed: the
		// refresh that change asked for is on its way.
		if msg.chain {
			return m, m.fetch(m.tickDelay(), true)
		}
		return m, nil
	}
	var cmds []tea.Cmd
	sig := signature(&msg.snap)
	changed := sig != m.sig || !m.loaded || !msg.chain
	// A live view's clock moves without events: rates and ages with it.
	moved := msg.snap.Now.Truncate(time.Second) != m.snap.Now.Truncate(time.Second)
	m.sig = sig
	switch {
	case m.held:
		s := msg.snap
		m.latest = &s
	case changed || moved:
		s := msg.snap
		m.apply(&s)
		if m.detail.kind != detailNone {
			cmds = append(cmds, m.fetchDetail())
		}
	}
	if msg.chain {
		if changed {
			m.idle = 0
		} else {
			m.idle++
		}
		m.took = msg.took
		cmds = append(cmds, m.fetch(m.tickDelay(), true))
	}
	return m, tea.Batch(cmds...)
}

// tickDelay is how long the tick waits: longer once nothing changes, and
// at least snapshotShare times what the last snapshot took, so that an
// expensive one (pins over 100,000 keys: tens of ms under the engine's
// lock) keeps the engine's share of its own lock above nine tenths.
func (m *Model) tickDelay() time.Duration {
	d := tickFast
	if m.idle >= idleAfter {
		d = tickIdle
	}
	return min(max(d, snapshotShare*m.took), tickSlowest)
}

// nextProgress updates each source's catch-up rate (bytes per wall second,
// smoothed) from the previous estimate; it returns a new map so model
// copies never share one being written.
func nextProgress(prev map[string]progress, srcs []detect.SourceStatus, at time.Time) map[string]progress {
	if len(srcs) == 0 {
		return prev
	}
	next := make(map[string]progress, len(srcs))
	for _, s := range srcs {
		p := prev[s.Name]
		if dt := at.Sub(p.at).Seconds(); !p.at.IsZero() && dt > 0.05 && s.Done >= p.done {
			inst := float64(s.Done-p.done) / dt
			if p.samples == 0 {
				p.rate = inst
			} else {
				p.rate = 0.7*p.rate + 0.3*inst
			}
			p.samples++
			p.done, p.at = s.Done, at
		} else if p.at.IsZero() || s.Done < p.done {
			p = progress{done: s.Done, at: at}
		}
		next[s.Name] = p
	}
	return next
}

// apply puts a snapshot on screen: every pane filters and sorts its rows.
func (m *Model) apply(s *detect.Snapshot) {
	m.snap = s
	m.view = newSnapView(s, m.view, m.clearedAt, m.narrowed())
	m.loaded = true
	for _, p := range m.panes {
		p.apply(m.view)
	}
	m.fixScroll()
}

// reapply re-filters and re-sorts one pane from the snapshot on screen.
func (m *Model) reapply(p paneID) {
	m.panes[p].apply(m.view)
	m.fixScroll()
}

// shown reports whether a pane is on screen now.
func (m *Model) shown(p paneID) bool {
	switch m.screen() {
	case modeDetail, modeHelp, modeColumns:
		return false
	}
	return m.ctx.grid || m.focus == p
}

// screen is the mode whose screen is drawn: a question or a prompt in the
// footer leaves the screen it was asked from.
func (m *Model) screen() mode {
	switch m.mode {
	case modePin:
		return m.back
	case modeExport:
		return m.exportFromBack
	case modeConfirm:
		return m.ask.back
	}
	return m.mode
}

func (m *Model) setFlash(text string, warn bool) {
	m.flash, m.warn, m.flashTo, m.pacerUI = text, warn, time.Time{}, false
}

// fixScroll keeps every cursor inside its rows and its pane's window.
func (m *Model) fixScroll() {
	rects := m.paneRects()
	for p, pn := range m.panes {
		pn.clamp(rects[p].h)
	}
}

// header builds the header for the current state.
func (m *Model) header() header {
	h := header{
		ctx:        m.ctx,
		title:      m.opts.Title,
		view:       m.view,
		replay:     m.opts.Pacer != nil,
		live:       m.opts.Live,
		paused:     m.paused && m.opts.Pacer != nil,
		stepped:    m.paused && !m.stepTo.IsZero(),
		held:       m.held,
		speed:      m.speed,
		done:       m.done,
		progress:   m.prog,
		canSave:    m.opts.SaveAllowlist != nil,
		canSuggest: m.opts.Proposal != nil,
		loaded:     m.loaded,
		maxOptLine: min(4, max(1, (m.ctx.height-14)/2)),
		config:     m.opts.ConfigPath,
		chips:      m.chips,
		cursor:     m.cursor,
		mark:       m.mark,
		zoom:       zooms[m.zoom].label,

		canUseFormat: m.opts.UseFormat != nil,
	}
	if r, ok := m.timeRange(); ok {
		h.from, h.to = r.from, r.to
	}
	h.unsavedHosts, h.unsavedOrigins = m.unsaved()
	if h.title == "" {
		h.title = "rebindwatch"
	}
	if m.held {
		h.heldSince = m.latest.Requests - min(m.latest.Requests, m.snap.Requests)
	}
	for _, p := range m.panes {
		if f := p.filterText(); f != "" {
			if h.filter != "" {
				h.filter += ", "
			}
			name, _ := p.heading()
			h.filter += name + " " + f
		}
	}
	return h
}

// rect is a pane's content size (inside its border, if any).
type rect struct{ w, h int }

// bodyHeight is the rows between the header and the footer. It counts
// the header's lines without rendering them.
func (m *Model) bodyHeight() int {
	h := m.header()
	return max(0, m.ctx.height-h.height(m.ctx.height/2)-1)
}

// paneRects lays the panes out: tabs (one pane, full width) below the grid
// size, else alerts | keys on top and requests | hosts/origins below.
func (m *Model) paneRects() [nPanes]rect {
	return m.paneRectsFor(m.bodyHeight())
}

func (m *Model) paneRectsFor(bodyH int) [nPanes]rect {
	var r [nPanes]rect
	W := m.ctx.width
	if !m.ctx.grid {
		for p := range r {
			r[p] = rect{W, bodyH - 1}
		}
		return r
	}
	topH := max(8, bodyH*45/100)
	botH := bodyH - topH
	leftW := W / 2
	reqW := W * 62 / 100
	hostsH := botH / 2
	r[paneAlerts] = rect{leftW - 2, topH - 2}
	r[paneKeys] = rect{W - leftW - 2, topH - 2}
	r[paneRequests] = rect{reqW - 2, botH - 2}
	r[paneHosts] = rect{W - reqW - 2, hostsH - 2}
	r[paneOrigins] = rect{W - reqW - 2, botH - hostsH - 2}
	return r
}

// speedLadder is the replay speeds + and - step through; 0 is "max".
func speedLadder() []float64 {
	return []float64{0.1, 0.25, 0.5, 1, 2, 5, 10, 25, 50, 100, 0}
}

// nextSpeed returns the next speed up (dir>0) or down the ladder.
func nextSpeed(cur float64, dir int) float64 {
	l := speedLadder()
	idx := len(l) - 1 // max
	if cur > 0 {
		idx = 0
		for i, v := range l[:len(l)-1] {
			if v <= cur+1e-9 {
				idx = i
			}
		}
	}
	switch {
	case dir < 0 && cur > 0 && l[idx] < cur-1e-9:
		idx++ // between two steps: down goes to the lower one
	case dir > 0 && cur > 0 && l[idx] > cur+1e-9:
		idx-- // below the ladder: up goes to its first step
	}
	idx += dir
	idx = max(0, min(len(l)-1, idx))
	return l[idx]
}

// speedText names a speed for messages.
func speedText(x float64) string {
	if x <= 0 {
		return "as fast as possible"
	}
	return strconv.FormatFloat(x, 'g', 3, 64) + "× recorded speed"
}
