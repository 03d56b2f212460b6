package report

import (
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"html/template"
	"strconv"
)

// The page and its stylesheet are embedded: the report carries both and
// refers to nothing outside itself.
var (
	//go:embed report.html
	pageText string
	//go:embed style.css
	css string
)

// csp forbids everything but the embedded stylesheet, which it names by
// its hash: no script, no image, font, frame or connection, no form, no
// <base>, whatever ended up in the page.
var csp = "default-src 'none'; style-src 'sha256-" + styleHash() + "'; base-uri 'none'; form-action 'none'"

func styleHash() string {
	sum := sha256.Sum256([]byte(css))
	return base64.StdEncoding.EncodeToString(sum[:])
}

// valueTable is a top Hosts or Origins table for the "values" template.
type valueTable struct {
	Rows []tableRow
	Note string
}

var page = template.Must(template.New("report").Funcs(template.FuncMap{
	// css marks the embedded stylesheet (ours, not data) as CSS.
	"css": func(s string) template.CSS { return template.CSS(s) },
	"f":   func(x float64) string { return strconv.FormatFloat(x, 'f', 1, 64) },
	"pair": func(rows []tableRow, note string) valueTable {
		return valueTable{Rows: rows, Note: note}
	},
}).Parse(pageText))
