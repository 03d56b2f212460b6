package logsrc

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// LogFile is one access log a server config writes.
type LogFile struct {
	Path   string // the file; a glob when the config's path has variables ($host -> *); as written when Skip is set
	Format string // a spec Compile accepts
	Where  string // the directive's place: "/etc/nginx/nginx.conf:40"
	Skip   string // non-empty: why this log cannot be read (syslog, a pipe, off, a stream block)
}

// maxIncludeDepth bounds include nesting (and include loops);
// maxIncludeFiles bounds the files one config pulls in ("Include /").
const (
	maxIncludeDepth = 16
	maxIncludeFiles = 1000
)

// ServerConfig reads an nginx or Apache httpd config (which one is told by
// its name, else its content), following its includes (globs allowed,
// relative ones from the main config's directory for nginx, from ServerRoot
// for Apache), and returns every access log it writes with the format spec
// to read it: nginx's access_log (format combined unless named; off,
// syslog: targets and stream{} logs come back with Skip set), Apache's
// CustomLog / GlobalLog (nickname or inline format; piped logs skipped) and
// TransferLog. Apache's ${VAR} are taken from the environment, else from
// Debian's envvars file beside the config. A relative nginx log path is
// taken from the config's directory (nginx itself uses its -p prefix).
// Errors name the file and line.
func ServerConfig(path string) ([]LogFile, error) {
	src, err := readConf(path)
	if err != nil {
		return nil, fmt.Errorf("server config: %w", err)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("server config %s: %w", path, err)
	}
	if isApacheConfig(path, src) {
		a := &apacheConf{root: filepath.Dir(abs), defs: map[string]string{}, envFile: filepath.Join(filepath.Dir(abs), "envvars")}
		if err := a.file(abs, src, 0); err != nil {
			return nil, err
		}
		return a.resolve(), nil
	}
	n := &nginxConf{dir: filepath.Dir(abs), formats: map[string]nginxFormat{}}
	if err := n.file(abs, src, 0); err != nil {
		return nil, err
	}
	return n.resolve()
}

// isApacheConfig tells an Apache config from an nginx one.
func isApacheConfig(path string, src []byte) bool {
	base := strings.ToLower(filepath.Base(path))
	switch {
	case strings.Contains(base, "nginx"):
		return false
	case strings.Contains(base, "apache") || strings.Contains(base, "httpd"):
		return true
	}
	apache, nginx := 0, 0
	sc := bufio.NewScanner(bytes.NewReader(src))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		if l == "" || l[0] == '#' {
			continue
		}
		switch w := strings.ToLower(firstWord(l)); {
		case strings.HasPrefix(l, "<") && !strings.HasPrefix(l, "<!"):
			apache++
		case w == "logformat" || w == "customlog" || w == "serverroot" || w == "includeoptional" || w == "documentroot":
			apache++
		case strings.HasSuffix(l, ";") || strings.HasSuffix(l, "{") || l == "}":
			nginx++
		}
	}
	return apache > nginx
}

// maxConfBytes bounds one config file: configs are small, and an include
// gone wrong ("Include /") must not read the disk.
const maxConfBytes = 4 << 20

// readConf reads a config file, refusing binary and huge ones.
func readConf(path string) ([]byte, error) {
	// Only regular files: an include must not block on /dev/stdin or a FIFO.
	if fi, err := os.Stat(path); err != nil {
		return nil, logErrConf(path, err)
	} else if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", path)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, logErrConf(path, err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxConfBytes+1))
	if err != nil {
		return nil, logErrConf(path, err)
	}
	if len(b) > maxConfBytes {
		return nil, fmt.Errorf("%s is larger than %d MiB: not a config", path, maxConfBytes>>20)
	}
	if err := sniff(path, b); err != nil {
		return nil, err
	}
	return b, nil
}

func logErrConf(path string, err error) error {
	return &cleanErr{msg: path + ": " + unwrapPath(err), err: err}
}

func where(file string, line int) string { return file + ":" + strconv.Itoa(line) }

// ---------------------------------------------------------------- nginx

type nginxConf struct {
	dir     string // the main config's directory: relative includes and paths
	formats map[string]nginxFormat
	logs    []nginxLog
	files   int
}

type nginxFormat struct {
	esc    string // "", "json", "none", "default"
	format string
}

type nginxLog struct {
	path, format, where, skip string
}

// file reads one nginx config file.
func (n *nginxConf) file(name string, src []byte, depth int) error {
	if depth > maxIncludeDepth {
		return fmt.Errorf("%s: includes nested more than %d deep (a loop?)", name, maxIncludeDepth)
	}
	if n.files++; n.files > maxIncludeFiles {
		return fmt.Errorf("%s: more than %d included files", name, maxIncludeFiles)
	}
	toks, _, err := scanNginx(string(src), 1, false)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	var blocks []string
	var args []token
	for _, t := range toks {
		if t.quoted {
			args = append(args, t)
			continue
		}
		switch t.text {
		case "{":
			if len(args) > 0 {
				blocks = append(blocks, args[0].text)
			} else {
				blocks = append(blocks, "")
			}
			args = nil
		case "}":
			if len(blocks) > 0 {
				blocks = blocks[:len(blocks)-1]
			}
			args = nil
		case ";":
			if len(args) > 0 {
				if err := n.directive(name, args, blocks, depth); err != nil {
					return err
				}
			}
			args = nil
		default:
			args = append(args, t)
		}
	}
	return nil
}

func (n *nginxConf) directive(name string, args []token, blocks []string, depth int) error {
	at := where(name, args[0].line)
	switch args[0].text {
	case "include":
		for _, a := range args[1:] {
			pat := a.text
			if !filepath.IsAbs(pat) {
				pat = filepath.Join(n.dir, pat)
			}
			var files []string
			if hasGlobMeta(pat) {
				m, err := filepath.Glob(pat)
				if err != nil {
					return fmt.Errorf("%s: include %s: %w", at, a.text, err)
				}
				files = m
			} else {
				files = []string{pat}
			}
			sort.Strings(files)
			for _, f := range files {
				if fi, err := os.Stat(f); err == nil && fi.IsDir() {
					continue
				}
				src, err := readConf(f)
				if err != nil {
					return fmt.Errorf("%s: include: %w", at, err)
				}
				if err := n.file(f, src, depth+1); err != nil {
					return err
				}
			}
		}
	case "log_format":
		if len(args) < 3 {
			return fmt.Errorf("%s: log_format needs a name and a format", at)
		}
		f := nginxFormat{}
		rest := args[2:]
		if !rest[0].quoted && strings.HasPrefix(rest[0].text, "escape=") {
			f.esc = strings.TrimPrefix(rest[0].text, "escape=")
			rest = rest[1:]
		}
		var b strings.Builder
		for _, t := range rest {
			b.WriteString(t.text)
		}
		f.format = b.String()
		n.formats[args[1].text] = f
	case "access_log":
		l := nginxLog{where: at, format: "combined"}
		if len(args) < 2 {
			return fmt.Errorf("%s: access_log needs a path", at)
		}
		l.path = args[1].text
		if len(args) > 2 && !strings.Contains(args[2].text, "=") {
			l.format = args[2].text
		}
		switch {
		case l.path == "off":
			l.skip = "access_log off"
		case strings.HasPrefix(l.path, "syslog:"):
			l.skip = "sent to syslog, not a file"
		case inBlock(blocks, "stream"):
			l.skip = "a stream (TCP) log, not HTTP"
		}
		for _, a := range args[2:] {
			if strings.HasPrefix(a.text, "gzip") && l.skip == "" {
				l.skip = "written gzip-compressed (gzip=): read the file with its .gz name once nginx closes it, it cannot be followed"
			}
		}
		n.logs = append(n.logs, l)
	}
	return nil
}

func inBlock(blocks []string, name string) bool {
	for _, b := range blocks {
		if b == name {
			return true
		}
	}
	return false
}

var nginxVar = regexp.MustCompile(`\$(\{[A-Za-z0-9_]+\}|[A-Za-z0-9_]+)`)

// resolve pairs each access_log with its format.
func (n *nginxConf) resolve() ([]LogFile, error) {
	var out []LogFile
	for _, l := range n.logs {
		lf := LogFile{Path: l.path, Where: l.where, Skip: l.skip}
		if l.skip == "" {
			if !filepath.IsAbs(lf.Path) {
				lf.Path = filepath.Join(n.dir, lf.Path)
			}
			lf.Path = nginxVar.ReplaceAllString(lf.Path, "*")
		}
		switch f, ok := n.formats[l.format]; {
		case ok:
			lf.Format = nginxSpec(l.format, f)
		case l.format == "combined":
			lf.Format = nameNginxCombined
		default:
			return nil, fmt.Errorf("%s: access_log uses log_format %q, which the config does not define", l.where, short(l.format))
		}
		out = append(out, lf)
	}
	return out, nil
}

// nginxSpec writes a log_format back as the directive Compile reads.
func nginxSpec(name string, f nginxFormat) string {
	var b strings.Builder
	b.WriteString("nginx:log_format ")
	b.WriteString(name)
	if f.esc != "" {
		b.WriteString(" escape=" + f.esc)
	}
	b.WriteString(" '")
	for i := 0; i < len(f.format); i++ {
		switch c := f.format[i]; c {
		case '\'', '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteString("';")
	return b.String()
}

// ---------------------------------------------------------------- Apache

type apacheConf struct {
	root    string // ServerRoot: relative includes and paths
	defs    map[string]string
	unnamed string // the last LogFormat without a nickname (TransferLog)
	logs    []apacheLog
	envFile string
	env     map[string]string
	files   int
}

type apacheLog struct {
	path, format, where string
	inline              bool
}

func (a *apacheConf) file(name string, src []byte, depth int) error {
	if depth > maxIncludeDepth {
		return fmt.Errorf("%s: includes nested more than %d deep (a loop?)", name, maxIncludeDepth)
	}
	if a.files++; a.files > maxIncludeFiles {
		return fmt.Errorf("%s: more than %d included files", name, maxIncludeFiles)
	}
	for _, l := range apacheLines(string(src)) {
		args, err := apacheArgs(l.text)
		if err != nil {
			return fmt.Errorf("%s: %w", where(name, l.line), err)
		}
		if len(args) == 0 {
			continue
		}
		at := where(name, l.line)
		switch strings.ToLower(args[0]) {
		case "serverroot":
			if len(args) > 1 {
				root := a.expand(args[1])
				if !filepath.IsAbs(root) { // httpd wants it absolute; take it from the config's directory
					root = filepath.Join(filepath.Dir(name), root)
				}
				a.root = root
			}
		case "include", "includeoptional":
			if len(args) < 2 {
				continue
			}
			optional := strings.EqualFold(args[0], "includeoptional")
			pat := a.expand(args[1])
			if !filepath.IsAbs(pat) {
				pat = filepath.Join(a.root, pat)
			}
			files, err := apacheInclude(pat)
			if err != nil {
				return fmt.Errorf("%s: %s %s: %w", at, args[0], args[1], err)
			}
			if len(files) == 0 && !optional {
				return fmt.Errorf("%s: Include %s matches no file", at, args[1])
			}
			for _, f := range files {
				src, err := readConf(f)
				if err != nil {
					if optional && !errors.Is(err, ErrBinaryFile) {
						continue
					}
					return fmt.Errorf("%s: %s: %w", at, args[0], err)
				}
				if err := a.file(f, src, depth+1); err != nil {
					return err
				}
			}
		case "logformat":
			switch {
			case len(args) == 2:
				a.unnamed = args[1]
			case len(args) > 2:
				a.defs[args[2]] = args[1]
			}
		case "customlog", "globallog":
			if len(args) < 3 {
				return fmt.Errorf("%s: %s needs a file and a format", at, args[0])
			}
			a.logs = append(a.logs, apacheLog{path: args[1], format: args[2], where: at})
		case "transferlog":
			if len(args) < 2 {
				return fmt.Errorf("%s: TransferLog needs a file", at)
			}
			f := a.unnamed
			if f == "" {
				f = apacheCLF
			}
			a.logs = append(a.logs, apacheLog{path: args[1], format: f, where: at, inline: true})
		}
	}
	return nil
}

// apacheInclude lists what an Include names: a file, the files of a
// directory (and its subdirectories), or a glob's matches.
func apacheInclude(pat string) ([]string, error) {
	var files []string
	if hasGlobMeta(pat) {
		m, err := filepath.Glob(pat)
		if err != nil {
			return nil, err
		}
		files = m
	} else if _, err := os.Stat(pat); err == nil {
		files = []string{pat}
	}
	var out []string
	for _, f := range files {
		fi, err := os.Stat(f)
		if err != nil {
			continue
		}
		if !fi.IsDir() {
			out = append(out, f)
			continue
		}
		filepath.WalkDir(f, func(p string, d os.DirEntry, err error) error {
			if len(out) >= maxIncludeFiles {
				return filepath.SkipAll
			}
			if err == nil && d.Type().IsRegular() {
				out = append(out, p)
			}
			return nil
		})
	}
	sort.Strings(out)
	return out, nil
}

var apacheVar = regexp.MustCompile(`\$\{([A-Za-z0-9_]+)\}`)

// expand replaces ${VAR} from the environment, else from the envvars file.
func (a *apacheConf) expand(s string) string {
	return apacheVar.ReplaceAllStringFunc(s, func(m string) string {
		name := m[2 : len(m)-1]
		if v, ok := os.LookupEnv(name); ok {
			return v
		}
		if v, ok := a.envVars()[name]; ok {
			return v
		}
		return m
	})
}

// envVars reads Debian's envvars (export NAME=value lines; $SUFFIX and
// other shell variables in them are taken as empty).
func (a *apacheConf) envVars() map[string]string {
	if a.env != nil {
		return a.env
	}
	a.env = map[string]string{}
	b, err := os.ReadFile(a.envFile)
	if err != nil {
		return a.env
	}
	shellVar := regexp.MustCompile(`\$\{?[A-Za-z_][A-Za-z0-9_]*\}?`)
	for _, l := range strings.Split(string(b), "\n") {
		l = strings.TrimSpace(l)
		if !strings.HasPrefix(l, "export ") {
			continue
		}
		k, v, ok := strings.Cut(strings.TrimSpace(l[len("export "):]), "=")
		if !ok {
			continue
		}
		v = strings.Trim(v, `"'`)
		a.env[k] = shellVar.ReplaceAllStringFunc(v, func(m string) string {
			if val, ok := a.env[strings.Trim(m, "${}")]; ok {
				return val
			}
			return ""
		})
	}
	return a.env
}

// resolve pairs each CustomLog with its format.
func (a *apacheConf) resolve() []LogFile {
	var out []LogFile
	for _, l := range a.logs {
		lf := LogFile{Path: a.expand(l.path), Where: l.where}
		format, label := l.format, ""
		if !l.inline && strings.IndexByte(l.format, '%') < 0 {
			if d, ok := a.defs[l.format]; ok {
				format, label = d, l.format
			} else if d, ok := apacheNicknames[l.format]; ok {
				format, label = d, l.format
			} else {
				lf.Skip = fmt.Sprintf("format %q is neither a LogFormat nickname nor a format", short(l.format))
			}
		}
		lf.Format = apacheSpec(format, label)
		switch {
		case strings.HasPrefix(lf.Path, "|"):
			lf.Skip = "piped to a program, not a file"
		case strings.HasPrefix(lf.Path, "syslog:"):
			lf.Skip = "sent to syslog, not a file"
		case apacheVar.MatchString(lf.Path):
			lf.Skip = "its path has a variable that is not set: " + lf.Path
		case lf.Skip == "" && !filepath.IsAbs(lf.Path):
			lf.Path = filepath.Join(a.root, lf.Path)
		}
		out = append(out, lf)
	}
	return out
}

// apacheSpec writes a LogFormat back as the directive Compile reads.
func apacheSpec(format, nickname string) string {
	q := strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(format)
	s := `apache:LogFormat "` + q + `"`
	if nickname != "" {
		s += " " + nickname
	}
	return s
}
