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
			case p.isPunct(i+1, "]") && (p.isPunct(i+2, "=") || p.isPunct(i+2, "+=")) &&
				!p.isIdent(i-2, "environ"): // os.environ["NAME"] = ... sets a variable, not the setting
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
		for k := i + 2; k < len(p.toks) && p.tok(k).line == t.line && !p.exhausted(); k = p.skipBalanced(k) {
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

// frame is one object, array or call around a JavaScript property. Frames
// share their parents, so recording where each property sits costs one
// pointer however deep the file nests.
type frame struct {
	name   string // the property that holds an object or array, or a call's callee
	open   int    // index of the opening bracket's token; -1 for a dotted path
	parent *frame
}

// maxFrameWalk bounds how far up the frames a converter looks.
const maxFrameWalk = 64

// inner returns the innermost frame named one of names, or nil.
func (f *frame) inner(names ...string) *frame {
	for n := 0; f != nil && n < maxFrameWalk; f, n = f.parent, n+1 {
		for _, name := range names {
			if f.name == name {
				return f
			}
		}
	}
	return nil
}

// is reports whether the innermost frame is named one of names.
func (f *frame) is(names ...string) bool {
	if f == nil {
		return false
	}
	for _, name := range names {
		if f.name == name {
			return true
		}
	}
	return false
}

// jsProp is a property set in a JavaScript object or by assignment, with the
// objects and calls around it, so a converter can tell
// devServer.allowedHosts from preview.allowedHosts.
type jsProp struct {
	key  string
	at   int
	line int
	in   *frame
}

// jsCall is a call to one of the functions a converter asked about.
type jsCall struct {
	name string
	open int // index of the "(" token
	at   int // index after "("
	line int
	in   *frame
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
	var stack []*frame
	var openers []string
	top := func() *frame {
		if len(stack) == 0 {
			return nil
		}
		return stack[len(stack)-1]
	}
	for i, t := range p.toks {
		if isOpener(t) {
			name := ""
			prev := p.tok(i - 1)
			switch {
			case t.text == "(" && prev.kind == tIdent:
				name = prev.text
				if wantCall[name] {
					calls = append(calls, jsCall{name: name, open: i, at: i + 1, line: t.line, in: top()})
				}
			case t.text != "(" && p.isPunct(i-1, ":") && (p.tok(i-2).kind == tIdent || p.tok(i-2).kind == tString):
				name = propName(p.tok(i - 2))
			case t.text != "(" && p.isPunct(i-1, "=") && p.tok(i-2).kind == tIdent:
				name = p.tok(i - 2).text
			}
			stack = append(stack, &frame{name: name, open: i, parent: top()})
			openers = append(openers, t.text)
			continue
		}
		if isCloser(t) {
			if n := len(stack); n > 0 {
				stack, openers = stack[:n-1], openers[:n-1]
			}
			continue
		}
		if t.kind != tIdent && t.kind != tString || !wantKey[propName(t)] {
			continue
		}
		inObject := len(openers) > 0 && openers[len(openers)-1] == "{"
		switch {
		case inObject && p.isPunct(i+1, ":") && !p.isPunct(i-1, "?"):
			props = append(props, jsProp{key: propName(t), at: i + 2, line: t.line, in: top()})
		case inObject && t.kind == tIdent && (p.isPunct(i+1, ",") || p.isPunct(i+1, "}")) &&
			(p.isPunct(i-1, "{") || p.isPunct(i-1, ",")):
			// shorthand { allowedHosts }: the value is the variable of that name
			props = append(props, jsProp{key: t.text, at: i, line: t.line, in: top()})
		case t.kind == tIdent && p.isPunct(i-1, ".") && p.isPunct(i+1, "="):
			// config.devServer.allowedHosts = [...]: the dotted path names the frames
			start := i
			for start-2 >= 0 && p.tok(start-2).kind == tIdent && p.isPunct(start-1, ".") && i-start < 2*maxFrameWalk {
				start -= 2
			}
			in := top()
			for k := start; k < i; k += 2 {
				in = &frame{name: p.tok(k).text, open: -1, parent: in}
			}
			props = append(props, jsProp{key: t.text, at: i + 2, line: t.line, in: in})
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
