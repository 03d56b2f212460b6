package allowimport

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// The converters do not evaluate Python, JavaScript or Ruby. They tokenize the
// file (so comments, quotes and line breaks stop mattering), then read the
// literal lists and strings that follow a setting's name. This file is the
// tokenizer: one loop over the bytes, no regular expressions, every step
// advances, so hostile input costs time linear in its size.

// lang selects the comment, string and regex syntax of the tokenizer.
type lang uint8

const (
	langPython lang = iota + 1
	langJS          // JavaScript and TypeScript
	langRuby
)

type tokKind uint8

const (
	tIdent  tokKind = iota + 1 // names, keywords and numbers
	tString                    // a string literal; val is its decoded value
	tRegex                     // a regex literal (/re/, %r{re}); val is its source
	tPunct                     // operators and brackets
)

// token is one lexeme. pos and end delimit its source text, which notes quote
// when an entry cannot be imported.
type token struct {
	kind tokKind
	text string // identifier or operator text
	val  string // decoded string value or regex source
	dyn  bool   // a string with interpolation: its value is only known at run time
	line int
	pos  int
	end  int
}

// multi-byte operators the parsers care about, longest first within a prefix.
var puncts = []string{
	"...", "**=", "<<=", ">>=", "===", "!==",
	"<<", ">>", "+=", "-=", "|=", "&=", "==", "!=", "<=", ">=", "=>", "->",
	"**", "::", "||", "&&", "??", "?.",
}

type lexer struct {
	src  string
	pos  int
	line int
	lang lang
	toks []token
	// heredocs waiting for the end of the current line (Ruby).
	heredocs []heredoc
}

type heredoc struct {
	tok      int // index of the token that receives the body
	id       string
	indented bool // <<~ or <<-: the terminator may be indented
	interp   bool
}

// maxTokens bounds the work for a single file: config files are small, and a
// file that is not cannot make the parsers run long.
const maxTokens = 1 << 20

// lex tokenizes src in the given language.
func lex(src string, lg lang) []token {
	lx := &lexer{src: src, line: 1, lang: lg}
	for lx.pos < len(lx.src) && len(lx.toks) < maxTokens {
		lx.next()
	}
	return lx.toks
}

func (lx *lexer) emit(kind tokKind, text, val string, dyn bool, start, line int) {
	lx.toks = append(lx.toks, token{kind: kind, text: text, val: val, dyn: dyn, line: line, pos: start, end: lx.pos})
}

func (lx *lexer) peek(off int) byte {
	if p := lx.pos + off; p < len(lx.src) {
		return lx.src[p]
	}
	return 0
}

func (lx *lexer) next() {
	c := lx.src[lx.pos]
	switch {
	case c == '\n':
		lx.pos++
		lx.line++
		if len(lx.heredocs) > 0 {
			lx.readHeredocs()
		}
	case c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v':
		lx.pos++
	case c == '\\' && lx.lang != langJS:
		lx.pos++ // line continuation; the newline is counted next
	case c == '#' && lx.lang != langJS:
		lx.skipLine()
	case c == '=' && lx.lang == langRuby && lx.atLineStart() && strings.HasPrefix(lx.src[lx.pos:], "=begin"):
		lx.skipRubyBlockComment()
	case c == '/' && lx.lang == langJS && lx.peek(1) == '/':
		lx.skipLine()
	case c == '/' && lx.lang == langJS && lx.peek(1) == '*':
		lx.skipBlockComment()
	case c == '/' && lx.lang != langPython && !lx.prevIsValue():
		if !lx.regex() {
			lx.punct()
		}
	case c == '"' || c == '\'':
		lx.quoted(c, "", lx.pos)
	case c == '`' && lx.lang != langPython:
		lx.quoted(c, "", lx.pos)
	case c == '%' && lx.lang == langRuby && lx.percentLiteral():
	case c == '<' && lx.lang == langRuby && lx.heredocStart():
	case isIdentStart(c) || (c == '@' || c == '$') && lx.lang != langPython:
		lx.ident()
	case c >= '0' && c <= '9':
		start := lx.pos
		for lx.pos < len(lx.src) && (isIdentByte(lx.src[lx.pos]) || lx.src[lx.pos] == '.') {
			lx.pos++
		}
		lx.emit(tIdent, lx.src[start:lx.pos], "", false, start, lx.line)
	default:
		lx.punct()
	}
}

func isIdentStart(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}

func isIdentByte(c byte) bool {
	return isIdentStart(c) || c >= '0' && c <= '9' || c == '$'
}

func (lx *lexer) atLineStart() bool { return lx.pos == 0 || lx.src[lx.pos-1] == '\n' }

func (lx *lexer) skipLine() {
	for lx.pos < len(lx.src) && lx.src[lx.pos] != '\n' {
		lx.pos++
	}
}

func (lx *lexer) skipBlockComment() {
	end := strings.Index(lx.src[lx.pos+2:], "*/")
	stop := len(lx.src)
	if end >= 0 {
		stop = lx.pos + 2 + end + 2
	}
	lx.line += strings.Count(lx.src[lx.pos:stop], "\n")
	lx.pos = stop
}

func (lx *lexer) skipRubyBlockComment() {
	end := strings.Index(lx.src[lx.pos:], "\n=end")
	stop := len(lx.src)
	if end >= 0 {
		stop = lx.pos + end + 1 // keep the newline that ends =end for the line count
		for stop < len(lx.src) && lx.src[stop] != '\n' {
			stop++
		}
	}
	lx.line += strings.Count(lx.src[lx.pos:stop], "\n")
	lx.pos = stop
}

// prevIsValue reports whether the previous token ends an operand, in which
// case a '/' divides rather than starting a regex.
func (lx *lexer) prevIsValue() bool {
	if len(lx.toks) == 0 {
		return false
	}
	t := lx.toks[len(lx.toks)-1]
	switch t.kind {
	case tString, tRegex:
		return true
	case tPunct:
		return t.text == ")" || t.text == "]" || t.text == "}"
	case tIdent:
		switch t.text {
		case "return", "typeof", "case", "in", "of", "instanceof", "new", "delete", "void",
			"throw", "else", "do", "yield", "await", "when", "if", "unless", "and", "or", "not", "then":
			return false
		}
		return true
	}
	return false
}

func (lx *lexer) punct() {
	start := lx.pos
	rest := lx.src[lx.pos:]
	for _, p := range puncts {
		if strings.HasPrefix(rest, p) {
			lx.pos += len(p)
			lx.emit(tPunct, p, "", false, start, lx.line)
			return
		}
	}
	_, size := utf8.DecodeRuneInString(rest)
	lx.pos += size
	lx.emit(tPunct, rest[:size], "", false, start, lx.line)
}

func (lx *lexer) ident() {
	start := lx.pos
	lx.pos++
	for lx.pos < len(lx.src) && isIdentByte(lx.src[lx.pos]) {
		lx.pos++
	}
	if lx.lang == langRuby && lx.pos < len(lx.src) && (lx.src[lx.pos] == '?' || lx.src[lx.pos] == '!') &&
		lx.peek(1) != '=' {
		lx.pos++
	}
	word := lx.src[start:lx.pos]
	// Python string prefixes: r"", b'', f"", rb'' ...
	if lx.lang == langPython && len(word) <= 2 && lx.pos < len(lx.src) &&
		(lx.src[lx.pos] == '"' || lx.src[lx.pos] == '\'') && isStringPrefix(word) {
		lx.quoted(lx.src[lx.pos], strings.ToLower(word), start)
		return
	}
	lx.emit(tIdent, word, "", false, start, lx.line)
}

func isStringPrefix(w string) bool {
	for i := 0; i < len(w); i++ {
		switch w[i] {
		case 'r', 'R', 'b', 'B', 'u', 'U', 'f', 'F':
		default:
			return false
		}
	}
	return true
}

// quoted reads a string that starts with quote at lx.pos. prefix holds Python
// string prefixes (r raw, f formatted).
func (lx *lexer) quoted(quote byte, prefix string, start int) {
	line := lx.line
	raw := strings.IndexByte(prefix, 'r') >= 0
	interp := ""
	switch {
	case lx.lang == langPython && strings.IndexByte(prefix, 'f') >= 0:
		interp = "{"
	case lx.lang == langJS && quote == '`':
		interp = "${"
	case lx.lang == langRuby && quote != '\'':
		interp = "#{"
	}
	triple := lx.lang == langPython && strings.HasPrefix(lx.src[lx.pos:], strings.Repeat(string(quote), 3))
	if triple {
		lx.pos += 3
	} else {
		lx.pos++
	}
	// Single-line string types end at a newline when unterminated, so one
	// stray quote cannot swallow the rest of the file.
	multiline := triple || lx.lang == langRuby || quote == '`'
	val, dyn := lx.body(quote, triple, raw, interp, multiline, lx.lang == langRuby && quote == '\'')
	lx.emit(tString, "", val, dyn, start, line)
}

// body reads a string body up to its closing quote and decodes escapes.
func (lx *lexer) body(quote byte, triple, raw bool, interp string, multiline, rubySingle bool) (string, bool) {
	var b strings.Builder
	dyn := false
	closing := string(quote)
	if triple {
		closing = strings.Repeat(closing, 3)
	}
	for lx.pos < len(lx.src) {
		c := lx.src[lx.pos]
		if c == quote && strings.HasPrefix(lx.src[lx.pos:], closing) {
			if triple {
				lx.pos += 3
			} else {
				lx.pos++
			}
			return b.String(), dyn
		}
		if c == '\n' {
			if !multiline {
				return b.String(), dyn
			}
			lx.line++
		}
		if interp != "" && strings.HasPrefix(lx.src[lx.pos:], interp) {
			if interp == "{" && lx.peek(1) == '{' { // f"{{" is a literal brace
				b.WriteByte('{')
				lx.pos += 2
				continue
			}
			dyn = true
			lx.pos += len(interp)
			lx.skipInterpolation()
			b.WriteString("{}")
			continue
		}
		if c == '\\' && lx.pos+1 < len(lx.src) {
			n := lx.src[lx.pos+1]
			if raw || rubySingle && n != '\\' && n != quote {
				b.WriteByte('\\')
				b.WriteByte(n)
				if n == '\n' {
					lx.line++
				}
				lx.pos += 2
				continue
			}
			lx.pos += 2
			lx.escape(&b, n)
			continue
		}
		b.WriteByte(c)
		lx.pos++
	}
	return b.String(), dyn
}

// escape decodes the common escapes; unknown ones keep their character.
func (lx *lexer) escape(b *strings.Builder, n byte) {
	switch n {
	case 'n':
		b.WriteByte('\n')
	case 't':
		b.WriteByte('\t')
	case 'r':
		b.WriteByte('\r')
	case '0':
		b.WriteByte(0)
	case '\n':
		lx.line++ // escaped newline: line continuation inside the string
	case 'x':
		if v, err := strconv.ParseUint(lx.hexRun(2), 16, 8); err == nil {
			b.WriteByte(byte(v))
		}
	case 'u':
		digits := ""
		if lx.peek(0) == '{' {
			end := strings.IndexByte(lx.src[lx.pos:], '}')
			if end > 0 && end <= 9 {
				digits = lx.src[lx.pos+1 : lx.pos+end]
				lx.pos += end + 1
			}
		} else {
			digits = lx.hexRun(4)
		}
		if v, err := strconv.ParseUint(digits, 16, 32); err == nil && utf8.ValidRune(rune(v)) {
			b.WriteRune(rune(v))
		}
	default:
		b.WriteByte(n)
	}
}

func (lx *lexer) hexRun(n int) string {
	start := lx.pos
	for lx.pos < len(lx.src) && lx.pos-start < n && isHex(lx.src[lx.pos]) {
		lx.pos++
	}
	return lx.src[start:lx.pos]
}

func isHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

// skipInterpolation skips a ${...} / #{...} / {...} body, with nested braces
// and simple quoted strings, leaving lx.pos after the closing brace.
func (lx *lexer) skipInterpolation() {
	depth := 1
	for lx.pos < len(lx.src) {
		c := lx.src[lx.pos]
		switch c {
		case '{':
			depth++
		case '}':
			depth--
			if depth == 0 {
				lx.pos++
				return
			}
		case '\n':
			lx.line++
		case '"', '\'', '`':
			lx.pos++
			for lx.pos < len(lx.src) && lx.src[lx.pos] != c {
				if lx.src[lx.pos] == '\\' {
					lx.pos++
				} else if lx.src[lx.pos] == '\n' {
					lx.line++
				}
				lx.pos++
			}
		}
		lx.pos++
	}
}

// maxRegex bounds a regex literal: a longer one is taken for a division, so
// a line of unclosed "(/[" cannot make each slash scan the rest of the line.
const maxRegex = 200

// regex reads /source/flags. It reports false, consuming nothing, when the
// slash turns out to be a division (no closing slash on the line).
func (lx *lexer) regex() bool {
	start := lx.pos
	i := lx.pos + 1
	inClass := false
	for i < len(lx.src) {
		c := lx.src[i]
		switch {
		case c == '\n' || i-start > maxRegex:
			return false
		case c == '\\':
			i++
		case c == '[':
			inClass = true
		case c == ']':
			inClass = false
		case c == '/' && !inClass:
			src := lx.src[start+1 : i]
			i++
			for i < len(lx.src) && (lx.src[i] >= 'a' && lx.src[i] <= 'z') {
				i++
			}
			lx.pos = i
			lx.emit(tRegex, "", src, strings.Contains(src, "#{"), start, lx.line)
			return true
		}
		i++
	}
	return false
}

// closing returns the delimiter that closes a %-literal opened by open, and
// whether the pair nests.
func closing(open byte) (byte, bool) {
	switch open {
	case '(':
		return ')', true
	case '[':
		return ']', true
	case '{':
		return '}', true
	case '<':
		return '>', true
	}
	return open, false
}

// percentLiteral reads Ruby's %w[] %i[] (word arrays, emitted as a bracketed
// list of strings), %q() %Q() %() strings and %r{} regexes.
func (lx *lexer) percentLiteral() bool {
	kind := lx.peek(1)
	delimAt := 2
	switch kind {
	case 'w', 'W', 'i', 'I', 'q', 'Q', 'r', 's':
	default:
		if lx.prevIsValue() {
			return false
		}
		kind, delimAt = 'Q', 1
	}
	open := lx.peek(delimAt)
	if open == 0 || isIdentByte(open) || open == ' ' || open == '\n' || open == '\t' || open == '=' {
		return false
	}
	closeC, nests := closing(open)
	start, line := lx.pos, lx.line
	i := lx.pos + delimAt + 1
	depth := 1
	bodyStart := i
	for i < len(lx.src) {
		c := lx.src[i]
		if c == '\\' {
			i += 2
			continue
		}
		if c == '\n' {
			lx.line++
		}
		if nests && c == open {
			depth++
		} else if c == closeC {
			depth--
			if depth == 0 {
				break
			}
		}
		i++
	}
	if i > len(lx.src) {
		i = len(lx.src)
	}
	body := lx.src[bodyStart:i]
	if i < len(lx.src) {
		i++ // the closing delimiter
	}
	switch kind {
	case 'w', 'W', 'i', 'I':
		lx.pos = i
		lx.wordArray(body, bodyStart, start, line)
	case 'r':
		for i < len(lx.src) && lx.src[i] >= 'a' && lx.src[i] <= 'z' {
			i++
		}
		lx.pos = i
		lx.emit(tRegex, "", body, strings.Contains(body, "#{"), start, line)
	default:
		lx.pos = i
		lx.emit(tString, "", body, kind != 'q' && strings.Contains(body, "#{"), start, line)
	}
	return true
}

// wordArray emits %w[a b] as the tokens of ["a", "b"], so the list parser
// needs no special case.
func (lx *lexer) wordArray(body string, bodyStart, start, line int) {
	end := lx.pos
	lx.toks = append(lx.toks, token{kind: tPunct, text: "[", line: line, pos: start, end: bodyStart})
	l := line
	first := true
	for i := 0; i < len(body); {
		c := body[i]
		if c == ' ' || c == '\t' || c == '\r' || c == '\n' {
			if c == '\n' {
				l++
			}
			i++
			continue
		}
		j := i
		for j < len(body) && body[j] != ' ' && body[j] != '\t' && body[j] != '\r' && body[j] != '\n' {
			j++
		}
		if !first {
			lx.toks = append(lx.toks, token{kind: tPunct, text: ",", line: l, pos: bodyStart + i, end: bodyStart + i})
		}
		first = false
		lx.toks = append(lx.toks, token{kind: tString, val: body[i:j], line: l, pos: bodyStart + i, end: bodyStart + j})
		i = j
	}
	lx.toks = append(lx.toks, token{kind: tPunct, text: "]", line: l, pos: end - 1, end: end})
}

// heredocStart recognises <<~ID, <<-ID, <<ID and their quoted forms; the body
// is read when the line ends. A "<<" followed by anything else is the
// operator (config.hosts << "x").
func (lx *lexer) heredocStart() bool {
	if lx.peek(1) != '<' {
		return false
	}
	i := lx.pos + 2
	indented := false
	if i < len(lx.src) && (lx.src[i] == '~' || lx.src[i] == '-') {
		indented = true
		i++
	}
	quote := byte(0)
	if i < len(lx.src) && (lx.src[i] == '"' || lx.src[i] == '\'') {
		quote = lx.src[i]
		i++
	} else if !indented && (i >= len(lx.src) || !(lx.src[i] >= 'A' && lx.src[i] <= 'Z' || lx.src[i] == '_')) {
		return false // "<<name" with a lower-case name is a method call or shift
	}
	j := i
	for j < len(lx.src) && (isIdentByte(lx.src[j]) && lx.src[j] < 0x80) {
		j++
	}
	if j == i {
		return false
	}
	id := lx.src[i:j]
	if quote != 0 {
		if j >= len(lx.src) || lx.src[j] != quote {
			return false
		}
		j++
	}
	start := lx.pos
	lx.pos = j
	lx.emit(tString, "", "", false, start, lx.line)
	lx.heredocs = append(lx.heredocs, heredoc{tok: len(lx.toks) - 1, id: id, indented: indented, interp: quote != '\''})
	return true
}

// readHeredocs reads the bodies of the heredocs opened on the line that just
// ended, in order.
func (lx *lexer) readHeredocs() {
	for _, h := range lx.heredocs {
		var body strings.Builder
		for lx.pos < len(lx.src) {
			end := strings.IndexByte(lx.src[lx.pos:], '\n')
			lineEnd := len(lx.src)
			if end >= 0 {
				lineEnd = lx.pos + end
			}
			text := lx.src[lx.pos:lineEnd]
			lx.pos = lineEnd
			if lx.pos < len(lx.src) {
				lx.pos++
				lx.line++
			}
			check := text
			if h.indented {
				check = strings.TrimSpace(text)
			}
			if check == h.id {
				break
			}
			body.WriteString(text)
			body.WriteByte('\n')
		}
		v := body.String()
		lx.toks[h.tok].val = v
		lx.toks[h.tok].dyn = h.interp && strings.Contains(v, "#{")
	}
	lx.heredocs = lx.heredocs[:0]
}
