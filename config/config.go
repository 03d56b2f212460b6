// Package config loads rebindwatch's TOML configuration. Unknown keys and bad
// values are errors that name the key and its line.
package config

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/BurntSushi/toml"

	"github.com/rebindwatch/rebindwatch/detect"
	"github.com/rebindwatch/rebindwatch/keys"
)

// Config is the whole file, decoded.
type Config struct {
	Hosts     Hosts     `toml:"hosts"`
	Origins   Origins   `toml:"origins"`
	Keys      Keys      `toml:"keys"`
	Burst     Burst     `toml:"burst"`
	Spread    Spread    `toml:"spread"`
	Alerts    Alerts    `toml:"alerts"`
	Capture   Capture   `toml:"capture"`
	Log       Log       `toml:"log"`
	Limits    Limits    `toml:"limits"`
	DNS       DNS       `toml:"dns"`
	Stuffing  Stuffing  `toml:"stuffing"`
	Rebinding Rebinding `toml:"rebinding"`
	UI        UI        `toml:"ui"`

	// Path is the file it came from ("" for defaults only).
	Path string `toml:"-"`
	// set lists the keys the file sets ("hosts.allowed"), defaults aside.
	set map[string]bool
}

// Sets reports whether the file sets key ("hosts.allowed") itself, rather
// than leaving it at its default.
func (c *Config) Sets(key string) bool { return c.set[key] }

// Hosts is [hosts].
type Hosts struct {
	Allowed []string `toml:"allowed"`
}

// Origins is [origins].
type Origins struct {
	Allowed      []string `toml:"allowed"`
	AllowNull    bool     `toml:"allow_null"`
	CheckReferer bool     `toml:"check_referer"`
}

// Keys is [keys].
type Keys struct {
	Headers   []string `toml:"headers"`
	Query     []string `toml:"query"`
	LogFields []string `toml:"log_fields"`
	Salt      string   `toml:"salt"`
}

// Burst is [burst].
type Burst struct {
	Window      string `toml:"window"`
	MaxRequests int    `toml:"max_requests"`
}

// Spread is [spread].
type Spread struct {
	Window     string `toml:"window"`
	MaxHosts   int    `toml:"max_hosts"`
	MaxClients int    `toml:"max_clients"`
}

// Alerts is [alerts].
type Alerts struct {
	Dedupe string `toml:"dedupe"`
}

// Capture is [capture].
type Capture struct {
	Ports           []int    `toml:"ports"`
	AnyPort         bool     `toml:"any_port"`
	MaxStreams      int      `toml:"max_streams"`
	MaxStreamBuffer int      `toml:"max_stream_buffer"`
	Servers         []string `toml:"servers"` // addresses and CIDRs of the servers protected; [] = any
}

// Log is [log].
type Log struct {
	Format string  `toml:"format"`
	JSON   LogJSON `toml:"json"`
}

// LogJSON is [log.json]: where a JSON access log keeps each field, as dotted
// paths ("request.host"), used when [log] format = "json".
type LogJSON struct {
	Host      string `toml:"host"`
	Origin    string `toml:"origin"`
	Referer   string `toml:"referer"`
	UserAgent string `toml:"user_agent"`
	Client    string `toml:"client"`
	Time      string `toml:"time"`
	Method    string `toml:"method"`
	Target    string `toml:"target"`
	Proto     string `toml:"proto"`
	Status    string `toml:"status"`
	Key       string `toml:"key"`
	Request   string `toml:"request"`
	Headers   string `toml:"headers"`
}

// Stuffing is [stuffing]: one client presenting more than max_keys distinct
// keys within window.
type Stuffing struct {
	Window  string `toml:"window"`
	MaxKeys int    `toml:"max_keys"`
}

// Rebinding is [rebinding]: the domains under which the host names of
// rebinding services are recognised (their public ones by default; add a
// self-hosted copy's).
type Rebinding struct {
	Domains []string `toml:"domains"`
}

// UI is [ui]: how the dashboard lays out its panes.
type UI struct {
	// Columns are, per pane, the columns it shows in that order ([ui.columns]
	// keys = ["key", "requests", ...]); a pane not named shows them all.
	Columns map[string][]string `toml:"columns"`
}

// PaneColumns are the dashboard's panes and their columns, in their
// default order: what [ui] columns may name. (The dashboard's own list is
// checked against this one by app's tests.)
var PaneColumns = map[string][]string{
	"incidents": {"severity", "detectors", "outcome", "subject", "count", "time", "last"},
	"alerts":    {"severity", "detector", "subject", "key", "client", "count", "time", "age"},
	"keys":      {"key", "requests", "rate", "peak", "hosts", "clients", "origins", "last", "flags"},
	"hosts":     {"host", "requests", "keys", "status", "last"},
	"origins":   {"origin", "requests", "keys", "status", "last"},
	"requests":  {"time", "client", "server", "source", "method", "host", "target", "origin", "key", "status"},
}

// checkUI checks [ui] columns: known panes, known columns, each once, at
// least one.
func (c *Config) checkUI() error {
	for _, pane := range slices.Sorted(maps.Keys(c.UI.Columns)) {
		cols := c.UI.Columns[pane]
		known, ok := PaneColumns[pane]
		key := "ui.columns." + pane
		switch {
		case !ok:
			return &keyError{key, fmt.Sprintf("%q is not a pane (panes: %s)", pane, strings.Join(slices.Sorted(maps.Keys(PaneColumns)), ", "))}
		case len(cols) == 0:
			return &keyError{key, "names no column: leave the pane out to show them all"}
		}
		for i, col := range cols {
			if !slices.Contains(known, col) {
				return &keyError{key, fmt.Sprintf("%q is not a column of %s (columns: %s)", col, pane, strings.Join(known, ", "))}
			}
			if slices.Contains(cols[:i], col) {
				return &keyError{key, fmt.Sprintf("%q is named twice", col)}
			}
		}
	}
	return nil
}

// DNS is [dns].
type DNS struct {
	InternalSuffixes []string `toml:"internal_suffixes"`
}

// Limits is [limits].
type Limits struct {
	Keys       int `toml:"keys"`
	Values     int `toml:"values"`
	Alerts     int `toml:"alerts"`
	Recent     int `toml:"recent"`
	Evidence   int `toml:"evidence"`
	DedupeKeys int `toml:"dedupe_keys"`
	Rows       int `toml:"rows"`
}

// Default returns every option at its documented default.
func Default() Config {
	d := detect.DefaultConfig()
	k := keys.DefaultConfig()
	l := d.Limits
	return Config{
		Origins:   Origins{AllowNull: d.AllowNull, CheckReferer: d.CheckReferer},
		Keys:      Keys{Headers: k.Headers, Query: k.Query, LogFields: k.LogFields},
		Burst:     Burst{Window: "10s", MaxRequests: d.BurstMax},
		Spread:    Spread{Window: "10m", MaxHosts: d.SpreadMaxHosts, MaxClients: d.SpreadMaxClients},
		Alerts:    Alerts{Dedupe: "60s"},
		Capture:   Capture{Ports: []int{80, 8080, 8000, 5000}, MaxStreams: 100_000, MaxStreamBuffer: 1 << 20, Servers: []string{}},
		Log:       Log{Format: "auto"},
		DNS:       DNS{InternalSuffixes: d.InternalSuffixes},
		Stuffing:  Stuffing{Window: "5m", MaxKeys: d.StuffingMaxKeys},
		Rebinding: Rebinding{Domains: d.RebindDomains},
		Limits:    Limits{Keys: l.Keys, Values: l.Values, Alerts: l.Alerts, Recent: l.Recent, Evidence: l.Evidence, DedupeKeys: l.DedupeKeys, Rows: l.Rows},
	}
}

// Error is a configuration error with the file, line and key at fault.
type Error struct {
	Path string
	Line int    // 0 when unknown
	Key  string // "burst.window"; "" when not about one key
	Msg  string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Path)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	b.WriteString(": ")
	if e.Key != "" {
		b.WriteString(capQuote(e.Key, 200))
		b.WriteString(": ")
	}
	b.WriteString(capQuote(e.Msg, 400))
	return b.String()
}

// Find returns the config file to use: explicit if given, else
// ./rebindwatch.toml, else $XDG_CONFIG_HOME/rebindwatch/config.toml (or
// ~/.config/...), else "" (defaults).
func Find(explicit string) string {
	if explicit != "" {
		return explicit
	}
	if _, err := os.Stat("rebindwatch.toml"); err == nil {
		return "rebindwatch.toml"
	}
	dir := os.Getenv("XDG_CONFIG_HOME")
	if dir == "" {
		if home, err := os.UserHomeDir(); err == nil {
			dir = filepath.Join(home, ".config")
		}
	}
	if dir != "" {
		p := filepath.Join(dir, "rebindwatch", "config.toml")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

// Limits on a config file, checked before it is decoded: the TOML decoder
// takes time quadratic in the nesting of inline tables (a 40 KB file of
// them took 24 s and 4 GB), and a config is a few hundred lines.
const (
	maxConfigBytes = 1 << 20
	maxNesting     = 8
)

// Load reads path over the defaults. path "" gives the defaults.
func Load(path string) (Config, error) {
	c := Default()
	if path == "" {
		return c, nil
	}
	data, err := readConfig(path)
	if err != nil {
		return c, err
	}
	return Parse(path, data)
}

// readConfig reads a config of a sane size: a regular file, or a pipe
// (`-c <(envsubst < tmpl)`) read once to its end within pipeWait. A
// device, or a FIFO nothing writes to, would block or never end.
func readConfig(path string) ([]byte, error) {
	// Non-blocking: opening a FIFO would wait until something writes to
	// it. The opened file itself is checked, so nothing can swap the path
	// between a check and the open.
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, fmt.Errorf("reading config %s: %w", path, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("reading config %s: %w", path, err)
	}
	switch {
	case fi.Mode()&os.ModeNamedPipe != 0:
		return readPipe(f, path)
	case !fi.Mode().IsRegular():
		return nil, &Error{Path: path, Msg: "not a regular file or a pipe (a device cannot be a config)"}
	case fi.Size() > maxConfigBytes:
		return nil, &Error{Path: path, Msg: fmt.Sprintf("%d bytes: larger than a config can be (%d KiB at most)", fi.Size(), maxConfigBytes>>10)}
	}
	return readBounded(f, path)
}

// pipeWait is how long a config pipe may take to give its config.
const pipeWait = 5 * time.Second

// readPipe reads a config pipe to its end. A pipe gives its config once:
// read again (a SIGHUP reload) it is empty, and an empty config is an
// error here, so a reload cannot silently turn the checks off.
func readPipe(f *os.File, path string) ([]byte, error) {
	if err := f.SetReadDeadline(time.Now().Add(pipeWait)); err != nil {
		return nil, fmt.Errorf("reading config %s: %w", path, err)
	}
	data, err := readBounded(f, path)
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded):
		return nil, &Error{Path: path, Msg: fmt.Sprintf("the pipe gave no end of its config within %v", pipeWait)}
	case err != nil:
		return nil, err
	case len(data) == 0:
		return nil, &Error{Path: path, Msg: "the pipe gave nothing: nothing writes to it, or it was read already (a pipe's config is read once, at start: give a file to reload one)"}
	}
	return data, nil
}

// readBounded reads f to its end, refusing more than maxConfigBytes.
func readBounded(f *os.File, path string) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(f, maxConfigBytes+1))
	if err != nil {
		return nil, fmt.Errorf("reading config %s: %w", path, err)
	}
	if len(data) > maxConfigBytes {
		return nil, &Error{Path: path, Msg: fmt.Sprintf("larger than a config can be (%d KiB at most)", maxConfigBytes>>10)}
	}
	return data, nil
}

// nestingError reports brackets and braces nested deeper than maxNesting,
// outside strings and comments, with the line where it happens.
func nestingError(path string, data []byte) error {
	depth, line := 0, 1
	var quote byte
	for i := 0; i < len(data); i++ {
		c := data[i]
		switch {
		case c == '\n':
			line++
			if quote == '#' {
				quote = 0 // a comment ends at its line; a string may not ("""...""")
			}
		case quote == '#':
		case quote != 0:
			if c == '\\' && quote == '"' {
				i++
			} else if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'' || c == '#':
			quote = c
		case c == '[' || c == '{':
			if depth++; depth > maxNesting {
				return &Error{Path: path, Line: line, Msg: fmt.Sprintf("arrays and tables nested more than %d deep", maxNesting)}
			}
		case c == ']' || c == '}':
			depth = max(0, depth-1)
		}
	}
	return nil
}

// Parse decodes data (named path in errors) over the defaults and checks it.
func Parse(path string, data []byte) (Config, error) {
	c := Default()
	c.Path = path
	if len(data) > maxConfigBytes {
		return c, &Error{Path: path, Msg: fmt.Sprintf("larger than a config can be (%d KiB at most)", maxConfigBytes>>10)}
	}
	if err := nestingError(path, data); err != nil {
		return c, err
	}
	md, err := toml.Decode(string(data), &c)
	if err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return c, &Error{Path: path, Line: pe.Position.Line, Msg: maskQuoted(oneLine(pe.Message))}
		}
		if m := typeErr.FindStringSubmatch(err.Error()); m != nil {
			line, _ := strconv.Atoi(m[1])
			return c, &Error{Path: path, Line: line, Key: m[2], Msg: m[3]}
		}
		return c, &Error{Path: path, Msg: oneLine(err.Error())}
	}
	if t := md.Type("ui", "columns"); t != "" && t != "Hash" {
		// The decoder leaves a map alone when given another type.
		return c, &Error{Path: path, Line: lineOf(data, []string{"ui", "columns"}), Key: "ui.columns",
			Msg: "incompatible types: want a table of panes ([ui.columns] keys = [\"key\", \"requests\"])"}
	}
	c.set = map[string]bool{}
	for _, k := range md.Keys() {
		c.set[k.String()] = true
	}
	if u := md.Undecoded(); len(u) > 0 {
		key := u[0].String()
		msg := "unknown key" + suggest(u[0])
		if len(u[0]) == 1 && md.Type(u[0]...) == "Hash" {
			msg = "unknown section [" + capQuote(key, 64) + "]" + suggest(u[0])
			msg = strings.Replace(msg, "(sections:", "(known sections:", 1)
		}
		return c, &Error{Path: path, Line: lineOf(data, u[0]), Key: key, Msg: msg}
	}
	_, err = c.Detect()
	if err == nil {
		err = c.checkUI()
	}
	if err != nil {
		var ke *keyError
		if errors.As(err, &ke) {
			key := strings.Split(ke.key, ".")
			line := lineOf(data, key)
			for line == 0 && len(key) > 1 { // a key inside an inline table: its table's line
				key = key[:len(key)-1]
				line = lineOf(data, key)
			}
			return c, &Error{Path: path, Line: line, Key: ke.key, Msg: ke.msg}
		}
		return c, &Error{Path: path, Msg: err.Error()}
	}
	return c, nil
}

// typeErr matches the decoder's type mismatch, which has no ParseError.
var typeErr = regexp.MustCompile(`line (\d+) \(last key "([^"]+)"\): (.*)`)

// keyError is a bad value of one key.
type keyError struct{ key, msg string }

func (e *keyError) Error() string { return e.key + ": " + e.msg }

// Detect returns the engine's part of the configuration.
func (c *Config) Detect() (detect.Config, error) {
	d := detect.DefaultConfig()
	d.AllowedHosts = c.Hosts.Allowed
	d.AllowedOrigins = c.Origins.Allowed
	d.AllowNull = c.Origins.AllowNull
	d.CheckReferer = c.Origins.CheckReferer
	d.InternalSuffixes = c.DNS.InternalSuffixes
	d.RebindDomains = c.Rebinding.Domains
	d.StuffingMaxKeys = c.Stuffing.MaxKeys
	for _, s := range c.Capture.Servers {
		p, err := parseServer(s)
		if err != nil {
			return d, &keyError{"capture.servers", err.Error()}
		}
		d.Servers = append(d.Servers, p)
	}
	var err error
	if d.StuffingWindow, err = duration("stuffing.window", c.Stuffing.Window); err != nil {
		return d, err
	}
	if d.BurstWindow, err = duration("burst.window", c.Burst.Window); err != nil {
		return d, err
	}
	if d.SpreadWindow, err = duration("spread.window", c.Spread.Window); err != nil {
		return d, err
	}
	if d.Dedupe, err = duration("alerts.dedupe", c.Alerts.Dedupe); err != nil {
		return d, err
	}
	d.BurstMax = c.Burst.MaxRequests
	d.SpreadMaxHosts = c.Spread.MaxHosts
	d.SpreadMaxClients = c.Spread.MaxClients
	l := c.Limits
	d.Limits = detect.Limits{Keys: l.Keys, Values: l.Values, Alerts: l.Alerts, Recent: l.Recent, Evidence: l.Evidence, DedupeKeys: l.DedupeKeys, Rows: l.Rows}
	if err := d.Validate(); err != nil {
		key, msg := splitKeyMsg(err.Error())
		return d, &keyError{key, msg}
	}
	for _, p := range c.Capture.Ports {
		if p < 1 || p > 65535 {
			return d, &keyError{"capture.ports", fmt.Sprintf("%d is not a TCP port", p)}
		}
	}
	if c.Capture.MaxStreams < 1 {
		return d, &keyError{"capture.max_streams", "must be at least 1"}
	}
	if c.Capture.MaxStreamBuffer < 4096 {
		return d, &keyError{"capture.max_stream_buffer", "must be at least 4096 bytes"}
	}
	return d, nil
}

// parseServer reads an address ("10.0.0.5", "::1") or a CIDR ("10.0.0.0/24").
func parseServer(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("%q is not an address or a CIDR (10.0.0.0/24)", s)
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%q is not an address or a CIDR (10.0.0.0/24)", s)
	}
	return netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()), nil
}

// KeyConfig returns the key extractor's configuration.
func (c *Config) KeyConfig() keys.Config {
	return keys.Config{Headers: c.Keys.Headers, Query: c.Keys.Query, LogFields: c.Keys.LogFields, Salt: c.Keys.Salt}
}

// Ports returns [capture] ports as uint16s (validated by Detect).
func (c *Config) Ports() []uint16 {
	out := make([]uint16, 0, len(c.Capture.Ports))
	for _, p := range c.Capture.Ports {
		out = append(out, uint16(p))
	}
	return out
}

func duration(key, s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, &keyError{key, fmt.Sprintf("%q is not a duration (use e.g. \"10s\", \"10m\")", s)}
	}
	if d <= 0 {
		return 0, &keyError{key, "must be positive"}
	}
	return d, nil
}

// splitKeyMsg turns detect's "[burst] max_requests must ..." into a key and message.
func splitKeyMsg(s string) (string, string) {
	if strings.HasPrefix(s, "[") {
		if end := strings.IndexByte(s, ']'); end > 0 {
			table := s[1:end]
			rest := strings.TrimSpace(s[end+1:])
			name, msg, _ := strings.Cut(rest, " ")
			name = strings.TrimSuffix(name, ":")
			return table + "." + name, msg
		}
	}
	return "", s
}

// lineOf finds the line that sets key (table path + name) in data, or 0.
func lineOf(data []byte, key []string) int {
	if len(key) == 0 {
		return 0
	}
	table := strings.Join(key[:len(key)-1], ".")
	name := key[len(key)-1]
	cur := ""
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "[") && !strings.HasPrefix(line, "[[") {
			h := strings.TrimSpace(strings.Trim(strings.SplitN(line, "#", 2)[0], " []"))
			cur = h
			if len(key) == 1 && h == name {
				return n
			}
			continue
		}
		k, _, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		k = strings.Trim(strings.TrimSpace(k), `"'`)
		full := k
		if cur != "" {
			full = cur + "." + k
		}
		if full == strings.Join(key, ".") || (cur == table && k == name) {
			return n
		}
	}
	return 0
}

// suggest names the sections and keys that exist, for an unknown key.
func suggest(k toml.Key) string {
	known := map[string][]string{
		"hosts":     {"allowed"},
		"origins":   {"allowed", "allow_null", "check_referer"},
		"keys":      {"headers", "query", "log_fields", "salt"},
		"burst":     {"window", "max_requests"},
		"spread":    {"window", "max_hosts", "max_clients"},
		"alerts":    {"dedupe"},
		"capture":   {"ports", "any_port", "max_streams", "max_stream_buffer", "servers"},
		"log":       {"format", "json"},
		"log.json":  {"host", "origin", "referer", "user_agent", "client", "time", "method", "target", "proto", "status", "key", "request", "headers"},
		"limits":    {"keys", "values", "alerts", "recent", "evidence", "dedupe_keys", "rows"},
		"dns":       {"internal_suffixes"},
		"stuffing":  {"window", "max_keys"},
		"rebinding": {"domains"},
		"ui":        {"columns"},
	}
	if len(k) == 1 {
		return " (sections: [hosts] [origins] [keys] [burst] [spread] [alerts] [capture] [log] [limits] [dns] [stuffing] [rebinding] [ui])"
	}
	if names, ok := known[k[0]]; ok {
		return fmt.Sprintf(" in [%s] (known: %s)", k[0], strings.Join(names, ", "))
	}
	return fmt.Sprintf(": there is no section [%s]", k[0])
}

// capQuote cuts what a message quotes from the file to max bytes: a 5 MB
// section name must not make a 10 MB error.
func capQuote(s string, max int) string {
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + fmt.Sprintf("... (%d bytes)", len(s))
}

// quotedValue is a value the TOML decoder quotes in its messages.
var quotedValue = regexp.MustCompile(`"[^"]*"`)

// maskQuoted replaces the values a decoder message quotes by their length:
// the text it could not read may be a salt or a key pasted without quotes.
func maskQuoted(msg string) string {
	return quotedValue.ReplaceAllStringFunc(msg, func(q string) string {
		return fmt.Sprintf("a value (%d characters)", len(q)-2)
	})
}

func oneLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}
