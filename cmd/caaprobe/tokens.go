package main

import (
	"fmt"
	"os"
	"strings"
)

// readTokens reads the bearer tokens of a file, one a line; blank lines
// and # comments are skipped. A file every user may read is refused: a
// token is the only secret between a client and serve or an agent. Every
// token file is read here: serve's and agent's --token-file (each line an
// accepted token, so one can be rotated in before the old one goes) and a
// perspectives file's token_file (the one token the primary sends).
func readTokens(path string) ([]string, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if st.Mode().Perm()&0o004 != 0 {
		return nil, fmt.Errorf("%s is readable by others (mode %v): chmod 600 it", path, st.Mode().Perm())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s holds no token", path)
	}
	return out, nil
}
