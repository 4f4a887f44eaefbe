package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestParseResolver(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want string
		bad      bool
	}{
		{in: "127.0.1.53", want: "127.0.1.53:53"},
		{in: "127.0.1.53:5353", want: "127.0.1.53:5353"},
		{in: "::1", want: "[::1]:53"},
		{in: "[::1]", want: "[::1]:53"},
		{in: "[fd00:53::53]:5300", want: "[fd00:53::53]:5300"},
		{in: "resolver.example", bad: true},
		{in: "127.0.0.1:0", bad: true},
		{in: "127.0.0.1:99999", bad: true},
	}
	for _, tt := range tests {
		got, err := parseResolver(tt.in)
		if tt.bad {
			if err == nil {
				t.Errorf("parseResolver(%q) = %v, want an error", tt.in, got)
			}
			continue
		}
		if err != nil || got.String() != tt.want {
			t.Errorf("parseResolver(%q) = %v, %v; want %s", tt.in, got, err, tt.want)
		}
	}
}

// TestDurationFlagsPositive: a zero or negative wait is a usage error that
// names the flag, given before anything is sent.
func TestDurationFlagsPositive(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"--timeout", "0s"},
		{"--resolver-timeout", "0s"},
		{"--resolver-timeout", "-1s"},
	} {
		var stderr bytes.Buffer
		argv := append(append([]string{"check", "--root", "127.0.0.1"}, args...), "example.test")
		err := run(context.Background(), argv, nil, &bytes.Buffer{}, &stderr)
		if exitOf(err) != exitUsage || !strings.Contains(err.Error()+stderr.String(), args[0]) {
			t.Errorf("%v: exit %d, %v %q; want a usage error naming %s", args, exitOf(err), err, stderr.String(), args[0])
		}
	}
}
