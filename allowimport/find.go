package allowimport

// Finders: where a setting gets its value, in Python (NAME = ..., NAME += ...,
// NAME.append(...), config["NAME"] = ..., {"NAME": ...}, f(NAME=...)) and in
// JavaScript (key: value inside an object, obj.key = value).

// assignment is one place a setting is given a value.
type assignment struct {
	name string
	op   string // "=", "+=", or a list method: "append", "extend", "insert"
	at   int    // index of the value's first token (after "(" for methods)
	line int
}

// values reads what one assignment assigns or adds.
func (p *parser) values(a assignment) []elem {
	switch a.op {
	case "=", "+=":
		els, _, _ := p.expr(a.at)
		return els
	case "insert":
		args, _ := p.elems(a.at, ")")
		if len(args) > 0 {
			return args[1:] // insert(index, value)
		}
		return nil
	default: // append, extend, add, update: the arguments are the values
		args, _ := p.elems(a.at, ")")
		return args
	}
}

// pyFind returns the assignments to any of names, in file order.
func (p *parser) pyFind(names ...string) []assignment {
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	var out []assignment
	for i, t := range p.toks {
		switch {
		case t.kind == tIdent && want[t.text]:
			if a, ok := p.pyIdentAssign(i); ok {
				out = append(out, a)
			}
		case t.kind == tString && !t.dyn && want[t.val]:
			switch {
			case p.isPunct(i+1, "]") && (p.isPunct(i+2, "=") || p.isPunct(i+2, "+=")):
				out = append(out, assignment{name: t.val, op: p.tok(i + 2).text, at: i + 3, line: t.line})
			case p.isPunct(i+1, ":"): // {"NAME": value}
				out = append(out, assignment{name: t.val, op: "=", at: i + 2, line: t.line})
			}
		}
	}
	return out
}

func (p *parser) pyIdentAssign(i int) (assignment, bool) {
	t := p.tok(i)
	a := assignment{name: t.text, line: t.line}
	switch {
	case p.isPunct(i+1, "="):
		a.op, a.at = "=", i+2
	case p.isPunct(i+1, "+=") || p.isPunct(i+1, "|="):
		a.op, a.at = "+=", i+2
	case p.isPunct(i+1, ":") && !p.isPunct(i-1, "{") && !p.isPunct(i-1, ","): // NAME: list[str] = [...]
		for k := i + 2; k < len(p.toks) && p.tok(k).line == t.line; k = p.skipBalanced(k) {
			if p.isPunct(k, "=") {
				a.op, a.at = "=", k+1
				return a, true
			}
		}
		return a, false
	case p.isPunct(i+1, ".") && p.isPunct(i+3, "("):
		switch m := p.tok(i + 2).text; m {
		case "append", "extend", "insert", "add", "update":
			a.op, a.at = m, i+4
		default:
			return a, false
		}
	default:
		return a, false
	}
	return a, true
}

// jsProp is a property set in a JavaScript object or by assignment, with the
// names of the objects and calls around it (outermost first), so a converter
// can tell devServer.allowedHosts from preview.allowedHosts.
type jsProp struct {
	key    string
	at     int
	line   int
	frames []string
}

// jsCall is a call to one of the functions a converter asked about.
type jsCall struct {
	name   string
	at     int // index after "("
	line   int
	frames []string
}

func (p *parser) jsScan(keys []string, callees []string) ([]jsProp, []jsCall) {
	wantKey := map[string]bool{}
	for _, k := range keys {
		wantKey[k] = true
	}
	wantCall := map[string]bool{}
	for _, k := range callees {
		wantCall[k] = true
	}
	var props []jsProp
	var calls []jsCall
	var frames, openers []string
	snapshot := func(extra ...string) []string {
		out := make([]string, 0, len(frames)+len(extra))
		out = append(out, frames...)
		return append(out, extra...)
	}
	for i, t := range p.toks {
		if isOpener(t) {
			name := ""
			prev := p.tok(i - 1)
			switch {
			case t.text == "(" && prev.kind == tIdent:
				name = prev.text
				if wantCall[name] {
					calls = append(calls, jsCall{name: name, at: i + 1, line: t.line, frames: snapshot()})
				}
			case t.text != "(" && p.isPunct(i-1, ":") && (p.tok(i-2).kind == tIdent || p.tok(i-2).kind == tString):
				name = propName(p.tok(i - 2))
			case t.text != "(" && p.isPunct(i-1, "=") && p.tok(i-2).kind == tIdent:
				name = p.tok(i - 2).text
			}
			frames = append(frames, name)
			openers = append(openers, t.text)
			continue
		}
		if isCloser(t) {
			if n := len(frames); n > 0 {
				frames, openers = frames[:n-1], openers[:n-1]
			}
			continue
		}
		if t.kind != tIdent && t.kind != tString || !wantKey[propName(t)] {
			continue
		}
		inObject := len(openers) > 0 && openers[len(openers)-1] == "{"
		switch {
		case inObject && p.isPunct(i+1, ":") && !p.isPunct(i-1, "?"):
			props = append(props, jsProp{key: propName(t), at: i + 2, line: t.line, frames: snapshot()})
		case inObject && t.kind == tIdent && (p.isPunct(i+1, ",") || p.isPunct(i+1, "}")) &&
			(p.isPunct(i-1, "{") || p.isPunct(i-1, ",")):
			// shorthand { allowedHosts }: the value is the variable of that name
			props = append(props, jsProp{key: t.text, at: i, line: t.line, frames: snapshot()})
		case t.kind == tIdent && p.isPunct(i-1, ".") && p.isPunct(i+1, "="):
			// config.devServer.allowedHosts = [...]: the dotted path names the frames
			var path []string
			for k := i - 2; k >= 0 && p.tok(k).kind == tIdent; k -= 2 {
				path = append([]string{p.tok(k).text}, path...)
				if !p.isPunct(k-1, ".") {
					break
				}
			}
			props = append(props, jsProp{key: t.text, at: i + 2, line: t.line, frames: snapshot(path...)})
		}
	}
	return props, calls
}

func propName(t token) string {
	if t.kind == tString {
		return t.val
	}
	return t.text
}

func hasFrame(frames []string, names ...string) bool {
	for _, f := range frames {
		for _, n := range names {
			if f == n {
				return true
			}
		}
	}
	return false
}

// innermost returns the innermost frame name that is one of names.
func innermost(frames []string, names ...string) string {
	for i := len(frames) - 1; i >= 0; i-- {
		for _, n := range names {
			if frames[i] == n {
				return n
			}
		}
	}
	return ""
}
