package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestCheckOpensNoListeningSocket runs check in a subprocess against the
// lab and, while it waits on a server that drops CAA, reads the kernel's
// view of every socket the process holds: no TCP socket may be listening
// and every UDP socket must be connected to the server it asks (a
// connected socket only receives from that address and port).
func TestCheckOpensNoListeningSocket(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat("/proc/self/net/udp"); err != nil {
		t.Skip("needs Linux /proc")
	}
	lab := startLab(t)
	cmd := exec.Command(caaprobeBin, "check", "--root", lab.Root.String(), "--port", fmt.Sprint(lab.Port),
		"--timeout", "1s", "--retries", "1", "--format", "json", "drop.test", "tc.test")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()

	seen := 0
	deadline := time.After(20 * time.Second)
	for {
		select {
		case <-done:
			if seen == 0 {
				t.Fatal("check ended before any of its sockets could be seen")
			}
			t.Logf("inspected %d sockets", seen)
			return
		case <-deadline:
			t.Fatal("check did not finish in 20 s")
		case <-time.After(50 * time.Millisecond):
		}
		inodes := socketInodes(cmd.Process.Pid)
		for _, table := range []string{"udp", "udp6", "tcp", "tcp6"} {
			for _, s := range readSockets(t, filepath.Join("/proc", fmt.Sprint(cmd.Process.Pid), "net", table)) {
				if !inodes[s.inode] {
					continue
				}
				seen++
				switch {
				case strings.HasPrefix(table, "tcp") && s.state == "0A":
					t.Errorf("check has a listening TCP socket at %s", s.local)
				case strings.HasPrefix(table, "udp") && isZeroAddr(s.remote):
					t.Errorf("check has an unconnected UDP socket at %s: it would accept datagrams from anyone", s.local)
				}
			}
		}
	}
}

type procSocket struct{ local, remote, state, inode string }

// readSockets parses /proc/PID/net/{udp,tcp}[6]: sl local rem st ... inode.
func readSockets(t *testing.T, path string) []procSocket {
	f, err := os.Open(path)
	if err != nil {
		return nil // the process has ended
	}
	defer f.Close()
	var out []procSocket
	sc := bufio.NewScanner(f)
	sc.Scan() // header
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 10 {
			continue
		}
		out = append(out, procSocket{local: fields[1], remote: fields[2], state: fields[3], inode: fields[9]})
	}
	return out
}

// socketInodes lists the socket inodes among the process's open files.
func socketInodes(pid int) map[string]bool {
	dir := filepath.Join("/proc", fmt.Sprint(pid), "fd")
	entries, _ := os.ReadDir(dir)
	out := map[string]bool{}
	for _, e := range entries {
		link, err := os.Readlink(filepath.Join(dir, e.Name()))
		if err == nil && strings.HasPrefix(link, "socket:[") {
			out[strings.TrimSuffix(strings.TrimPrefix(link, "socket:["), "]")] = true
		}
	}
	return out
}

func isZeroAddr(hexAddr string) bool {
	host, port, _ := strings.Cut(hexAddr, ":")
	return strings.Trim(host, "0") == "" && strings.Trim(port, "0") == ""
}
