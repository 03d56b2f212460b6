package config

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
)

// AddAllowed appends hosts to [hosts] allowed and origins to [origins]
// allowed in the config file at path, keeping the rest of the file as it is.
// A missing file is created. It returns the path written.
func AddAllowed(path string, hosts, origins []string) (string, error) {
	if path == "" {
		path = "rebindwatch.toml"
	}
	data, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		return path, fmt.Errorf("reading %s: %w", path, err)
	}
	c, err := Parse(path, data)
	if err != nil {
		return path, err
	}
	text := string(data)
	if add := missing(hosts, c.Hosts.Allowed); len(add) > 0 {
		text = setList(text, "hosts", "allowed", append(slices.Clone(c.Hosts.Allowed), add...))
	}
	if add := missing(origins, c.Origins.Allowed); len(add) > 0 {
		text = setList(text, "origins", "allowed", append(slices.Clone(c.Origins.Allowed), add...))
	}
	return path, replace(path, text)
}

// SetColumns sets the columns a dashboard pane shows ([ui.columns] pane =
// [...]) in the config file at path, keeping the rest of the file as it
// is. A missing file is created. It returns the path written.
func SetColumns(path, pane string, cols []string) (string, error) {
	if path == "" {
		path = "rebindwatch.toml"
	}
	data, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		return path, fmt.Errorf("reading %s: %w", path, err)
	}
	if _, err := Parse(path, data); err != nil {
		return path, err
	}
	return path, replace(path, setList(string(data), "ui.columns", pane, cols))
}

// replace writes an edited config over path, atomically, once it loads.
func replace(path, text string) error {
	if _, err := Parse(path, []byte(text)); err != nil {
		return fmt.Errorf("the edited config would not load, not written: %w", err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(text), 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("replacing %s: %w", path, err)
	}
	return nil
}

func missing(add, have []string) []string {
	var out []string
	for _, a := range add {
		if !slices.Contains(have, a) && !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	return out
}

// setList replaces `key = [...]` in [table] (which may span lines), adding the
// key or the table when absent.
func setList(text, table, key string, vals []string) string {
	quoted := make([]string, len(vals))
	for i, v := range vals {
		quoted[i] = strconv.Quote(v)
	}
	line := key + " = [" + strings.Join(quoted, ", ") + "]"
	lines := strings.Split(text, "\n")
	cur, header := "", -1
	for i := 0; i < len(lines); i++ {
		l := strings.TrimSpace(lines[i])
		if strings.HasPrefix(l, "[") {
			cur = strings.TrimSpace(strings.Trim(strings.SplitN(l, "#", 2)[0], " []"))
			if cur == table {
				header = i
			}
			continue
		}
		k, rest, ok := strings.Cut(l, "=")
		if !ok || cur != table || strings.TrimSpace(k) != key {
			continue
		}
		end := i
		depth := strings.Count(rest, "[") - strings.Count(rest, "]")
		for depth > 0 && end+1 < len(lines) {
			end++
			depth += strings.Count(lines[end], "[") - strings.Count(lines[end], "]")
		}
		out := append(slices.Clone(lines[:i]), line)
		return strings.Join(append(out, lines[end+1:]...), "\n")
	}
	if header >= 0 {
		out := append(slices.Clone(lines[:header+1]), line)
		return strings.Join(append(out, lines[header+1:]...), "\n")
	}
	if text != "" && !strings.HasSuffix(text, "\n") {
		text += "\n"
	}
	return text + "\n[" + table + "]\n" + line + "\n"
}
