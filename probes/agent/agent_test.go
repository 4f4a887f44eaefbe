package agent

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/caaprobe/caaprobe/probes/model"
)

func post(t *testing.T, h http.Handler, path, token, body string) (int, Response) {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	var resp Response
	if err := json.Unmarshal(w.Body.Bytes(), &resp); err != nil {
		t.Fatalf("%s: answer is not JSON: %v: %q", path, err, w.Body.String())
	}
	return w.Code, resp
}

// TestRefusals: a wrong or missing token, another protocol version, too
// many domains and a body past the bound are each refused with a clear
// error, before any check runs; a refused client learns nothing of the
// vantage.
func TestRefusals(t *testing.T) {
	h := New(Config{Tokens: []string{"s3cret"}, Vantage: model.Vantage{Label: "r1", RIR: "RIPE"}, Burst: 100, Rate: 100, MaxDomains: 2, MaxRequestBytes: 256})
	tests := []struct {
		name, path, token, body string
		status                  int
		inError                 string
	}{
		{"no token", "/v1/check", "", `{"protocol":1,"domains":["a.test"]}`, 401, "not authorised"},
		{"wrong token", "/v1/check", "s3creT", `{"protocol":1,"domains":["a.test"]}`, 401, "not authorised"},
		{"other version", "/v2/check", "s3cret", `{"protocol":2,"domains":["a.test"]}`, 400, "protocol version 2 is not spoken by this agent (it speaks 1)"},
		{"too many", "/v1/check", "s3cret", `{"protocol":1,"domains":["a.test","b.test","c.test"]}`, 400, "3 domains: want 1 to 2"},
		{"too big", "/v1/check", "s3cret", `{"protocol":1,"domains":["` + strings.Repeat("a", 300) + `"]}`, 413, "limit 256 bytes"},
		{"garbage", "/v1/check", "s3cret", `not json`, 400, "not a check request"},
	}
	for _, tt := range tests {
		code, resp := post(t, h, tt.path, tt.token, tt.body)
		if code != tt.status || !strings.Contains(resp.Error, tt.inError) {
			t.Errorf("%s: %d %q, want %d with %q", tt.name, code, resp.Error, tt.status, tt.inError)
		}
		if code == 401 && resp.Vantage.Label != "" {
			t.Errorf("%s: an unauthorised client is told the vantage %q", tt.name, resp.Vantage.Label)
		}
		if tt.name == "other version" && (len(resp.Supported) != 1 || resp.Supported[0] != 1) {
			t.Errorf("other version: supported %v, want [1]", resp.Supported)
		}
	}
}

// TestRateLimit: past its burst a client is refused with 429.
func TestRateLimit(t *testing.T) {
	h := New(Config{Tokens: []string{"t"}, Vantage: model.Vantage{Label: "r1"}, Rate: 0.001, Burst: 2})
	var codes []int
	for range 3 {
		c, _ := post(t, h, "/v1/check", "x", `{}`)
		codes = append(codes, c)
	}
	if codes[0] != 401 || codes[1] != 401 || codes[2] != 429 {
		t.Errorf("codes %v: want 401 401 429 (the burst of 2 spent, guessing included)", codes)
	}
}

func TestValidate(t *testing.T) {
	if err := Validate(Config{Vantage: model.Vantage{Label: "r1", RIR: "RIPE"}}); err != ErrNoAuth {
		t.Errorf("no auth: %v", err)
	}
	if err := Validate(Config{Tokens: []string{"t"}, Vantage: model.Vantage{Label: "r1", RIR: "EU"}}); err == nil || !strings.Contains(err.Error(), `"EU"`) {
		t.Errorf("bad RIR: %v", err)
	}
}
