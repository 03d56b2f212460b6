package syslogsrc

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

// frames reads every message of a stream; "TOO_LONG" stands for a skipped
// one and "ERR:..." for the error that ended the stream (io.EOF aside).
func frames(r io.Reader, max int) []string {
	f := newFramer(r, max)
	var out []string
	for {
		msg, tooLong, err := f.next()
		switch {
		case tooLong:
			out = append(out, "TOO_LONG")
		case len(msg) > 0:
			out = append(out, string(msg))
		}
		if err == io.EOF {
			return out
		}
		if err != nil {
			return append(out, "ERR:"+err.Error())
		}
	}
}

func TestFramer(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		want []string
	}{
		{"newline", "<13>a\n<13>b\n", []string{"<13>a", "<13>b"}},
		{"crlf_and_nul", "<13>a\r\n<13>b\x00\n", []string{"<13>a", "<13>b"}},
		{"empty_lines_skipped", "\n\n<13>a\n\r\n", []string{"<13>a"}},
		{"octet_counted", "5 <13>a6 <13>bc", []string{"<13>a", "<13>bc"}},
		{"octet_counted_newline_inside", "9 <13>a\nb\nc", []string{"<13>a\nb\nc"}},
		{"mixed_per_message", "5 <13>a<13>b\n3 <1>", []string{"<13>a", "<13>b", "<1>"}},
		{"last_line_without_newline", "<13>a\n<13>b", []string{"<13>a", "<13>b", "ERR:unexpected EOF"}},
		{"digits_not_a_count", "123abc\n", []string{"123abc"}},
		{"digits_to_eof", "123", []string{"123", "ERR:" + errTruncated.Error()}},
		{"hostile_count_over_max", "99 " + strings.Repeat("x", 99) + "<13>ok\n", []string{"TOO_LONG", "<13>ok"}},
		{"hostile_count_huge", "999999999 <13>", []string{"TOO_LONG", "ERR:" + errTruncated.Error()}},
		{"hostile_count_ten_digits", "1000000000 x\n", []string{"1000000000 x"}},
		{"hostile_count_truncated", "10 <13>", []string{"<13>", "ERR:" + errTruncated.Error()}},
		{"hostile_line_over_max", strings.Repeat("y", 100) + "\n<13>ok\n", []string{"TOO_LONG", "<13>ok"}},
		{"hostile_zero_count", "0 x\n", []string{"0 x"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, r := range []io.Reader{strings.NewReader(tc.in), iotest.OneByteReader(strings.NewReader(tc.in))} {
				got := frames(r, 64)
				if strings.Join(got, "|") != strings.Join(tc.want, "|") {
					t.Fatalf("got %q, want %q", got, tc.want)
				}
			}
		})
	}
}

// FuzzFraming: any stream frames without panicking, never yields a
// message over max, and its messages are in the stream in order.
func FuzzFraming(f *testing.F) {
	for _, s := range []string{"5 <13>a6 <13>bc", "<13>a\r\n<13>b\n", "99 x", "123abc\n\n", "1 \n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		fr := newFramer(bytes.NewReader(b), 32)
		rest := b
		for range len(b) + 2 {
			msg, tooLong, err := fr.next()
			if len(msg) > 32+2 {
				t.Fatalf("message of %d bytes over max 32", len(msg))
			}
			if !tooLong && len(msg) > 0 {
				i := bytes.Index(rest, msg)
				if i < 0 {
					t.Fatalf("%q is not in what is left of the stream", msg)
				}
				rest = rest[i+len(msg):]
			}
			if err != nil {
				if err != io.EOF && err != io.ErrUnexpectedEOF && !errors.Is(err, errTruncated) {
					t.Fatalf("error %v", err)
				}
				return
			}
		}
		t.Fatal("the framer did not reach the end")
	})
}
