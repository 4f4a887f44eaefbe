package guard

import (
	"fmt"
	"net/http/httptest"
	"testing"
)

func TestLimitersPerClientAndBounded(t *testing.T) {
	l := NewLimiters(0.001, 2)
	a := httptest.NewRequest("GET", "/", nil)
	a.RemoteAddr = "192.0.2.1:1000"
	b := httptest.NewRequest("GET", "/", nil)
	b.RemoteAddr = "192.0.2.2:1000"
	for i, want := range []bool{true, true, false} {
		if got := l.Allow(a); got != want {
			t.Errorf("client a, request %d: allowed %v, want %v (a burst of 2)", i+1, got, want)
		}
	}
	a.RemoteAddr = "192.0.2.1:2000" // another port, the same client
	if l.Allow(a) {
		t.Error("a new source port gave a fresh bucket")
	}
	if !l.Allow(b) {
		t.Error("client b limited by a's bucket")
	}
	for i := range MaxClients + 10 {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = fmt.Sprintf("10.%d.%d.%d:1", i>>16&255, i>>8&255, i&255)
		l.Allow(r)
	}
	if n := len(l.m); n > MaxClients {
		t.Errorf("%d limiters kept, bound %d", n, MaxClients)
	}
}

func TestBearer(t *testing.T) {
	for _, tc := range []struct {
		header string
		tokens []string
		want   bool
	}{
		{"Bearer s3cret", []string{"s3cret"}, true},
		{"Bearer s3cret", []string{"other", "s3cret"}, true},
		{"Bearer s3cre", []string{"s3cret"}, false},
		{"Bearer ", []string{""}, false},
		{"Basic s3cret", []string{"s3cret"}, false},
		{"", []string{"s3cret"}, false},
		{"Bearer s3cret", nil, false},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		if tc.header != "" {
			r.Header.Set("Authorization", tc.header)
		}
		if got := Bearer(r, tc.tokens); got != tc.want {
			t.Errorf("Bearer(%q, %q) = %v, want %v", tc.header, tc.tokens, got, tc.want)
		}
	}
}
