package input

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// want is an Item as a test expects it: err is "" for no error, else the
// exact message.
type want struct {
	name, source, err string
	dup               bool
}

func checkItems(t *testing.T, got []Item, wants []want) {
	t.Helper()
	for i := 0; i < len(got) || i < len(wants); i++ {
		switch {
		case i >= len(got):
			t.Errorf("item %d missing, want %+v", i, wants[i])
			continue
		case i >= len(wants):
			t.Errorf("extra item %d: %+v", i, got[i])
			continue
		}
		g, w := got[i], wants[i]
		gerr := ""
		if g.Err != nil {
			gerr = g.Err.Error()
		}
		if g.Name != w.name || g.Source != w.source || gerr != w.err || g.Duplicate != w.dup {
			t.Errorf("item %d = {%q %q %q dup=%v}\n          want {%q %q %q dup=%v}",
				i, g.Name, g.Source, gerr, g.Duplicate, w.name, w.source, w.err, w.dup)
		}
	}
}

func TestAddFile(t *testing.T) {
	t.Parallel()
	long := "a" + strings.Repeat(".a", 2100) // 4201 bytes
	content := "\uFEFFexample.com\r\n" +
		"# a comment line\r\n" +
		"\r\n" +
		"   \t\r\n" +
		"Bücher.example   # trailing comment\r\n" +
		"EXAMPLE.com\r\n" +
		"example.com.\r\n" +
		"exa\x00mple.net\r\n" +
		long + "\r\n" +
		".\r\n" +
		"https://www.example.org/page\r\n" +
		"*.example.com\r\n" +
		"www.*.example.com\r\n" +
		"xn--bcher-kva.example\r\n" +
		"last.example" // no newline at the end
	path := filepath.Join(t.TempDir(), "names.txt")
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	var r Reader
	if err := r.AddFile(path); err != nil {
		t.Fatalf("AddFile: %v", err)
	}
	src := func(n string) string { return path + ":" + n }
	checkItems(t, r.Items(), []want{
		{name: "example.com", source: src("1")},
		{name: "xn--bcher-kva.example", source: src("5")},
		{name: "example.com", source: src("6"), dup: true, err: src("6") + ": duplicate of " + src("1")},
		// The trailing dot is dropped: the same name as line 1.
		{name: "example.com", source: src("7"), dup: true, err: src("7") + ": duplicate of " + src("1")},
		{name: `exa\x00mple.net`, source: src("8"), err: src("8") + `: "exa\x00mple.net": contains control character U+0000`},
		{name: long[:maxShownBytes], source: src("9"), err: src("9") + ": line too long (more than 4096 bytes): not a domain name"},
		{name: ".", source: src("10"), err: src("10") + `: ".": the root "." is not a domain to check`},
		{name: "https://www.example.org/page", source: src("11"), err: src("11") + `: "https://www.example.org/page": is a URL, not a domain name: write "www.example.org"`},
		{name: "*.example.com", source: src("12")},
		{name: "www.*.example.com", source: src("13"), err: src("13") + `: "www.*.example.com": a wildcard '*' is allowed only as the first label, as in *.example.com`},
		{name: "xn--bcher-kva.example", source: src("14"), dup: true, err: src("14") + ": duplicate of " + src("5")},
		{name: "last.example", source: src("15")},
	})
}

func TestAddReaderLineLengthBoundary(t *testing.T) {
	t.Parallel()
	// A line of exactly maxLineBytes is read; one byte more is too long,
	// whatever the line end.
	exact := strings.Repeat("x", maxLineBytes)
	over := strings.Repeat("x", maxLineBytes+1)
	in := exact + "\r\n" + over + "\n" + over + "\r\n" + exact + "\n" + "ok.example\n" + over
	var r Reader
	if err := r.AddReader("t", strings.NewReader(in)); err != nil {
		t.Fatal(err)
	}
	items := r.Items()
	if len(items) != 6 {
		t.Fatalf("got %d items, want 6: %+v", len(items), items)
	}
	for i, wantLong := range []bool{false, true, true, false, false, true} {
		isLong := items[i].Err != nil && strings.Contains(items[i].Err.Error(), "line too long")
		if isLong != wantLong {
			t.Errorf("line %d (%s): too long = %v, want %v (err %v)", i+1, items[i].Source, isLong, wantLong, items[i].Err)
		}
		if want := "t:" + string(rune('1'+i)); items[i].Source != want {
			t.Errorf("item %d source %q, want %q", i, items[i].Source, want)
		}
	}
	if items[4].Name != "ok.example" || items[4].Err != nil {
		t.Errorf("line after long lines: %+v", items[4])
	}
}

func TestAddArgsAndStdin(t *testing.T) {
	t.Parallel()
	r := Reader{Stdin: strings.NewReader("# names\nexample.net\nexample.com\n")}
	r.AddArgs([]string{"example.com", "1.2.3.4"})
	if err := r.AddFile("-"); err != nil {
		t.Fatal(err)
	}
	r.AddArgs([]string{"EXAMPLE.NET"})
	checkItems(t, r.Items(), []want{
		{name: "example.com", source: "arg 1"},
		{name: "1.2.3.4", source: "arg 2", err: `arg 2: "1.2.3.4": is an IP address, not a domain name`},
		{name: "example.net", source: "stdin:2"},
		{name: "example.com", source: "stdin:3", dup: true, err: "stdin:3: duplicate of arg 1"},
		{name: "example.net", source: "arg 3", dup: true, err: "arg 3: duplicate of stdin:2"},
	})
}

func TestAddFileErrors(t *testing.T) {
	t.Parallel()
	var r Reader
	missing := filepath.Join(t.TempDir(), "nope.txt")
	if err := r.AddFile(missing); err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("AddFile(missing) = %v, want an error naming %s", err, missing)
	}
	if err := r.AddFile("-"); err == nil {
		t.Error(`AddFile("-") without Stdin: no error`)
	}
	utf16 := []byte{0xFF, 0xFE, 'a', 0, '.', 0, 'b', 0, '\n', 0}
	if err := r.AddReader("win.txt", strings.NewReader(string(utf16))); err == nil || !strings.Contains(err.Error(), "win.txt: the file is UTF-16") {
		t.Errorf("UTF-16 file: err = %v", err)
	}
	// A read error stops the file but keeps what came before it.
	boom := errors.New("disk on fire")
	err := r.AddReader("broken", &failAfter{data: "a.example\nb.exa", err: boom})
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), "broken") {
		t.Errorf("read error = %v, want it wrapped with the source", err)
	}
	if items := r.Items(); len(items) != 1 || items[0].Name != "a.example" {
		t.Errorf("items after read error: %+v", items)
	}
}

// failAfter returns data, then err instead of io.EOF.
type failAfter struct {
	data string
	err  error
}

func (f *failAfter) Read(p []byte) (int, error) {
	if f.data == "" {
		return 0, f.err
	}
	n := copy(p, f.data)
	f.data = f.data[n:]
	return n, nil
}
