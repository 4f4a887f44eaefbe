package serve

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"path"
	"strings"

	"github.com/caaprobe/caaprobe/probes/evidence"
	"github.com/caaprobe/caaprobe/probes/model"
	htmlreport "github.com/caaprobe/caaprobe/probes/render/html"
	"github.com/caaprobe/caaprobe/probes/report"
	"github.com/caaprobe/caaprobe/probes/runs"
	"github.com/caaprobe/caaprobe/probes/store"
)

// Every string on these pages goes through html/template (servers' and
// clients' strings are hostile input), after report.CleanText for the
// control characters html/template lets through.

//go:embed pages.html.tmpl
var pageFS embed.FS

var pages = template.Must(template.New("").Funcs(template.FuncMap{
	"clean": report.CleanText,
	"pageHead": func(title string, refresh int) any {
		return struct {
			Title   string
			Refresh int
		}{title, refresh}
	},
}).ParseFS(pageFS, "pages.html.tmpl"))

// refreshSeconds is how often a running run's page reloads itself.
const refreshSeconds = 2

func (s *Server) render(w http.ResponseWriter, status int, name string, v any) {
	var b bytes.Buffer
	if err := pages.ExecuteTemplate(&b, name, v); err != nil {
		http.Error(w, "rendering the page: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(b.Bytes())
}

// pageError answers a page request with an HTML error page.
func (s *Server) pageError(w http.ResponseWriter, status int, msg string) {
	if status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", s.retryAfter())
	}
	s.render(w, status, "error", struct {
		Status int
		Title  string
		Msg    string
	}{status, http.StatusText(status), msg})
}

type formView struct {
	Names    string
	Error    string
	MaxNames int
	Closed   bool // a token guards submissions: the API only
}

func (s *Server) pageForm(w http.ResponseWriter, r *http.Request) {
	v := formView{Names: strings.Join(s.o.Suggest, "\n"), MaxNames: s.o.MaxNames, Closed: len(s.o.Tokens) > 0}
	if again := r.URL.Query().Get("again"); again != "" && store.ValidID(again) {
		if run, err := s.o.Store.Run(r.Context(), again); err == nil {
			v.Names = strings.Join(namesOf(run.Options), "\n")
		}
	}
	s.render(w, http.StatusOK, "form", v)
}

// pageSubmit takes the form: names in the textarea, or a certificate file.
func (s *Server) pageSubmit(w http.ResponseWriter, r *http.Request) {
	if len(s.o.Tokens) > 0 {
		s.pageError(w, http.StatusForbidden, "this server takes submissions through its API only (it has a bearer token)")
		return
	}
	if !s.subLim.Allow(r) {
		s.pageError(w, http.StatusTooManyRequests, "too many submissions from this client: wait a moment")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, s.o.MaxBody)
	var names []string
	var err error
	text := ""
	if err = r.ParseMultipartForm(s.o.MaxBody); err != nil && !errors.Is(err, http.ErrNotMultipart) {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			s.pageError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("the form is larger than %d bytes", tooBig.Limit))
			return
		}
		s.pageError(w, http.StatusBadRequest, "reading the form: "+err.Error())
		return
	}
	if errors.Is(err, http.ErrNotMultipart) {
		if err := r.ParseForm(); err != nil {
			s.pageError(w, http.StatusBadRequest, "reading the form: "+err.Error())
			return
		}
	}
	text = r.PostFormValue("names")
	if f, hdr, ferr := r.FormFile("cert"); ferr == nil {
		defer f.Close()
		names, err = s.fromCert(f, "uploaded "+report.CleanText(path.Base(hdr.Filename)))
	} else {
		names, err = s.fromText("form", text)
	}
	if r.MultipartForm != nil {
		defer r.MultipartForm.RemoveAll()
	}
	var bad *badInput
	if errors.As(err, &bad) {
		s.render(w, http.StatusBadRequest, "form", formView{Names: text, Error: bad.msg, MaxNames: s.o.MaxNames})
		return
	}
	if err != nil {
		s.pageError(w, http.StatusInternalServerError, err.Error())
		return
	}
	run, err := s.submit(r.Context(), names, "form")
	switch {
	case errors.Is(err, errQueueFull):
		s.pageError(w, http.StatusTooManyRequests, "the queue is full: try again in a moment")
		return
	case errors.Is(err, errClosed):
		s.pageError(w, http.StatusServiceUnavailable, err.Error())
		return
	case err != nil:
		s.pageError(w, http.StatusInternalServerError, err.Error())
		return
	}
	http.Redirect(w, r, "/r/"+run.ID, http.StatusSeeOther)
}

type progressView struct {
	Run     store.Run
	Refresh int
}

// pageRun shows a run's progress while it runs (reloading itself, so no
// script is needed and no request outlives a few seconds) and the report,
// by the renderer of check --format html, once it is finished.
func (s *Server) pageRun(w http.ResponseWriter, r *http.Request) {
	run, ok := s.loadRun(w, r, s.pageError)
	if !ok {
		return
	}
	if !finished(run.State) {
		w.Header().Set("Cache-Control", "no-store")
		s.render(w, http.StatusOK, "progress", progressView{Run: run, Refresh: refreshSeconds})
		return
	}
	page, err := s.RenderRun(r, run)
	if err != nil {
		s.pageError(w, http.StatusInternalServerError, err.Error())
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Write(page)
}

// RenderRun renders a finished run's page from its stored records alone:
// the same run renders to the same bytes after a restart.
func (s *Server) RenderRun(r *http.Request, run store.Run) ([]byte, error) {
	res, err := s.o.Store.Results(r.Context(), run.ID)
	if err != nil {
		return nil, err
	}
	title := "caaprobe run " + run.ID
	if run.State != store.StateComplete {
		title += fmt.Sprintf(" (incomplete: %d of %d names checked)", run.NamesDone, run.NamesTotal)
	}
	var b bytes.Buffer
	h, err := htmlreport.New(&b, htmlreport.Options{Title: title, Generated: run.Finished, Inputs: []string{"caaprobe serve"}})
	if err != nil {
		return nil, err
	}
	for _, x := range res {
		rec, err := runs.Decode(x.Record)
		if err != nil {
			h.Close()
			return nil, fmt.Errorf("run %s, %s: %w", run.ID, x.Domain, err)
		}
		if err := h.Add(rec.Domain, ""); err != nil {
			h.Close()
			return nil, err
		}
	}
	if err := h.Close(); err != nil {
		return nil, err
	}
	var domains []string
	for _, x := range res {
		domains = append(domains, x.Domain)
	}
	var nav bytes.Buffer
	if err := pages.ExecuteTemplate(&nav, "nav", struct {
		Run     store.Run
		Domains []string
	}{run, domains}); err != nil {
		return nil, err
	}
	// The report is check's page as it is; the server's links go in
	// after its <body>.
	page := b.Bytes()
	if i := bytes.Index(page, []byte("<body>")); i >= 0 {
		at := i + len("<body>")
		page = append(page[:at:at], append(nav.Bytes(), page[at:]...)...)
	}
	return page, nil
}

type domainView struct {
	Domain string
	Runs   []HistoryEntry
}

func (s *Server) pageDomain(w http.ResponseWriter, r *http.Request) {
	domain, err := domainParam(r)
	if err != nil {
		s.pageError(w, http.StatusBadRequest, err.Error())
		return
	}
	hs, err := s.history(r.Context(), domain, 50)
	if err != nil {
		s.pageError(w, http.StatusInternalServerError, err.Error())
		return
	}
	for i := range hs {
		for j := range hs[i].Changes {
			c := &hs[i].Changes[j]
			c.Old, c.New, c.Detail, c.Server, c.Zone = report.CleanText(c.Old), report.CleanText(c.New), report.CleanText(c.Detail), report.CleanText(c.Server), report.CleanText(c.Zone)
		}
	}
	s.render(w, http.StatusOK, "domain", domainView{Domain: domain, Runs: hs})
}

// pageEvidence is a finished run's evidence as one tar.gz: per domain the
// bundle check --evidence writes (report.md, exchanges.pcap,
// result.json), from probes/evidence, under a folder named as there.
func (s *Server) pageEvidence(w http.ResponseWriter, r *http.Request) {
	run, ok := s.loadRun(w, r, s.pageError)
	if !ok {
		return
	}
	if !finished(run.State) {
		s.pageError(w, http.StatusConflict, "the run is still "+run.State+": its evidence is ready when it is finished")
		return
	}
	res, err := s.o.Store.Results(r.Context(), run.ID)
	if err != nil {
		s.pageError(w, http.StatusInternalServerError, err.Error())
		return
	}
	var b bytes.Buffer
	if err := writeEvidence(&b, run, res); err != nil {
		s.pageError(w, http.StatusInternalServerError, err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/gzip")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="caaprobe-%s.tar.gz"`, run.ID))
	w.Write(b.Bytes())
}

func writeEvidence(w *bytes.Buffer, run store.Run, res []store.Result) error {
	gz := gzip.NewWriter(w)
	tw := tar.NewWriter(gz)
	top := "caaprobe-" + run.ID
	used := map[string]bool{}
	add := func(name string, data []byte) error {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(data)), ModTime: run.Finished, Typeflag: tar.TypeReg}); err != nil {
			return err
		}
		_, err := tw.Write(data)
		return err
	}
	for _, x := range res {
		rec, err := runs.Decode(x.Record)
		if err != nil {
			return fmt.Errorf("%s: %w", x.Domain, err)
		}
		d := rec.Domain
		runInfo := &model.Run{Version: rec.Version, Started: rec.CheckedAt, Vantage: &rec.Vantage}
		folder := evidence.FolderName(d.Domain)
		for n := 2; used[folder]; n++ {
			folder = fmt.Sprintf("%s_n%d", evidence.FolderName(d.Domain), n)
		}
		used[folder] = true
		var md, pcap bytes.Buffer
		if err := evidence.WriteMarkdownRun(&md, d, runInfo); err != nil {
			return fmt.Errorf("%s: %w", d.Domain, err)
		}
		if err := evidence.WritePcap(&pcap, d); err != nil {
			return fmt.Errorf("%s: pcap: %w", d.Domain, err)
		}
		for _, f := range []struct {
			name string
			data []byte
		}{{evidence.ReportFile, md.Bytes()}, {evidence.PcapFile, pcap.Bytes()}, {evidence.JSONFile, append(bytes.Clone(x.Record), '\n')}} {
			if err := add(top+"/"+folder+"/"+f.name, f.data); err != nil {
				return err
			}
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return gz.Close()
}
