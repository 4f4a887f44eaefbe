package explain

import (
	"bytes"
	"encoding/json"
	"sort"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"
)

type parser struct {
	res      *Result
	problems []Problem
	// docNames are names the message gives outside any problem (certbot's
	// "Requesting a certificate for", an Order's dnsNames).
	docNames []string
	types    []string // ACME problem types seen
	// remoteHint: a remote perspective was named next to CAA, with no
	// problem text found.
	remoteHint bool
	nodes      int // JSON/YAML nodes walked, bounded
}

// maxNodes bounds the JSON or YAML nodes walked.
const maxNodes = 200000

func (p *parser) add(pr Problem) {
	if len(p.problems) >= MaxProblems {
		p.res.Truncated = true
		return
	}
	p.problems = append(p.problems, pr)
}

func (p *parser) sawType(t string) {
	for _, x := range p.types {
		if x == t {
			return
		}
	}
	if len(p.types) < 16 {
		p.types = append(p.types, t)
	}
}

func (p *parser) docName(n string) {
	n = cleanName(n)
	if !looksLikeName(n) || len(p.docNames) >= MaxNames {
		return
	}
	p.docNames = appendName(p.docNames, n)
}

// parseJSON reads a message that is one JSON document (an ACME problem,
// an Order or Challenge from kubectl -o json, aws acm describe-certificate).
func (p *parser) parseJSON(text, format string) bool {
	t := strings.TrimSpace(text)
	if !strings.HasPrefix(t, "{") && !strings.HasPrefix(t, "[") {
		return false
	}
	return p.parseJSONValue(t)
}

func (p *parser) parseJSONValue(t string) bool {
	dec := json.NewDecoder(strings.NewReader(t))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return false
	}
	if dec.More() {
		// JSON Lines: let the line reader take them one at a time.
		return false
	}
	p.walk(v, nil, "", 0)
	return true
}

var reYAMLDoc = lazyRegexp(`(?m)^(apiVersion|kind|status|spec|metadata|managed|items|Certificate):`)

// parseYAML reads kubectl get -o yaml (cert-manager's Order, Challenge,
// Certificate, CertificateRequest) and gcloud's describe output.
func (p *parser) parseYAML(text string) bool {
	if !reYAMLDoc().MatchString(text) {
		return false
	}
	dec := yaml.NewDecoder(bytes.NewReader([]byte(text)))
	read := false
	for range 64 {
		var v any
		if err := dec.Decode(&v); err != nil {
			break
		}
		if _, ok := v.(map[string]any); !ok {
			continue
		}
		read = true
		p.walk(v, nil, "", 0)
	}
	return read
}

// nameKeys are the keys whose values are certificate names, in ACME
// problems (identifier.value), cert-manager (dnsNames, commonName,
// dnsName, identifier), Caddy (identifier), AWS ACM (DomainName,
// SubjectAlternativeNames) and Google Cloud (domains, domain).
var nameKeys = map[string]bool{
	"identifier": true, "identifiers": true, "dnsnames": true, "dnsname": true, "commonname": true,
	"domain": true, "domains": true, "domainname": true, "subjectalternativenames": true, "names": true,
}

// namesIn collects the certificate names of a JSON or YAML subtree.
func (p *parser) namesIn(v any, key string, depth int, out *[]string) {
	if depth > 8 || len(*out) >= MaxNames {
		return
	}
	p.nodes++
	if p.nodes > maxNodes {
		return
	}
	switch x := v.(type) {
	case map[string]any:
		keys := sortedKeys(x)
		for _, k := range keys {
			lk := strings.ToLower(k)
			if lk == "identifier" || lk == "rejectedidentifier" {
				if m, ok := x[k].(map[string]any); ok {
					if s, ok := m["value"].(string); ok && looksLikeName(cleanName(s)) {
						*out = appendName(*out, cleanName(s))
					}
					continue
				}
			}
			if lk == "domainstatus" {
				if m, ok := x[k].(map[string]any); ok {
					for _, n := range sortedKeys(m) {
						if looksLikeName(cleanName(n)) {
							*out = appendName(*out, cleanName(n))
						}
					}
				}
				continue
			}
			p.namesIn(x[k], lk, depth+1, out)
		}
	case []any:
		for _, e := range x {
			p.namesIn(e, key, depth+1, out)
		}
	case string:
		if nameKeys[key] && looksLikeName(cleanName(x)) && strings.Contains(x, ".") {
			*out = appendName(*out, cleanName(x))
		}
	}
}

// walk finds problems in a JSON or YAML value. names are those of the
// enclosing object; an object with names of its own (an ACME subproblem's
// identifier, a Challenge's dnsName) uses those.
func (p *parser) walk(v any, names []string, key string, depth int) {
	if depth > 32 {
		return
	}
	p.nodes++
	if p.nodes > maxNodes {
		p.res.Truncated = true
		return
	}
	switch x := v.(type) {
	case map[string]any:
		var local []string
		p.namesIn(x, key, 0, &local)
		if len(local) > 0 {
			names = local
			if depth <= 1 {
				for _, n := range local {
					p.docName(n)
				}
			}
		}
		acmeType := ""
		if t, ok := x["type"].(string); ok && reACMEType.match(fold(t)) {
			acmeType = t
			p.sawType(t)
		}
		before := len(p.problems)
		for _, k := range sortedKeys(x) {
			lk := strings.ToLower(k)
			if lk == "domainstatus" {
				if m, ok := x[k].(map[string]any); ok {
					for _, n := range sortedKeys(m) {
						if s, ok := m[n].(string); ok {
							p.scan(fold(s), []string{cleanName(n)})
						}
					}
					continue
				}
			}
			if lk == "subproblems" {
				continue // after the problem's own detail
			}
			p.walk(x[k], names, lk, depth+1)
		}
		if acmeType != "" {
			for i := before; i < len(p.problems); i++ {
				if p.problems[i].Type == "" {
					p.problems[i].Type = acmeType
				}
			}
			if len(p.problems) == before {
				// A problem document whose detail is not one of the
				// known texts: the type alone says something.
				detail, _ := x["detail"].(string)
				p.fromType(acmeType, detail, names)
			}
		}
		if sub, ok := x["subproblems"]; ok {
			p.walk(sub, names, "subproblems", depth+1)
		}
	case []any:
		for _, e := range x {
			p.walk(e, names, key, depth+1)
		}
	case string:
		p.scan(fold(x), names)
	}
}

// fromType makes a problem from an ACME problem type when the detail is
// none of the known texts (another CA's ACME server).
func (p *parser) fromType(t, detail string, names []string) {
	kind := ""
	switch {
	case strings.HasSuffix(t, ":caa"):
		kind = string(KindPolicy)
	case strings.HasSuffix(t, ":dns"):
		kind = string(KindUnknown)
	default:
		return
	}
	if kind == string(KindUnknown) && !strings.Contains(strings.ToLower(detail), "caa") {
		return // a DNS problem about another record type
	}
	pr := Problem{Type: t, Detail: bound(detail), Names: append([]string(nil), names...), Kind: Kind(kind), Perspective: PerspectiveUnknown}
	if reSecondary.match(fold(detail)) {
		pr.Perspective = PerspectiveRemote
	}
	p.add(pr)
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// finish merges repeats, fills in the names, the classification and the
// words, and the list of names to check.
func (p *parser) finish(text, format string) {
	res := p.res
	res.Format = format
	if len(p.problems) == 0 {
		p.fallback(text, format)
	}
	// The CA named anywhere in the message, read once: it lowercases up
	// to the whole message, and there can be MaxProblems problems.
	messageCA := sync.OnceValue(func() string { return caOf(text) })
	var out []Problem
	for _, pr := range p.problems {
		if pr.Source == "" {
			pr.Source = format
		}
		if pr.Source == "text" {
			pr.Source = "boulder"
		}
		if len(pr.Names) == 0 {
			pr.Names = namesUnder(p.docNames, pr.Lookup)
		}
		if pr.Type == "" && len(p.types) == 1 {
			pr.Type = p.types[0]
		}
		if pr.Perspective == "" {
			pr.Perspective = PerspectiveUnknown
		}
		if pr.CA == "" || pr.CA == "letsencrypt.org" {
			if ca := messageCA(); ca != "" {
				pr.CA = ca
			}
		}
		classify(&pr)
		merged := false
		for i := range out {
			if same(out[i], pr) {
				for _, n := range pr.Names {
					out[i].Names = appendName(out[i].Names, n)
				}
				if out[i].Type == "" {
					out[i].Type = pr.Type
				}
				merged = true
				break
			}
		}
		if !merged {
			out = append(out, pr)
		}
	}
	for i := range out {
		out[i].Climb = climb(&out[i])
		out[i].Meaning = meaning(&out[i])
	}
	res.Problems = out
	if len(out) > 0 {
		res.Format = out[0].Source
	}
	add := func(n string) {
		if n == "" || !looksLikeName(n) {
			return
		}
		if len(res.Names) >= MaxNames {
			res.Truncated = true
			return
		}
		res.Names = appendName(res.Names, n)
	}
	for _, pr := range out {
		for _, n := range pr.Names {
			add(n)
		}
	}
	for _, pr := range out {
		covered := false
		for _, n := range pr.Names {
			if under(strings.TrimPrefix(n, "*."), pr.Lookup) {
				covered = true
			}
		}
		if !covered {
			add(pr.Lookup)
		}
	}
	if len(out) == 0 {
		for _, n := range p.docNames {
			add(n)
		}
	}
	if res.Problems == nil {
		res.Problems = []Problem{}
	}
	if res.Names == nil {
		res.Names = []string{}
	}
}

// fallback makes one problem from the messages that carry no detail:
// an ACME problem type alone, ZeroSSL's "invalid".
func (p *parser) fallback(text, format string) {
	for _, t := range p.types {
		p.fromType(t, "", p.docNames)
		if len(p.problems) > 0 {
			return
		}
	}
	l := strings.ToLower(text)
	if strings.Contains(l, "zerossl") && reZeroInv().MatchString(l) {
		p.add(Problem{Source: "zerossl", CA: "sectigo.com", Detail: "invalid", Error: "invalid", Names: append([]string(nil), p.docNames...),
			Kind: KindUnknown, Perspective: PerspectiveUnknown})
		return
	}
	if p.remoteHint {
		p.add(Problem{Detail: "", Names: append([]string(nil), p.docNames...), Kind: KindUnknown, Perspective: PerspectiveRemote})
	}
}

func same(a, b Problem) bool {
	return a.Kind == b.Kind && a.Lookup == b.Lookup && strings.EqualFold(a.Error, b.Error) && a.Perspective == b.Perspective &&
		(a.Lookup != "" || a.Detail == b.Detail || len(a.Names) == 0 || len(b.Names) == 0 || a.Names[0] == b.Names[0])
}

// under says whether name is lookup or below it.
func under(name, lookup string) bool {
	return lookup != "" && (name == lookup || strings.HasSuffix(name, "."+lookup))
}

// namesUnder are the names of list at or below lookup (all of them when
// lookup is "").
func namesUnder(list []string, lookup string) []string {
	var out []string
	for _, n := range list {
		if lookup == "" || under(strings.TrimPrefix(n, "*."), lookup) {
			out = append(out, n)
		}
	}
	return out
}

// caOf names the CA from the message's endpoints and names.
func caOf(text string) string {
	l := strings.ToLower(text)
	if len(l) > 256<<10 {
		l = l[:256<<10]
	}
	switch {
	case strings.Contains(l, "api.letsencrypt.org"), strings.Contains(l, "let's encrypt"), strings.Contains(l, "letsencrypt.org"):
		return "letsencrypt.org"
	case strings.Contains(l, "acme.zerossl.com"), strings.Contains(l, "zerossl"):
		return "sectigo.com"
	case strings.Contains(l, "pki.goog"):
		return "pki.goog"
	case strings.Contains(l, "api.buypass.com"):
		return "buypass.com"
	}
	return ""
}
