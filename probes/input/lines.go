package input

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// maxLineBytes bounds one line of a name list. A name is at most 253 octets
// and a U-label spelling a few times that; anything near this is not a name,
// and the bound keeps a file with no newlines (a binary, a minified blob)
// from being read into memory as one line.
const maxLineBytes = 4096

// AddReader adds the names in a list read from rd, reporting lines as
// "name:N" (N counts from 1 and includes blank and comment lines, so it
// matches an editor's line numbers).
//
// Syntax: one name per line; '#' starts a comment, on its own line or after
// the name; surrounding whitespace is ignored; blank lines are skipped; CRLF
// line ends and a leading UTF-8 byte order mark are accepted, since lists
// are often exported from spreadsheets on Windows. Every other line yields
// an Item, with Err if the line is unusable (see Normalise) or longer than
// 4096 bytes.
//
// The list is read a line at a time; a Reader made by Stream keeps no name
// (but the dedupe window), so the memory does not grow with the list. The
// returned error is for a read failure or a file that is not UTF-8 text at
// all; items read before it are kept.
func (r *Reader) AddReader(name string, rd io.Reader) error {
	br := bufio.NewReaderSize(rd, maxLineBytes+2) // +2: room for "\r\n"
	if err := checkEncoding(name, br); err != nil {
		return err
	}
	for n := 1; !r.stopped; n++ {
		line, tooLong, err := readLine(br)
		if err != nil && !errors.Is(err, io.EOF) {
			// A line cut by a failing read is not what the user wrote.
			return fmt.Errorf("reading names from %s at line %d: %w", name, n, err)
		}
		if n == 1 {
			line = bytes.TrimPrefix(line, []byte("\uFEFF"))
		}
		if len(line) > 0 || tooLong {
			r.addLine(line, tooLong, name+":"+strconv.Itoa(n))
		}
		if err != nil {
			return nil
		}
	}
	return nil
}

// checkEncoding catches UTF-16 lists up front (the default "Unicode" of some
// Windows editors): read as UTF-8 every line would be a separate error about
// NUL bytes, which hides the one thing to fix.
func checkEncoding(name string, br *bufio.Reader) error {
	head, _ := br.Peek(2)
	if bytes.Equal(head, []byte{0xFF, 0xFE}) || bytes.Equal(head, []byte{0xFE, 0xFF}) {
		return fmt.Errorf("reading names from %s: the file is UTF-16 (byte order mark % X); save it as UTF-8", name, head)
	}
	return nil
}

// readLine returns the next line without its line end. A line longer than
// maxLineBytes is skipped up to its newline and reported as tooLong, with
// its first bytes as line so the report can show what it was. err is io.EOF
// after the last line, which may come with that line's bytes when the file
// does not end in a newline.
func readLine(br *bufio.Reader) (line []byte, tooLong bool, err error) {
	chunk, err := br.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		// Keep only a printable prefix; the rest is discarded as it streams.
		line = append([]byte(nil), chunk[:maxShownBytes]...)
		for errors.Is(err, bufio.ErrBufferFull) {
			_, err = br.ReadSlice('\n')
		}
		return line, true, err
	}
	line = bytes.TrimSuffix(chunk, []byte("\n"))
	line = bytes.TrimSuffix(line, []byte("\r"))
	if len(line) > maxLineBytes {
		return line[:maxShownBytes], true, err
	}
	return line, false, err
}

// addLine turns one line into an Item, or nothing for a blank or comment
// line.
func (r *Reader) addLine(line []byte, tooLong bool, source string) {
	if tooLong {
		r.addBad(string(line), source, fmt.Errorf("line too long (more than %d bytes): not a domain name", maxLineBytes))
		return
	}
	if i := bytes.IndexByte(line, '#'); i >= 0 {
		line = line[:i]
	}
	text := string(bytes.TrimSpace(line))
	if text == "" {
		return
	}
	r.addListed(text, source)
}
