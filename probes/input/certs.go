package input

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// maxCertFileBytes bounds what is read of one file while looking for
// certificates. The largest real certificate files are CA bundles of a few
// hundred KiB; a directory walk also meets files that are not certificates
// at all, and those must not be read whole.
const maxCertFileBytes = 4 << 20

const pemCertMarker = "-----BEGIN CERTIFICATE-----"

// AddCerts adds the DNS names (subjectAltName dNSName entries) of the leaf
// certificates in a file or, for a directory, in every file under it.
//
// A directory is walked recursively and symbolic links are followed, both to
// files and to directories, because certbot's /etc/letsencrypt/live/<name>/
// holds only links into ../../archive/; a directory reached twice (a link
// cycle, or live/ and archive/ both under the root) is read once. In a walk
// every regular file is looked at: one with PEM CERTIFICATE blocks, or a
// .crt/.cer/.der file in DER form, is a certificate file; others (private
// keys, CSRs, certbot's renewal configs, READMEs) are passed over quietly.
//
// Only leaf certificates count: CA certificates (basicConstraints CA:TRUE)
// in chain and fullchain files are not the user's names. A certificate found
// in several files (cert.pem and fullchain.pem hold the same leaf) is read
// once, and a name already in the input is not added again: overlapping
// certificates are normal (renewals in archive/, one name on several certs)
// and are not the user's mistake, unlike a repeat in a hand-written list.
//
// Each name is an Item with Source "path (SAN n)", n counting the DNS names
// of the file's leaf certificates from 1. A certificate file that cannot be
// used (unreadable, broken PEM, unparsable certificate, or a file named on
// the command line that holds no leaf certificate) becomes an Item with Err
// and Source set to its path, and the walk goes on. The returned error is
// only for a path that does not exist or cannot be examined at all.
func (r *Reader) AddCerts(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("reading certificates: %w", err)
	}
	r.certStats = CertStats{}
	w := certWalk{r: r, certs: map[[sha256.Size]byte]bool{}, dirs: map[string]bool{}, now: time.Now()}
	if fi.IsDir() {
		w.dir(path)
		return nil
	}
	w.file(path, true)
	return nil
}

// certWalk is the state of one AddCerts call.
type certWalk struct {
	r *Reader
	// certs holds the SHA-256 of each certificate's DER already read.
	certs map[[sha256.Size]byte]bool
	// dirs holds the resolved paths of directories already walked.
	dirs map[string]bool
	now  time.Time
}

// CertStats counts what the last AddCerts call read and passed over, so
// the command can say why a directory gave fewer names than certificates.
type CertStats struct {
	Leaves   int // leaf certificates whose names were used
	CA       int // CA certificates (chain, fullchain): not the user's names
	NoNames  int // leaf certificates with no DNS name (IP or e-mail only)
	Copies   int // the same certificate again (cert.pem and fullchain.pem)
	Expired  int // leaves past notAfter: their names are still checked
	Files    int // files that held certificates
	Unusable int // certificate files that could not be used (reported as errors)
	// Special counts files in a directory that are not regular files nor
	// directories (FIFOs, sockets, devices): not read. SpecialFiles names
	// the first maxSpecialNamed of them, with their kind.
	Special      int
	SpecialFiles []string
}

// maxSpecialNamed bounds the special files CertStats names.
const maxSpecialNamed = 10

// specialKind names the kind of a file that is not regular.
func specialKind(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "FIFO"
	case m&fs.ModeSocket != 0:
		return "socket"
	case m&fs.ModeDevice != 0:
		return "device"
	}
	return "not a regular file"
}

// CertStats returns the counts of the last AddCerts call.
func (r *Reader) CertStats() CertStats { return r.certStats }

// String says it in one line: "5 certificates used; skipped 6 CA
// certificates, 3 copies; 2 expired (their names are checked anyway)".
func (s CertStats) String() string {
	out := fmt.Sprintf("%d leaf certificate(s) used from %d file(s)", s.Leaves, s.Files)
	var skipped []string
	if s.CA > 0 {
		skipped = append(skipped, fmt.Sprintf("%d CA certificate(s)", s.CA))
	}
	if s.NoNames > 0 {
		skipped = append(skipped, fmt.Sprintf("%d without DNS names", s.NoNames))
	}
	if s.Copies > 0 {
		skipped = append(skipped, fmt.Sprintf("%d copies of a certificate already read", s.Copies))
	}
	if s.Unusable > 0 {
		skipped = append(skipped, fmt.Sprintf("%d unusable file(s), listed as errors", s.Unusable))
	}
	if s.Special > 0 {
		named := strings.Join(s.SpecialFiles, ", ")
		if s.Special > len(s.SpecialFiles) {
			named += fmt.Sprintf(" and %d more", s.Special-len(s.SpecialFiles))
		}
		skipped = append(skipped, fmt.Sprintf("%d file(s) that are not regular files, not read: %s", s.Special, named))
	}
	if len(skipped) > 0 {
		out += "; skipped " + strings.Join(skipped, ", ")
	}
	if s.Expired > 0 {
		out += fmt.Sprintf("; %d used certificate(s) expired (their names are checked anyway)", s.Expired)
	}
	return out
}

func (w *certWalk) dir(path string) {
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		w.fail(path, err)
		return
	}
	if w.dirs[real] {
		return
	}
	w.dirs[real] = true
	entries, err := os.ReadDir(path)
	if err != nil {
		w.fail(path, err)
	}
	// os.ReadDir sorts by name, so the report's order is stable from run
	// to run. Entries read before an error are still walked.
	for _, e := range entries {
		if w.r.stopped {
			return
		}
		p := filepath.Join(path, e.Name())
		fi, err := os.Stat(p)
		switch {
		case err != nil && e.Type()&fs.ModeSymlink != 0 && errors.Is(err, fs.ErrNotExist):
			w.fail(p, errors.New("broken symbolic link"))
		case err != nil:
			w.fail(p, err)
		case fi.IsDir():
			w.dir(p)
		case fi.Mode().IsRegular():
			w.file(p, false)
		default:
			// A FIFO, socket or device is not read (a FIFO would wait for
			// a writer), but it is said: CertStats names it.
			w.r.certStats.Special++
			if len(w.r.certStats.SpecialFiles) < maxSpecialNamed {
				w.r.certStats.SpecialFiles = append(w.r.certStats.SpecialFiles, p+" ("+specialKind(fi.Mode())+")")
			}
		}
	}
}

// file reads one file. named is true when the user gave this file itself,
// so finding no certificate in it is an error rather than a skip.
func (w *certWalk) file(path string, named bool) {
	data, err := readAtMost(path, maxCertFileBytes)
	if err != nil {
		if named || certExtension(path) {
			w.fail(path, err)
		}
		return
	}
	w.data(path, data, named)
}

// data finds the leaf certificates in one file's contents and adds their
// names. It is separate from file so that fuzzing can drive it without disk.
func (w *certWalk) data(path string, data []byte, named bool) {
	certs, err := parseCerts(data)
	if err != nil {
		w.fail(path, err)
	}
	if len(certs) == 0 {
		switch {
		case err != nil:
			// Already reported: broken certificate blocks.
		case named:
			w.fail(path, errors.New("no certificate found (expected PEM CERTIFICATE blocks or DER)"))
		case certExtension(path) || (strings.EqualFold(filepath.Ext(path), ".pem") && !bytes.Contains(data, []byte("-----BEGIN "))):
			w.fail(path, errors.New("no certificate found: neither PEM nor DER"))
		}
		return
	}
	san, leaves := 0, 0
	w.r.certStats.Files++
	for _, c := range certs {
		if c.BasicConstraintsValid && c.IsCA {
			w.r.certStats.CA++
			continue
		}
		leaves++
		sum := sha256.Sum256(c.Raw)
		if w.certs[sum] {
			// Count its names anyway so "SAN n" means the same in every
			// file that holds this certificate.
			san += len(c.DNSNames)
			w.r.certStats.Copies++
			continue
		}
		w.certs[sum] = true
		if len(c.DNSNames) == 0 {
			w.r.certStats.NoNames++
			continue
		}
		w.r.certStats.Leaves++
		if w.now.After(c.NotAfter) {
			w.r.certStats.Expired++
		}
		for _, dnsName := range c.DNSNames {
			san++
			w.r.addCertName(dnsName, fmt.Sprintf("%s (SAN %d)", path, san))
		}
	}
	if leaves == 0 && named {
		w.fail(path, errors.New("only CA certificates, no leaf certificate"))
	}
}

func (w *certWalk) fail(path string, err error) {
	w.r.certStats.Unusable++
	w.r.addBad(path, path, fmt.Errorf("certificates: %w", unwrapPath(err)))
}

// unwrapPath drops the path from an *fs.PathError, since Item.Err already
// starts with it.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %w", pe.Op, pe.Err)
	}
	return err
}

// addCertName adds a name from a certificate unless the input has it
// already (see AddCerts for why that is not a duplicate error).
func (r *Reader) addCertName(raw, source string) {
	name, err := Normalise(raw)
	if err != nil {
		r.addBad(raw, source, err)
		return
	}
	if _, ok := r.seen(name); ok {
		return
	}
	r.addGood(name, source)
}

// parseCerts returns the certificates in PEM or, when there is no PEM block
// at all, DER data. The error reports certificate blocks that were present
// but unusable; certificates that did parse are returned with it.
func parseCerts(data []byte) ([]*x509.Certificate, error) {
	var certs []*x509.Certificate
	var errs []error
	blocks, certBlocks := 0, 0
	for rest := data; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		blocks++
		if b.Type != "CERTIFICATE" {
			continue
		}
		certBlocks++
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			errs = append(errs, fmt.Errorf("certificate block %d: %w", certBlocks, err))
			continue
		}
		certs = append(certs, c)
	}
	// pem.Decode skips a block it cannot decode (bad base64, a missing END
	// line) without a word; counting the BEGIN lines makes that visible.
	if markers := bytes.Count(data, []byte(pemCertMarker)); markers > certBlocks {
		errs = append(errs, fmt.Errorf("%d of %d CERTIFICATE blocks are not valid PEM", markers-certBlocks, markers))
	}
	if blocks == 0 && len(data) > 0 {
		if der, err := x509.ParseCertificates(data); err == nil {
			certs = der
		}
	}
	return certs, errors.Join(errs...)
}

// certExtension reports whether a file's name says it holds certificates,
// so that failing to find one is worth reporting even in a walk.
func certExtension(path string) bool {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".crt", ".cer", ".der":
		return true
	}
	return false
}

func readAtMost(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("larger than %d MiB: not a certificate file", limit>>20)
	}
	return data, nil
}
