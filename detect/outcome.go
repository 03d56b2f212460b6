package detect

import (
	"net/netip"
	"strings"
)

// Outcomes of a request, from its response status.
const (
	OutcomeServed  = "served"  // 2xx, 3xx: the server handled it
	OutcomeBlocked = "blocked" // 400, 403, 421: refused, as Host validation does
	OutcomeOther   = "other"   // any other status (401 for a bad key, 404, 5xx)
	OutcomeUnknown = "unknown" // no response seen
)

// Outcome classifies a response status.
func Outcome(status int) string {
	switch {
	case status == 0:
		return OutcomeUnknown
	case status >= 200 && status < 400:
		return OutcomeServed
	case status == 400 || status == 403 || status == 421:
		return OutcomeBlocked
	}
	return OutcomeOther
}

// Classes of unexpected_host alerts, so that the rebinding attempt is seen
// first and background noise folds away.
const (
	ClassRebindingService = "rebinding_service" // a name of a public rebinding tool (ParseRebindName)
	ClassRebinding        = "rebinding"         // a domain name that is not ours, with a key or an Origin
	ClassScanner          = "scanner"           // an IP literal (or a scanner path) with no key and no Origin
	ClassForeign          = "foreign"           // anything else
)

// classify sorts a request with a foreign Host into a noise class. A name
// of a rebinding service is what it is; a bare IP with no key and no Origin
// is what internet scanners send; a foreign domain name that carries a key
// or an Origin is what a rebinding page makes the victim's browser send.
func classify(o *observation) string {
	if o.hostRebind.Tool != "" {
		return ClassRebindingService
	}
	r := o.r
	keyed := r.Key != "" || r.HasOrigin
	name, _ := SplitHostPort(o.host)
	ip := isIPLiteral(name)
	switch {
	case !keyed && (ip || scannerPath(r.Target)):
		return ClassScanner
	case keyed && !ip && name != "":
		return ClassRebinding
	}
	return ClassForeign
}

func isIPLiteral(name string) bool {
	name = strings.TrimSuffix(strings.TrimPrefix(name, "["), "]")
	_, err := netip.ParseAddr(name)
	return err == nil
}

// scannerPaths are paths that internet-wide scanners probe for.
var scannerPaths = []string{
	"/.env", "/.git/", "/wp-login.php", "/wp-admin", "/xmlrpc.php", "/phpmyadmin", "/pma", "/cgi-bin/",
	"/boaform", "/hnap1", "/actuator", "/solr/", "/console", "/vendor/phpunit", "/owa/", "/remote/login",
	"/manager/html", "/geoserver", "/.aws/", "/config.json", "/server-status", "/favicon.ico", "/robots.txt",
}

func scannerPath(target string) bool {
	for _, p := range scannerPaths {
		if len(target) >= len(p) && strings.EqualFold(target[:len(p)], p) {
			return true
		}
	}
	return false
}
