package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestReadTokens: serve's and agent's --token-file and a perspectives
// file's token_file are read alike: one token a line, blank lines and
// comments skipped, surrounding space trimmed, a file others may read or
// one without a token refused with the file named.
func TestReadTokens(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, body string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	got, err := readTokens(write("two", "# rotated in on Monday\n new-token \n\nold-token\r\n", 0o600))
	if err != nil || !slices.Equal(got, []string{"new-token", "old-token"}) {
		t.Errorf("two tokens: got %q, %v", got, err)
	}
	for name, body := range map[string]string{"empty": "", "comments": "# nothing\n\n  \n"} {
		p := write(name, body, 0o600)
		if _, err := readTokens(p); err == nil || !strings.Contains(err.Error(), p) {
			t.Errorf("%s: err %v, want one naming %s", name, err, p)
		}
	}
	open := write("open", "tok\n", 0o644)
	if _, err := readTokens(open); err == nil || !strings.Contains(err.Error(), "readable by others") {
		t.Errorf("world-readable file: err %v", err)
	}
}

// TestPerspectivesOneToken: a primary sends one token, so a token_file
// holding two is a mistake named by its entry, not a silent choice.
func TestPerspectivesOneToken(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tok := filepath.Join(dir, "tok")
	if err := os.WriteFile(tok, []byte("a\nb\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "p.yaml")
	if err := os.WriteFile(conf, []byte("agents:\n  - url: https://a:1\n    label: a\n    rir: ARIN\n    token_file: "+tok+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := loadPerspectives(conf)
	if err == nil || !strings.Contains(err.Error(), "holds 2 tokens") {
		t.Errorf("err %v, want the two-token file refused", err)
	}
}
