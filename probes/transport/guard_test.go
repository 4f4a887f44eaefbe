package transport

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// networkCalls are the functions and types that open a socket or send a
// packet, by import path. Any use of one outside this package (and the
// lab) is a query that bypasses the transport: no rate limit, no capture
// of bytes and source address, no fake in tests.
var networkCalls = map[string][]string{
	"net": {"Dial", "DialUDP", "DialTCP", "DialIP", "DialUnix", "DialTimeout", "Dialer",
		"Listen", "ListenUDP", "ListenTCP", "ListenIP", "ListenPacket", "ListenUnix", "ListenUnixgram", "ListenMulticastUDP", "ListenConfig",
		"FileConn", "FilePacketConn", "FileListener", "Resolver", "DefaultResolver",
		"LookupHost", "LookupIP", "LookupAddr", "LookupCNAME", "LookupMX", "LookupNS", "LookupTXT", "LookupSRV", "LookupPort", "LookupNetIP"},
	"github.com/miekg/dns": {"Client", "Exchange", "ExchangeContext", "ExchangeConn", "Dial", "DialTimeout", "DialWithTLS",
		"DialTimeoutWithTLS", "Server", "ListenAndServe", "ListenAndServeTLS", "ActivateAndServe", "Conn"},
	"syscall":               {"Socket", "Connect", "Bind", "Sendto", "Sendmsg", "SendmsgN", "Listen"},
	"golang.org/x/sys/unix": {"Socket", "Connect", "Bind", "Sendto", "Sendmsg", "SendmsgN", "Listen"},
}

// networkUses lists the uses of networkCalls in one parsed file, as
// "file:line: pkg.Name". Imports are matched by path, so a renamed
// import is caught too.
func networkUses(fset *token.FileSet, f *ast.File) []string {
	local := map[string]string{} // local name → import path
	for _, imp := range f.Imports {
		path, _ := strconv.Unquote(imp.Path.Value)
		if _, ok := networkCalls[path]; !ok {
			continue
		}
		name := path[strings.LastIndex(path, "/")+1:]
		if imp.Name != nil {
			name = imp.Name.Name
		}
		local[name] = path
	}
	var out []string
	ast.Inspect(f, func(n ast.Node) bool {
		sel, ok := n.(*ast.SelectorExpr)
		if !ok {
			return true
		}
		id, ok := sel.X.(*ast.Ident)
		if !ok || id.Obj != nil { // a local variable, not a package
			return true
		}
		path, ok := local[id.Name]
		if !ok {
			return true
		}
		for _, name := range networkCalls[path] {
			if sel.Sel.Name == name {
				out = append(out, fset.Position(sel.Pos()).String()+": "+path+"."+name)
			}
		}
		return true
	})
	return out
}

// TestOnlyTransportTouchesTheNetwork scans every non-test Go file of the
// module: only this package may dial or open sockets (and even it never
// listens: replies arrive only on sockets it connected), and only
// probes/listen may listen (serve and agent, loopback unless told), with
// net.ListenConfig and nothing else. The lab (fixtures/) is the other side
// of the wire and is exempt.
func TestOnlyTransportTouchesTheNetwork(t *testing.T) {
	root := filepath.Join("..", "..")
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("module root not found: %v", err)
	}
	fset := token.NewFileSet()
	files, inTransport, inListen := 0, 0, 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if rel != "." && (rel == "fixtures" || strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		files++
		uses := networkUses(fset, f)
		if strings.HasPrefix(rel, "probes/transport/") && !strings.Contains(strings.TrimPrefix(rel, "probes/transport/"), "/") {
			inTransport++
			for _, u := range uses {
				if strings.Contains(u, ".Listen") {
					t.Errorf("%s: the transport never listens", u)
				}
			}
			return nil
		}
		if strings.HasPrefix(rel, "probes/listen/") {
			inListen++
			for _, u := range uses {
				if !strings.HasSuffix(u, ": net.ListenConfig") {
					t.Errorf("%s: probes/listen only listens, with net.ListenConfig", u)
				}
			}
			return nil
		}
		for _, u := range uses {
			t.Errorf("%s: only probes/transport may open sockets (send the query through a transport.Exchanger) and only probes/listen may listen", u)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 100 || inTransport < 3 || inListen < 1 {
		t.Fatalf("only %d files scanned (%d in probes/transport, %d in probes/listen): the scan misses the module", files, inTransport, inListen)
	}
}

// TestNetworkUsesControl: the scanner finds a dial, a renamed import, a
// miekg/dns client and a raw socket, and leaves a local variable that
// shadows nothing alone, so the guard above can fail.
func TestNetworkUsesControl(t *testing.T) {
	src := `package p
import (
	"net"
	mdns "github.com/miekg/dns"
	"syscall"
)
func f() {
	net.DialUDP("udp", nil, nil)
	c := &mdns.Client{}
	syscall.Socket(0, 0, 0)
	var x struct{ Dial func() }
	x.Dial()
	_ = c
}`
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "p.go", src, 0)
	if err != nil {
		t.Fatal(err)
	}
	got := networkUses(fset, f)
	want := []string{"net.DialUDP", "github.com/miekg/dns.Client", "syscall.Socket"}
	if len(got) != len(want) {
		t.Fatalf("found %v, want %v", got, want)
	}
	for i, w := range want {
		if !strings.HasSuffix(got[i], ": "+w) {
			t.Errorf("use %d: %s, want %s", i, got[i], w)
		}
	}
}
