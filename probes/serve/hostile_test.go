package serve

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"mime/multipart"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/caaprobe/caaprobe/probes/store"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

// TestHostileInput: every parameter with bad input gets the right status
// and a JSON error naming what was wrong; nothing is stored.
func TestHostileInput(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(o *Options) { o.MaxNames = 3; o.MaxBody = 4096 })
	elevenNames, _ := json.Marshal(map[string][]string{"names": {"a.test", "b.test", "c.test", "d.test"}})
	cases := []struct {
		method, path, ctype, body string
		status                    int
		says                      string
	}{
		{"GET", "/api/v1/runs/nope", "", "", 400, "not a run id"},
		{"GET", "/api/v1/runs/" + strings.Repeat("A", 22), "", "", 404, "no such run"},
		{"GET", "/api/v1/runs/%3Cscript%3E", "", "", 400, `\u003cscript\u003e`},
		{"GET", "/api/v1/runs/" + strings.Repeat("A", 23), "", "", 400, "not a run id"},
		{"GET", "/api/v1/runs/" + store.NewID() + "/events", "", "", 404, "no such run"},
		{"GET", "/api/v1/runs/" + strings.Repeat("A", 22) + "?results=yes", "", "", 404, "no such run"},
		{"POST", "/api/v1/runs", "application/json", strings.Repeat("x", 5000), 413, "larger than 4096"},
		{"POST", "/api/v1/runs", "application/json", string(elevenNames), 400, "too many names"},
		{"POST", "/api/v1/runs", "text/plain", "a.test\nb.test\nc.test\nd.test\n", 400, "too many names"},
		{"POST", "/api/v1/runs", "application/json", `{"names":["ok.test","bad..name","x"]}`, 400, "names[1]"},
		{"POST", "/api/v1/runs", "application/json", `{"names":["../../etc/passwd"]}`, 400, "names[0]"},
		{"POST", "/api/v1/runs", "application/json", `{"names":["ok.test"],"ns":["example.com=192.0.2.1"]}`, 400, "unknown field"},
		{"POST", "/api/v1/runs", "application/json", `{"names":[]}`, 400, "no names"},
		{"POST", "/api/v1/runs", "application/json", `[1,2]`, 400, "not {"},
		{"POST", "/api/v1/runs", "text/plain", "ok.test\n192.0.2.1\n", 400, "body:2"},
		{"POST", "/api/v1/runs", "text/plain", "\xff\xfe\x00a", 400, "body"},
		{"POST", "/api/v1/runs", "application/xml", "<names/>", 415, "Content-Type"},
		{"GET", "/api/v1/domains/..%2F..%2Fetc%2Fpasswd/history", "", "", 400, "domain"},
		{"GET", "/api/v1/domains/ok.test/history?limit=0", "", "", 400, "limit"},
		{"GET", "/api/v1/domains/ok.test/history?limit=99999", "", "", 400, "limit"},
		{"GET", "/api/v1/diff?old=x&new=y", "", "", 400, "old="},
		{"GET", "/api/v1/diff?old=" + store.NewID() + "&new=" + store.NewID(), "", "", 404, "no such run"},
		{"GET", "/api/v1/nothing", "", "", 404, "no such endpoint"},
		{"DELETE", "/api/v1/runs", "", "", 404, "no such endpoint"},
	}
	for _, c := range cases {
		r := h.do(t, c.method, c.path, c.ctype, strings.NewReader(c.body))
		if r.status != c.status {
			t.Errorf("%s %s %.40q: %d %s, want %d", c.method, c.path, c.body, r.status, r.body, c.status)
			continue
		}
		var e errorBody
		if err := json.Unmarshal(r.body, &e); err != nil || !strings.Contains(e.Error, c.says) && !strings.Contains(string(r.body), c.says) {
			t.Errorf("%s %s %.40q: %s, want a JSON error saying %q", c.method, c.path, c.body, r.body, c.says)
		}
		if r.header.Get("Content-Type") != "application/json" {
			t.Errorf("%s %s: Content-Type %q", c.method, c.path, r.header.Get("Content-Type"))
		}
	}
	// Pages: bad ids and names are 400 pages that show the input escaped.
	for _, p := range []string{"/r/%3Cscript%3Ealert(1)%3C%2Fscript%3E", "/r/" + store.NewID() + "/evidence.tar.gz", "/d/%3Cscript%3E.test", "/d/..%2F..%2Fetc"} {
		r := h.get(t, p)
		if r.status != 400 && r.status != 404 {
			t.Errorf("%s: %d, want 400 or 404", p, r.status)
		}
		if bytes.Contains(bytes.ToLower(r.body), []byte("<script")) {
			t.Errorf("%s: raw <script in the page:\n%s", p, r.body)
		}
	}
	if n, err := h.st.Count(t.Context()); err != nil || n != 0 {
		t.Errorf("refused submissions stored %d run(s), %v", n, err)
	}
}

// TestServerStringsEscaped: markup.test's server sends markup in its CAA
// value; no page, nor the evidence report, carries it raw.
func TestServerStringsEscaped(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	id := h.submit(t, "markup.test")
	v := h.wait(t, id)
	if !strings.Contains(string(v.Results[0]), `\u003cscript\u003e`) && !strings.Contains(string(v.Results[0]), "<script>") {
		t.Fatalf("the lab did not send the markup: %s", v.Results[0])
	}
	for _, p := range []string{"/r/" + id, "/d/markup.test"} {
		r := h.get(t, p)
		body := strings.ToLower(string(r.body))
		if strings.Contains(body, "<script") || strings.Contains(body, "<img") {
			t.Errorf("%s: raw server markup in the page", p)
		}
		if strings.ContainsAny(body, "\x1b\x07") {
			t.Errorf("%s: a raw control character from the server in the page", p)
		}
	}
	if !strings.Contains(string(v.Results[0]), `\u001b[2J`) {
		t.Errorf("the lab did not send the escape bytes: %.300s", v.Results[0])
	}
	page := h.get(t, "/r/"+id)
	if !strings.Contains(string(page.body), "&lt;script&gt;") {
		t.Errorf("/r/%s does not show the server's value escaped", id)
	}
}

// TestAPISchema validates every endpoint's answers, errors included,
// against docs/serve-api.schema.json, and checks that a wrong answer does
// not validate.
func TestAPISchema(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	compile := schemas(t)
	valid := func(def string, body []byte) {
		t.Helper()
		v, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
		if err != nil {
			t.Fatalf("%s: %v: %s", def, err, body)
		}
		if err := compile(def).Validate(v); err != nil {
			t.Errorf("%s: %v\n%.600s", def, err, body)
		}
	}
	r := h.do(t, "POST", "/api/v1/runs", "text/plain", strings.NewReader("ok.test\nflip.test\n"))
	valid("submitted", r.body)
	var sub struct{ ID string }
	json.Unmarshal(r.body, &sub)
	valid("run", h.get(t, "/api/v1/runs/"+sub.ID).body)
	for _, e := range parseEvents(t, h.get(t, "/api/v1/runs/"+sub.ID+"/events").body) {
		valid("progress", e.data)
	}
	h.wait(t, sub.ID)
	valid("run", h.get(t, "/api/v1/runs/"+sub.ID+"?results=1").body)
	h.lab.flip.Store(true)
	second := h.submit(t, "flip.test", "notimp.test")
	h.wait(t, second)
	valid("history", h.get(t, "/api/v1/domains/flip.test/history").body)
	valid("history", h.get(t, "/api/v1/domains/never.test/history").body)
	valid("diff", h.get(t, "/api/v1/diff?old="+sub.ID+"&new="+second).body)
	valid("error", h.get(t, "/api/v1/runs/bad").body)
	valid("error", h.do(t, "POST", "/api/v1/runs", "text/plain", strings.NewReader("bad..name")).body)
	// The schema can fail: a run answer is not a submission.
	v, _ := jsonschema.UnmarshalJSON(bytes.NewReader(h.get(t, "/api/v1/runs/"+sub.ID+"?results=1").body))
	if compile("submitted").Validate(v) == nil {
		t.Error("a finished run validates as a submission")
	}
}

// schemas compiles the API schema's $defs, with docs/caaprobe.schema.json
// for the results, under their $ids (nothing is fetched).
func schemas(t *testing.T) func(def string) *jsonschema.Schema {
	t.Helper()
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	var apiID string
	for _, file := range []string{"../../docs/serve-api.schema.json", "../../docs/caaprobe.schema.json"} {
		f, err := os.Open(file)
		if err != nil {
			t.Fatal(err)
		}
		doc, err := jsonschema.UnmarshalJSON(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		id, _ := doc.(map[string]any)["$id"].(string)
		if apiID == "" {
			apiID = id
		}
		if err := c.AddResource(id, doc); err != nil {
			t.Fatal(err)
		}
	}
	return func(def string) *jsonschema.Schema {
		s, err := c.Compile(apiID + "#/$defs/" + def)
		if err != nil {
			t.Fatalf("compiling %s: %v", def, err)
		}
		return s
	}
}

// TestCertUpload: the form's certificate file is read as check --cert
// reads it: its DNS names become the run; a file with no certificate is
// refused naming the uploaded file, not a temporary path.
func TestCertUpload(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "ok.test"}, DNSNames: []string{"ok.test", "notimp.test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	post := func(name string, data []byte) response {
		var body bytes.Buffer
		mw := multipart.NewWriter(&body)
		fw, _ := mw.CreateFormFile("cert", name)
		fw.Write(data)
		mw.WriteField("names", "")
		mw.Close()
		return h.do(t, "POST", "/", mw.FormDataContentType(), &body)
	}
	r := post("site.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	if r.status != 303 {
		t.Fatalf("upload: %d %s", r.status, r.body)
	}
	v := h.wait(t, strings.TrimPrefix(r.header.Get("Location"), "/r/"))
	if v.NamesTotal != 2 || v.State != store.StateComplete {
		t.Errorf("run from the certificate: %+v", v)
	}
	bad := post("notes.txt", []byte("not a certificate"))
	if bad.status != 400 || !strings.Contains(string(bad.body), "notes.txt") || strings.Contains(string(bad.body), "caaprobe-serve-cert") {
		t.Errorf("bad upload: %d %s", bad.status, bad.body)
	}
}
