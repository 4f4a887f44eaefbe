package model

import "strings"

// TrimDot writes a name without its final dot, keeping the root as ".".
func TrimDot(s string) string {
	if s == "." {
		return s
	}
	return strings.TrimSuffix(s, ".")
}
