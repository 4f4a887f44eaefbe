package caa

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseIssueValue(t *testing.T) {
	t.Parallel()
	cases := []struct {
		value   string
		issuer  string
		params  []param
		wantErr string
	}{
		{value: "letsencrypt.org", issuer: "letsencrypt.org"},
		{value: "LetsEncrypt.ORG", issuer: "LetsEncrypt.ORG"},
		{value: "", issuer: ""},
		{value: ";", issuer: ""},
		{value: " \t; ", issuer: ""},
		{value: "  ca1.example.net  ", issuer: "ca1.example.net"},
		{value: "ca1.example.net;", issuer: "ca1.example.net"},
		{value: "ca1.example.net ; ", issuer: "ca1.example.net"},
		{value: "x--y.example", issuer: "x--y.example"},
		{value: "1.2.3", issuer: "1.2.3"},
		{value: "com", issuer: "com"},
		{value: "ca1.example.net; account=230123", issuer: "ca1.example.net",
			params: []param{{"account", "230123"}}},
		{value: "ca.example;a=1;b=2", issuer: "ca.example",
			params: []param{{"a", "1"}, {"b", "2"}}},
		{value: "ca.example; a = 1 ;\tb=2\t", issuer: "ca.example",
			params: []param{{"a", "1"}, {"b", "2"}}},
		{value: "ca.example; a=", issuer: "ca.example", params: []param{{"a", ""}}},
		{value: "ca.example; a=b=c", issuer: "ca.example", params: []param{{"a", "b=c"}}},
		{value: "ca.example; x-y--z=1", issuer: "ca.example", params: []param{{"x-y--z", "1"}}},
		{value: "; accounturi=https://ca.example/acct/1", issuer: "",
			params: []param{{"accounturi", "https://ca.example/acct/1"}}},
		{value: "ca.example; validationmethods=dns-01,http-01", issuer: "ca.example",
			params: []param{{"validationmethods", "dns-01,http-01"}}},

		{value: "%%%%%", wantErr: `at byte 0: issuer-domain-name must start with a letter or digit, found "%"`},
		{value: "letsencrypt.org.", wantErr: `at byte 16: issuer-domain-name ends with "."`},
		{value: "letsencrypt.org. ; a=b", wantErr: `ends with "."`},
		{value: "ca..example", wantErr: `at byte 3: issuer-domain-name label must start with a letter or digit, found "."`},
		{value: ".ca.example", wantErr: `at byte 0: issuer-domain-name must start`},
		{value: "-ca.example", wantErr: `at byte 0: issuer-domain-name must start`},
		{value: "ca-.example", wantErr: `at byte 2: issuer-domain-name label ends with "-"`},
		{value: "ca.example-", wantErr: `label ends with "-"`},
		{value: "ca_1.example", wantErr: `at byte 2: expected ";" or the end after issuer-domain-name "ca", found "_"`},
		{value: "lets encrypt.org", wantErr: `found "e"`},
		{value: "ca.example a=b", wantErr: `found "a"`},
		{value: "ca.example; a=b;", wantErr: `";" after the last parameter must be followed by another parameter`},
		{value: "ca.example; a=b; ", wantErr: `must be followed by another parameter`},
		{value: "ca.example;;", wantErr: `parameter tag must start with a letter or digit, found ";"`},
		{value: "ca.example; a", wantErr: `expected "=" after parameter tag "a", found the end`},
		{value: "ca.example; =b", wantErr: `parameter tag must start`},
		{value: "ca.example; -a=b", wantErr: `parameter tag must start`},
		{value: "ca.example; a-=b", wantErr: `parameter tag ends with "-"`},
		{value: "ca.example; a_b=c", wantErr: `expected "=" after parameter tag "a", found "_"`},
		{value: "ca.example; a=b c=d", wantErr: `expected ";" between parameters, found "c"`},
		{value: "ca.example; a=b\x00", wantErr: `found "\x00"`},
		{value: "ca.example; a=\xff", wantErr: `found "\xff"`},
		{value: "ca.example\n", wantErr: `found "\n"`},
		{value: "ca.ex\xc3\xa4mple", wantErr: `found "\xc3"`},
	}
	for _, tc := range cases {
		t.Run(tc.value, func(t *testing.T) {
			t.Parallel()
			got, err := parseIssueValue(tc.value)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("parseIssueValue(%q) error = %v, want containing %q", tc.value, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseIssueValue(%q): %v", tc.value, err)
			}
			want := issueValue{issuer: tc.issuer, params: tc.params}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("parseIssueValue(%q) = %+v, want %+v", tc.value, got, want)
			}
		})
	}
}
