package explain

import (
	"regexp"
	"strings"
	"sync"
)

// The phrases of Let's Encrypt's CA software (Boulder), as docs/explain.md
// lists them:
//
//	DNS problem: RCODE looking up CAA for NAME - EXPLANATION
//	DNS problem: query timed out looking up CAA for NAME
//	DNS problem: networking error looking up CAA for NAME
//	DNS problem: looking up CAA for NAME: EDE SUMMARY: EXTRA TEXT
//	CAA record for NAME prevents issuance
//	While processing CAA for IDENT: ...
//	During secondary validation: ... / During secondary CAA checking: ...
var (
	reDNSProblem = linePattern(`(?i)DNS problem: (?:([^:\n"\\]{1,80}?) )?looking up ([A-Za-z0-9]{1,10}) for ([A-Za-z0-9_.*-]{1,253})(?:(?: - |: ?)([^\n"\\]{0,600}))?`, "dns problem: ")
	rePrevents   = linePattern(`(?i)CAA record for ([A-Za-z0-9_.*-]{1,253}) prevents issuance`, " prevents issuance")
	reWhile      = linePattern(`(?i)While processing CAA for ([A-Za-z0-9_.*-]{1,253})`, "while processing caa for ")
	reSecondary  = linePattern(`(?i)During secondary (?:domain )?(?:validation|CAA checking)|secondary validation failed|remote perspective|\bMPIC\b`, "secondary ", "remote perspective", "mpic")
	reACMEType   = linePattern(`urn:(?:ietf:params:)?acme:error:([A-Za-z]{1,40})`, "acme:error:")
	reGoogle     = linePattern(`\b(FAILED_CAA_CHECKING|FAILED_CAA_FORBIDDEN)\b`, "failed_caa_")
	reAWS        = linePattern(`\bCAA_ERROR\b`, "caa_error")
	reSSLcom     = linePattern(`(?i)MPIC failed[.\s]*(CAA record does not include ([A-Za-z0-9_.-]{1,253})[^\n"\\]{0,300})`, "mpic failed")
	reZeroInv    = lazyRegexp(`(?i)"?status"?\s*[:=]\s*"?invalid\b|\border (?:is |status )?invalid\b|\binvalid order\b|\bstatus invalid\b`)

	// Names from the clients' own context lines.
	reCertbotDomain = linePattern(`^\s*Domain:\s*([A-Za-z0-9_.*-]{1,253})\s*$`, "domain:")
	reBracket       = linePattern(`\[([A-Za-z0-9*][A-Za-z0-9_.*-]{0,252}\.[A-Za-z0-9-]{1,63})\]`, "[")
	reAcmeSh        = linePattern(`\]\s*([A-Za-z0-9*][A-Za-z0-9_.*-]{0,252}):Verify error:`, ":verify error:")
	reAuthzFor      = linePattern(`(?i)authorization (?:error )?for ([A-Za-z0-9*][A-Za-z0-9_.*-]{0,252})`, "authorization ")
	reKeyName       = linePattern(`(?i)"?(?:identifier|dnsName|commonName|domain|DomainName|value)"?\s*[:=]\s*"?([A-Za-z0-9*][A-Za-z0-9_.*-]{0,252}\.[A-Za-z0-9-]{1,63})"?`, "identifier", "dnsname", "commonname", "domain", "value")
	reRequesting    = linePattern(`(?i)Requesting a certificate for (.{1,1000})$`, "requesting a certificate for ")
	reListItem      = linePattern(`^\s*-\s+"?([A-Za-z0-9*][A-Za-z0-9_.*-]{0,252}\.[A-Za-z0-9-]{1,63})"?\s*$`, "-")
	reDNSNamesKey   = linePattern(`^\s*dnsNames:\s*$`, "dnsnames:")
)

// pattern is a regular expression for one line, compiled on first use,
// with the literals of which every match holds at least one (in lower
// case; ASCII, as the CAs and clients write their phrases). A line holding
// none is not handed to the regexp engine: most lines of a long message
// hold no phrase, and the engine's time was most of explain's on a 1 MiB
// message. TestPatternNeeds checks the literals against every fixture.
type pattern struct {
	re    func() *regexp.Regexp
	needs []string
}

func linePattern(expr string, needs ...string) *pattern {
	return &pattern{re: lazyRegexp(expr), needs: needs}
}

// may says whether a line whose lower case is low can match.
func (p *pattern) may(low string) bool {
	for _, n := range p.needs {
		if strings.Contains(low, n) {
			return true
		}
	}
	return false
}

func (p *pattern) match(l folded) bool { return p.may(l.low) && p.re().MatchString(l.s) }

func (p *pattern) find(l folded) []string {
	if !p.may(l.low) {
		return nil
	}
	return p.re().FindStringSubmatch(l.s)
}

func (p *pattern) findAll(l folded, n int) [][]string {
	if !p.may(l.low) {
		return nil
	}
	return p.re().FindAllStringSubmatch(l.s, n)
}

// folded is a string of the message and its lower case, made once for
// all the patterns tried on it.
type folded struct{ s, low string }

func fold(s string) folded { return folded{s, strings.ToLower(s)} }

// scan finds the problems in one string (a line, or one JSON or YAML string
// value), given with its lower case. names are the certificate names its
// context gives.
func (p *parser) scan(l folded, names []string) {
	if len(l.s) > maxScan {
		l = fold(l.s[:maxScan])
	}
	remote := reSecondary.match(l)
	acmeType := reACMEType.find(l)
	if acmeType != nil {
		p.sawType(acmeType[0])
	}
	ident := ""
	if m := reWhile.find(l); m != nil {
		ident = cleanName(m[1])
	}
	withIdent := func(pr Problem) Problem {
		switch {
		case ident != "":
			pr.Names = []string{ident}
		default:
			pr.Names = append([]string(nil), names...)
		}
		if remote {
			pr.Perspective = PerspectiveRemote
		}
		if acmeType != nil {
			pr.Type = acmeType[0]
		}
		return pr
	}
	found := false
	for _, m := range reDNSProblem.findAll(l, 8) {
		if !strings.EqualFold(m[2], "CAA") {
			continue
		}
		found = true
		errText := strings.TrimSpace(m[1])
		rest := strings.TrimSpace(m[4])
		if errText == "" {
			// The Extended DNS Error form: the summary and extra text
			// follow the name.
			errText = rest
		}
		p.add(withIdent(Problem{Detail: bound(m[0]), Lookup: cleanName(m[3]), Error: bound(errText), CA: "letsencrypt.org", Perspective: PerspectivePrimary}))
	}
	for _, m := range rePrevents.findAll(l, 8) {
		found = true
		p.add(withIdent(Problem{Detail: bound(m[0]), Lookup: cleanName(m[1]), Kind: KindPolicy, CA: "letsencrypt.org", Perspective: PerspectivePrimary}))
	}
	if m := reSSLcom.find(l); m != nil && !found {
		found = true
		pr := withIdent(Problem{Detail: bound(m[0]), Kind: KindPolicy, CA: "ssl.com", Perspective: PerspectiveRemote})
		pr.Error = "CAA record does not include " + cleanName(m[2])
		p.add(pr)
	}
	if m := reGoogle.find(l); m != nil && !found {
		found = true
		pr := withIdent(Problem{Detail: bound(m[0]), Error: m[1], CA: "pki.goog", Perspective: PerspectiveUnknown, Source: "google-cloud"})
		if m[1] == "FAILED_CAA_FORBIDDEN" {
			pr.Kind = KindPolicy
		}
		p.add(pr)
	}
	if reAWS.match(l) && !found {
		found = true
		p.add(withIdent(Problem{Detail: bound(strings.TrimSpace(l.s)), Error: "CAA_ERROR", CA: "amazon.com", Kind: KindUnknown, Perspective: PerspectiveUnknown, Source: "aws-acm"}))
	}
	if !found && remote && strings.Contains(l.low, "caa") {
		p.remoteHint = true
	}
}

// maxScan bounds one string handed to the regular expressions.
const maxScan = 64 << 10

// parseText reads a message line by line: Boulder's texts wherever they
// appear, with the certificate names from the clients' context lines
// (certbot's "Domain:", lego's "[name]", acme.sh's "name:Verify error:",
// cert-manager's dnsNames). Lines that are JSON objects (Caddy's logs)
// are read as JSON.
func (p *parser) parseText(text string) {
	var current []string
	currentLeft := 0
	inDNSNames := false
	for line := range strings.SplitSeq(text, "\n") {
		line = strings.TrimRight(line, "\r")
		if t := strings.TrimSpace(line); strings.HasPrefix(t, "{") && strings.HasSuffix(t, "}") {
			if p.parseJSONValue(t) {
				continue
			}
		}
		l := fold(line)
		if m := reCertbotDomain.find(l); m != nil {
			current, currentLeft = []string{cleanName(m[1])}, 4
			p.docName(m[1])
			continue
		}
		if reDNSNamesKey.match(l) {
			inDNSNames = true
			continue
		}
		if inDNSNames {
			if m := reListItem.find(l); m != nil {
				p.docName(m[1])
				continue
			}
			inDNSNames = false
		}
		if m := reRequesting.find(l); m != nil {
			for _, w := range strings.FieldsFunc(m[1], func(r rune) bool { return r == ' ' || r == ',' }) {
				if w != "and" && looksLikeName(w) {
					p.docName(w)
				}
			}
		}
		var lineNames []string
		for _, re := range []*pattern{reAcmeSh, reAuthzFor, reBracket, reKeyName} {
			for _, m := range re.findAll(l, 4) {
				if n := cleanName(m[1]); looksLikeName(n) {
					lineNames = appendName(lineNames, n)
					p.docName(n)
				}
			}
			if len(lineNames) > 0 {
				break
			}
		}
		names := lineNames
		if len(names) == 0 && currentLeft > 0 {
			names = current
		}
		if currentLeft > 0 {
			currentLeft--
		}
		p.scan(l, names)
	}
}

// looksLikeName says whether s can be a DNS name as a CA writes one.
func looksLikeName(s string) bool {
	s = strings.TrimPrefix(strings.TrimSuffix(s, "."), "*.")
	if s == "" || len(s) > 253 {
		return false
	}
	for l := range strings.SplitSeq(s, ".") {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}

// cleanName lowercases a name and drops a trailing dot, quotes and
// brackets around it.
func cleanName(s string) string {
	s = strings.Trim(s, "\"'`[]()<>,;")
	s = strings.TrimSuffix(strings.ToLower(s), ".")
	return s
}

func bound(s string) string {
	if len(s) <= maxField {
		return s
	}
	cut := maxField
	for cut > 0 && s[cut]&0xC0 == 0x80 {
		cut--
	}
	return s[:cut] + "…"
}

func appendName(list []string, n string) []string {
	for _, x := range list {
		if x == n {
			return list
		}
	}
	return append(list, n)
}

// detectFormat says which client or CA the message looks like it came
// from.
func detectFormat(text string) string {
	head := text
	if len(head) > 256<<10 {
		head = head[:256<<10]
	}
	l := strings.ToLower(head)
	has := func(subs ...string) bool {
		for _, s := range subs {
			if strings.Contains(l, s) {
				return true
			}
		}
		return false
	}
	switch {
	case has("cert-manager.io", "kind: order", "kind: challenge", `"kind": "order"`, `"kind": "challenge"`, `"kind":"order"`, `"kind":"challenge"`):
		return "cert-manager"
	case has(`"logger":"tls`, `"logger": "tls`, "tls.obtain", "tls.issuance"):
		return "caddy"
	case has("zerossl"):
		return "zerossl"
	case has("certbot", ":debug:acme.client:", "letsencrypt.log", "the certificate authority reported these problems", "saving debug log to"):
		return "certbot"
	case has(":verify error:", "acme.sh", "le_orderfinalize", "_on_issue_err"):
		return "acme.sh"
	case has("one or more domains had a problem", "] acme: ", "lego"):
		return "lego"
	case has("caa_error", "arn:aws:acm"):
		return "aws-acm"
	case has("failed_caa_checking", "failed_caa_forbidden", "domainstatus", "certificate-manager"):
		return "google-cloud"
	case has("mpic failed", "ssl.com"):
		return "ssl.com"
	case has("urn:ietf:params:acme:error:", "urn:acme:error:"):
		return "acme-problem"
	case has("dns problem:", "prevents issuance", "while processing caa for"):
		return "boulder"
	}
	return "text"
}

// lazyRegexp compiles pattern on first use. The patterns' bounded repeats
// (a name is at most 253 octets) make large programs; compiled at start,
// they cost every caaprobe command tens of milliseconds, though only
// explain reads a message.
func lazyRegexp(pattern string) func() *regexp.Regexp {
	return sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(pattern) })
}
