package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
)

// errInterrupted ends a source that was still being opened or read when
// the run was interrupted (SIGINT, SIGTERM).
var errInterrupted = errors.New("interrupted")

// openInput opens a names file so that an interrupt ends the wait: a FIFO
// blocks in open(2) until a writer comes (docs/limits.md, Interrupts). A
// regular file is opened at once; anything else is opened in a goroutine,
// which is left behind (and closes what it opens) when ctx ends first.
func openInput(ctx context.Context, path string) (*os.File, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if st.Mode().IsRegular() {
		return os.Open(path)
	}
	type opened struct {
		f   *os.File
		err error
	}
	ch := make(chan opened, 1)
	go func() {
		f, err := os.Open(path)
		ch <- opened{f, err}
	}()
	select {
	case o := <-ch:
		return o.f, o.err
	case <-ctx.Done():
		go func() {
			if o := <-ch; o.f != nil {
				o.f.Close()
			}
		}()
		return nil, fmt.Errorf("opening %s: %w", path, errInterrupted)
	}
}

// interruptible returns r so that a read blocked on it ends when ctx does:
// a pipe, FIFO or terminal may never send another byte (a writer that
// holds it open), and a read(2) cannot be cancelled. A regular file, or a
// reader that is not a file, is returned as it is. Otherwise, from the
// first Read on, r is read by a goroutine into a pipe whose reading end
// fails with errInterrupted once ctx ends (the goroutine is left blocked
// in its read; the process is about to exit).
func interruptible(ctx context.Context, r io.Reader) io.Reader {
	f, ok := r.(*os.File)
	if !ok || f == nil {
		return r
	}
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
		return r
	}
	return &ctxReader{ctx: ctx, f: f}
}

// ctxReader is interruptible's reader: nothing is read from f before the
// first Read, so a terminal nobody asked names from is never touched.
type ctxReader struct {
	ctx  context.Context
	f    *os.File
	once sync.Once
	pr   *io.PipeReader
}

func (c *ctxReader) Read(p []byte) (int, error) {
	c.once.Do(func() {
		pr, pw := io.Pipe()
		c.pr = pr
		stop := context.AfterFunc(c.ctx, func() { pr.CloseWithError(errInterrupted) })
		go func() {
			_, err := io.Copy(pw, c.f)
			stop()
			pw.CloseWithError(err)
		}()
	})
	return c.pr.Read(p)
}
