package allowimport

import "strings"

// The expression reader turns the tokens after a setting's name into the
// literal values it can see. It knows lists, tuples, strings, booleans,
// regexes, calls and a few operators that combine lists (+, |, ||, ??, or,
// ternaries, Python's x if c else y); anything else becomes a "dynamic"
// element that the converters report in a note instead of guessing. It never
// fails: an unexpected token is skipped, so every loop advances.

type elemKind uint8

const (
	eString  elemKind = iota + 1
	eRegex            // val is the regex source
	eTrue             // true / True
	eFalse            // false / False
	eNil              // None / nil / null / undefined
	eCall             // val is the dotted callee name, args its arguments
	eDynamic          // anything whose value is only known when the app runs
)

// elem is one value found in a setting.
type elem struct {
	kind elemKind
	val  string
	raw  string // source text, bounded, for notes
	key  string // keyword argument / object key this value was given under
	line int
	dyn  bool // string with interpolation
	args []elem
}

type parser struct {
	toks   []token
	src    string
	lang   lang
	syms   map[string][]int // NAME = value: index of each value's first token
	cache  map[string][]elem
	busy   map[string]bool
	depth  int
	copied int // elements copied so far, bounded by maxElems
	// steps counts the reader's work; past budget every read returns at
	// once, so a file built to make the reader backtrack (thousands of
	// unclosed "ALLOWED_HOSTS = [") costs time linear in its size.
	steps, budget int
}

// exhausted reports, and counts one step of work, whether the budget is
// spent.
func (p *parser) exhausted() bool {
	p.steps++
	return p.steps > p.budget
}

// truncated reports whether reading stopped early for lack of budget.
func (p *parser) truncated() bool { return p.steps > p.budget }

const (
	maxDepth = 64     // nesting the reader follows before treating the rest as dynamic
	maxElems = 20_000 // values read from one file
	maxRaw   = 60     // source text quoted in a note
)

func newParser(src string, lg lang) *parser {
	p := &parser{toks: lex(src, lg), src: src, lang: lg, cache: map[string][]elem{}, busy: map[string]bool{}}
	p.budget = 64*len(p.toks) + 100_000
	p.syms = p.symbols()
	return p
}

func (p *parser) tok(i int) token {
	if i >= 0 && i < len(p.toks) {
		return p.toks[i]
	}
	return token{}
}

func (p *parser) isPunct(i int, s string) bool {
	t := p.tok(i)
	return t.kind == tPunct && t.text == s
}

func (p *parser) isIdent(i int, s string) bool {
	t := p.tok(i)
	return t.kind == tIdent && t.text == s
}

func isOpener(t token) bool {
	return t.kind == tPunct && (t.text == "(" || t.text == "[" || t.text == "{")
}

func isCloser(t token) bool {
	return t.kind == tPunct && (t.text == ")" || t.text == "]" || t.text == "}")
}

// skipBalanced returns the index after the group that opens at i, or i+1
// when i does not open a group.
func (p *parser) skipBalanced(i int) int {
	if !isOpener(p.tok(i)) {
		return i + 1
	}
	depth := 0
	for j := i; j < len(p.toks); j++ {
		if p.exhausted() {
			return len(p.toks)
		}
		switch {
		case isOpener(p.toks[j]):
			depth++
		case isCloser(p.toks[j]):
			depth--
			if depth == 0 {
				return j + 1
			}
		}
	}
	return len(p.toks)
}

// rawText is the source from token i to token j-1, whitespace collapsed and
// bounded, for quoting in a note.
func (p *parser) rawText(i, j int) string {
	if i >= len(p.toks) || j <= i {
		return ""
	}
	if j > len(p.toks) {
		j = len(p.toks)
	}
	start, end := p.toks[i].pos, p.toks[j-1].end
	if start < 0 || end > len(p.src) || end < start {
		return ""
	}
	s := strings.Join(strings.Fields(p.src[start:end]), " ")
	if len(s) > maxRaw {
		s = s[:maxRaw] + "..."
	}
	return s
}

// symbols maps simple top-level assignments (Python NAME = ..., Ruby NAME =
// ..., JS const/let/var NAME = ...) to their values, so a setting that names
// a list defined earlier in the same file can still be read.
func (p *parser) symbols() map[string][]int {
	syms := map[string][]int{}
	depth := 0
	for i, t := range p.toks {
		switch {
		case isOpener(t):
			depth++
			continue
		case isCloser(t):
			if depth > 0 {
				depth--
			}
			continue
		}
		if t.kind != tIdent || !p.isPunct(i+1, "=") || p.isPunct(i-1, ".") {
			continue
		}
		decl := p.isIdent(i-1, "const") || p.isIdent(i-1, "let") || p.isIdent(i-1, "var")
		if p.lang == langJS && !decl && depth > 0 || p.lang != langJS && depth > 0 {
			continue
		}
		syms[t.text] = append(syms[t.text], i+2)
	}
	return syms
}

// resolve returns the values assigned to name, merged over all assignments.
func (p *parser) resolve(name string) ([]elem, bool) {
	if v, ok := p.cache[name]; ok {
		return v, true
	}
	at, ok := p.syms[name]
	if !ok || p.busy[name] {
		return nil, false
	}
	p.busy[name] = true
	var out []elem
	for _, i := range at {
		els, _, _ := p.expr(i)
		out = p.add(out, els, "")
	}
	delete(p.busy, name)
	p.cache[name] = out
	return out, true
}

// add appends src to dst, giving each value key when it is set. Every copy
// counts against one budget per file, so lists built from lists (A = B + B +
// B ...) cannot grow the work beyond maxElems copies.
func (p *parser) add(dst, src []elem, key string) []elem {
	for _, e := range src {
		if p.copied >= maxElems {
			break
		}
		p.copied++
		if key != "" {
			e.key = key
		}
		dst = append(dst, e)
	}
	return dst
}

func (p *parser) dynamic(i, j int) elem {
	return elem{kind: eDynamic, raw: p.rawText(i, j), line: p.tok(i).line}
}

// expr reads one expression at i. It returns its values, whether it was a
// list literal (so + joins lists rather than concatenating strings), and the
// index after it. It returns j == i only when i cannot start an expression.
func (p *parser) expr(i int) ([]elem, bool, int) {
	if i < len(p.toks) && p.exhausted() {
		return nil, false, len(p.toks)
	}
	if p.depth > maxDepth {
		j := p.skipExpr(i)
		return []elem{p.dynamic(i, j)}, false, j
	}
	p.depth++
	defer func() { p.depth-- }()

	els, isList, j := p.term(i)
	if j == i {
		return nil, false, i
	}
	for j < len(p.toks) {
		t := p.tok(j)
		switch {
		case t.kind == tPunct && (t.text == "||" || t.text == "??") || t.kind == tIdent && t.text == "or" && p.lang == langPython:
			// a || b: either side may be the value; keep both.
			rhs, rl, k := p.term(j + 1)
			if k == j+1 {
				return els, isList, j
			}
			els, isList, j = p.add(els, rhs, ""), isList && rl, k
		case t.kind == tPunct && (t.text == "+" || t.text == "|"):
			rhs, rl, k := p.term(j + 1)
			if k == j+1 {
				return els, isList, j
			}
			if isList || rl { // list + list (Python, Ruby)
				els, isList, j = p.add(els, rhs, ""), true, k
				continue
			}
			// "https://" + HOST: a string built at run time.
			return []elem{p.dynamic(i, k)}, false, k
		case t.kind == tPunct && t.text == "?" && p.lang != langPython:
			// cond ? a : b -- the condition is not a value.
			a, _, k := p.expr(j + 1)
			if k == j+1 || !p.isPunct(k, ":") {
				return []elem{p.dynamic(i, k)}, false, k
			}
			b, _, m := p.expr(k + 1)
			return p.add(a, b, ""), false, m
		case t.kind == tIdent && t.text == "if" && p.lang == langPython && p.sameStatement(j):
			// a if cond else b
			k := j + 1
			for k < len(p.toks) && !p.isIdent(k, "else") && !isCloser(p.tok(k)) && !p.isPunct(k, ",") {
				k = p.skipBalanced(k)
			}
			if !p.isIdent(k, "else") {
				return els, isList, k
			}
			b, _, m := p.expr(k + 1)
			return p.add(els, b, ""), false, m
		case t.kind == tPunct && t.text == "=>" && p.lang == langJS:
			// an arrow function: its result is computed when called.
			k := j + 1
			if isOpener(p.tok(k)) && p.tok(k).text == "{" {
				k = p.skipBalanced(k)
			} else {
				_, _, k = p.expr(k)
				if k == j+1 {
					k++
				}
			}
			return []elem{p.dynamic(i, k)}, false, k
		default:
			return els, isList, j
		}
	}
	return els, isList, j
}

// sameStatement reports whether token j continues the statement of token
// j-1: in Python and Ruby a new line at bracket depth 0 ends a statement.
func (p *parser) sameStatement(j int) bool {
	if p.lang == langJS || p.depth > 1 {
		return true
	}
	return p.tok(j).line == p.tok(j-1).line
}

// skipExpr skips to the end of the expression at i without reading it.
func (p *parser) skipExpr(i int) int {
	j := i
	for j < len(p.toks) && !p.exhausted() {
		t := p.toks[j]
		if isCloser(t) || t.kind == tPunct && (t.text == "," || t.text == ";") || j > i && !p.sameStatement(j) {
			break
		}
		j = p.skipBalanced(j)
	}
	if j == i {
		j++
	}
	return j
}

func (p *parser) term(i int) ([]elem, bool, int) {
	t := p.tok(i)
	switch {
	case i >= len(p.toks):
		return nil, false, i
	case t.kind == tPunct && (t.text == "[" || t.text == "(" || t.text == "{" && p.lang == langPython):
		closer := map[string]string{"[": "]", "(": ")", "{": "}"}[t.text]
		els, j := p.elems(i+1, closer)
		return els, true, p.postfix(j)
	case t.kind == tPunct && t.text == "{":
		j := p.skipBalanced(i)
		return []elem{p.dynamic(i, j)}, false, j
	case t.kind == tPunct && (t.text == "*" || t.text == "**" || t.text == "..."):
		return p.term(i + 1) // splat / spread
	case t.kind == tPunct && (t.text == "-" || t.text == "!" || t.text == "->"):
		j := p.operandEnd(i + 1)
		if t.text == "->" && isOpener(p.tok(j)) { // Ruby lambda ->(x) { ... }
			j = p.skipBalanced(j)
		}
		return []elem{p.dynamic(i, j)}, false, j
	case t.kind == tString:
		val, dyn, j := t.val, t.dyn, i+1
		// Adjacent literals concatenate in Python and Ruby.
		for p.lang != langJS && p.tok(j).kind == tString && p.sameStatement(j) {
			val += p.tok(j).val
			dyn = dyn || p.tok(j).dyn
			j++
		}
		if els, k, ok := p.split(val, dyn, t.line, i, j); ok {
			return els, true, k
		}
		if p.isPunct(j, ".") { // "a".upper()
			k := p.primaryEnd(j)
			return []elem{p.dynamic(i, k)}, false, k
		}
		if p.isPunct(j, "%") && p.lang == langPython { // "%s" % x
			k := p.operandEnd(j + 1)
			return []elem{p.dynamic(i, k)}, false, k
		}
		return []elem{{kind: eString, val: val, dyn: dyn, raw: p.rawText(i, j), line: t.line}}, false, j
	case t.kind == tRegex:
		return []elem{{kind: eRegex, val: t.val, dyn: t.dyn, raw: p.rawText(i, i+1), line: t.line}}, false, i + 1
	case t.kind == tIdent:
		return p.identTerm(i)
	}
	return nil, false, i
}

// postfix handles a call or subscript on a literal: ["a"][0], (...).split().
func (p *parser) postfix(j int) int {
	if p.isPunct(j, ".") || p.isPunct(j, "[") && p.sameStatement(j) {
		return p.primaryEnd(j)
	}
	return j
}

// split evaluates "a,b".split(",") and "a b".split() on a literal, a common
// way to write a host list in one string.
func (p *parser) split(val string, dyn bool, line, i, j int) ([]elem, int, bool) {
	if dyn || !p.isPunct(j, ".") || !p.isIdent(j+1, "split") || !p.isPunct(j+2, "(") {
		return nil, 0, false
	}
	var parts []string
	k := j + 3
	switch {
	case p.isPunct(k, ")"):
		parts = strings.Fields(val)
		k++
	case p.tok(k).kind == tString && !p.tok(k).dyn && p.tok(k).val != "" && p.isPunct(k+1, ")"):
		parts = strings.Split(val, p.tok(k).val)
		k += 2
	default:
		return nil, 0, false
	}
	if p.isPunct(k, ".") || p.isPunct(k, "[") {
		return nil, 0, false
	}
	raw := p.rawText(i, k)
	out := make([]elem, 0, len(parts))
	for _, s := range parts {
		out = append(out, elem{kind: eString, val: strings.TrimSpace(s), raw: raw, line: line})
	}
	return out, k, true
}

func (p *parser) identTerm(i int) ([]elem, bool, int) {
	t := p.tok(i)
	next := p.tok(i + 1)
	chained := next.kind == tPunct && (next.text == "." || next.text == "::" || next.text == "?." ||
		(next.text == "(" || next.text == "[") && p.sameStatement(i+1))
	if !chained {
		switch t.text {
		case "true", "True":
			return []elem{{kind: eTrue, raw: t.text, line: t.line}}, false, i + 1
		case "false", "False":
			return []elem{{kind: eFalse, raw: t.text, line: t.line}}, false, i + 1
		case "None", "nil", "null", "undefined":
			return []elem{{kind: eNil, raw: t.text, line: t.line}}, false, i + 1
		case "lambda", "proc":
			j := p.skipExpr(i)
			return []elem{p.dynamic(i, j)}, false, j
		}
		if els, ok := p.resolve(t.text); ok {
			return els, true, i + 1
		}
	}
	if t.text == "new" && p.lang == langJS {
		return p.identTerm(i + 1)
	}
	return p.call(i)
}

// call reads a dotted name and what follows it. ident(.ident)*(args) with
// nothing after becomes an eCall the converters may recognise
// (IPAddr.new("10.0.0.1")); anything longer is dynamic.
func (p *parser) call(i int) ([]elem, bool, int) {
	j := i + 1
	for (p.isPunct(j, ".") || p.isPunct(j, "::") || p.isPunct(j, "?.")) && p.tok(j+1).kind == tIdent && !p.exhausted() {
		j += 2
	}
	if p.isPunct(j, "(") && p.sameStatement(j) {
		args, k := p.elems(j+1, ")")
		end := p.primaryEnd(k)
		if end == k {
			var name strings.Builder
			for m := i; m < j; m++ {
				if t := p.tok(m); t.kind == tIdent {
					name.WriteString(t.text)
				} else {
					name.WriteByte('.')
				}
			}
			return []elem{{kind: eCall, val: name.String(), raw: p.rawText(i, k), line: p.tok(i).line, args: args}}, false, k
		}
		return []elem{p.dynamic(i, end)}, false, end
	}
	end := p.primaryEnd(j)
	return []elem{p.dynamic(i, end)}, false, end
}

// operandEnd skips one operand at j: a name, string or group, with what
// follows it.
func (p *parser) operandEnd(j int) int {
	switch t := p.tok(j); {
	case t.kind == tIdent || t.kind == tString || t.kind == tRegex:
		return p.primaryEnd(j + 1)
	case isOpener(t):
		return p.primaryEnd(p.skipBalanced(j))
	}
	return j
}

// primaryEnd skips member access, calls and subscripts from j on.
func (p *parser) primaryEnd(j int) int {
	for j < len(p.toks) && !p.exhausted() {
		switch {
		case (p.isPunct(j, ".") || p.isPunct(j, "::") || p.isPunct(j, "?.")) && p.tok(j+1).kind == tIdent:
			j += 2
		case (p.isPunct(j, "(") || p.isPunct(j, "[")) && p.sameStatement(j):
			j = p.skipBalanced(j)
		default:
			return j
		}
	}
	return j
}

// elems reads comma-separated values up to closer, starting after the
// opener. Keyword arguments and object/dict entries (key=v, key: v, "key": v,
// key => v) give their values that key.
func (p *parser) elems(i int, closer string) ([]elem, int) {
	var out []elem
	j := i
	for j < len(p.toks) {
		if p.exhausted() {
			return out, len(p.toks)
		}
		t := p.toks[j]
		if t.kind == tPunct && t.text == closer {
			return out, j + 1
		}
		if isCloser(t) { // a mismatched closer: stop here, the caller sorts it out
			return out, j
		}
		if t.kind == tPunct && (t.text == "," || t.text == ";") {
			j++
			continue
		}
		key := ""
		if (t.kind == tIdent || t.kind == tString) && (p.isPunct(j+1, "=") || p.isPunct(j+1, ":") || p.isPunct(j+1, "=>")) {
			key = t.text
			if t.kind == tString {
				key = t.val
			}
			j += 2
		}
		els, _, k := p.expr(j)
		if k == j {
			k = p.skipBalanced(j)
		}
		out = p.add(out, els, key)
		j = k
		// Skip what the reader did not understand up to the next separator.
		for j < len(p.toks) && !isCloser(p.toks[j]) && !(p.toks[j].kind == tPunct && (p.toks[j].text == "," || p.toks[j].text == ";")) && !p.exhausted() {
			j = p.skipBalanced(j)
		}
	}
	return out, j
}
