package main

import (
	"bufio"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// extLine splits a line in the format of testdata/rec/ext.fmt around the
// fields the flood rewrites: the client, the time, the Host and the key.
var extLine = regexp.MustCompile(`^(\S+)( \S+ \S+ \[)([^\]]+)(\] .* host=")([^"]*)(" .* key=")([^"]+)(".*)$`)

// logTemplate is a recorded line cut around the fields the flood rewrites.
type logTemplate struct {
	a, b, c, d, e string // text before the time, between time and Host, Host and key, after the key
}

// readLogTemplate takes the first line of path that has a key.
func readLogTemplate(path string) (logTemplate, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return logTemplate{}, fmt.Errorf("the log template: %w", err)
	}
	for line := range strings.Lines(string(data)) {
		m := extLine.FindStringSubmatch(strings.TrimRight(line, "\n"))
		if m == nil || m[7] == "-" {
			continue
		}
		return logTemplate{a: m[2], b: m[4], c: m[6], d: m[8]}, nil
	}
	return logTemplate{}, fmt.Errorf("%s has no line in the format of testdata/rec/ext.fmt with a key", path)
}

// writeLog writes the flood as the template's lines.
func writeLog(w *bufio.Writer, tmplPath string, p plan) error {
	t, err := readLogTemplate(tmplPath)
	if err != nil {
		return err
	}
	var (
		sec   int64 = -1
		stamp string
		buf   []byte
	)
	return p.each(func(r *request) error {
		if s := r.at.Unix(); s != sec {
			sec, stamp = s, r.at.Format(time.RFC3339) // nginx's $time_iso8601 in UTC: 2026-11-26T22:00:00+00:00
			stamp = strings.Replace(stamp, "Z", "+00:00", 1)
		}
		buf = r.client.AppendTo(buf[:0])
		buf = append(buf, t.a...)
		buf = append(buf, stamp...)
		buf = append(buf, t.b...)
		buf = append(buf, r.host...)
		buf = append(buf, t.c...)
		if r.key >= 0 {
			buf = appendHex8(buf, r.key)
		} else {
			buf = append(buf, r.keyName...)
		}
		buf = append(buf, t.d...)
		buf = append(buf, '\n')
		_, err := w.Write(buf)
		return err
	})
}

// appendHex8 appends k as 8 hex digits: a key suffix as nginx logs it.
func appendHex8(b []byte, k int) []byte {
	s := strconv.FormatInt(int64(k), 16)
	for range 8 - len(s) {
		b = append(b, '0')
	}
	return append(b, s...)
}
