package main

import (
	"io"
	"os"
	"strconv"

	"golang.org/x/term"
)

// tableWidth is the width the table is laid out for: COLUMNS when set (as
// the shell exports it, or as a user forces it), else the terminal's width
// when stdout is one, else 0: no limit, for files and pipes (the grid
// stays whole, one row a line, for grep).
func tableWidth(stdout io.Writer) int {
	if c := os.Getenv("COLUMNS"); c != "" {
		if n, err := strconv.Atoi(c); err == nil && n > 0 {
			return n
		}
	}
	if f, ok := stdout.(*os.File); ok {
		if w, _, err := term.GetSize(int(f.Fd())); err == nil && w > 0 {
			return w
		}
	}
	return 0
}
