package enroll

import (
	"embed"
	"encoding/json"
	"errors"
	"html/template"
	"log/slog"
	"math"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/heraldsms/herald/internal/clock"
	"github.com/heraldsms/herald/internal/problem"
)

//go:embed assets
var assets embed.FS

// pages are parsed once, at start; a broken template stops the build of the
// handler, not a visitor's request.
var pages = template.Must(template.New("").Funcs(template.FuncMap{"fieldOf": fieldOf}).ParseFS(assets, "assets/*.html"))

// Limits tunes the per-address submission limit.
type Limits struct {
	Burst int           // submissions at once
	Every time.Duration // then one per Every
	// TrustedProxies are the reverse proxies in front of Herald, whose
	// X-Forwarded-For names the visitor. The visitor's address keys the
	// limit and is kept in the consent evidence; behind a proxy that is
	// not trusted, every visitor would share the proxy's address.
	TrustedProxies []netip.Prefix
}

// DefaultLimits let a household sign up several people, and a script no
// more than one submission every six seconds.
var DefaultLimits = Limits{Burst: 10, Every: 6 * time.Second}

// Handler serves the enrollment pages, the widget and the public endpoint
// under /enroll/.
//
// CSRF: the endpoint is cross-site by design (the widget posts to it from
// customers' sites) and it holds no authority of its own: no cookie, no
// session, no key is read, so a forged post can do nothing a visitor could
// not do by typing the form. What it can do, sign up a number that is not
// the sender's, is met by double opt-in, the STOP that every text carries,
// and the per-address limit; the evidence records who sent it.
type Handler struct {
	svc     *Service
	log     *slog.Logger
	clock   clock.Clock
	limit   *limiter
	proxies []netip.Prefix
	mux     *http.ServeMux
}

// NewHandler returns the handler.
func NewHandler(svc *Service, log *slog.Logger, c clock.Clock, l Limits) *Handler {
	h := &Handler{svc: svc, log: log, clock: c, limit: newLimiter(l.Every, l.Burst), proxies: l.TrustedProxies,
		mux: http.NewServeMux()}
	h.mux.HandleFunc("GET /enroll/widget.js", h.asset("assets/widget.js", "text/javascript; charset=utf-8"))
	h.mux.HandleFunc("GET /enroll/enroll.css", h.asset("assets/enroll.css", "text/css; charset=utf-8"))
	h.mux.HandleFunc("GET /enroll/{program_id}", h.page)
	h.mux.HandleFunc("GET /enroll/{program_id}/form", h.fragment)
	h.mux.HandleFunc("POST /enroll/{program_id}", h.submit)
	h.mux.HandleFunc("OPTIONS /enroll/{program_id}", h.preflight)
	h.mux.HandleFunc("/enroll/", func(w http.ResponseWriter, r *http.Request) { h.notFound(w, r) })
	return h
}

// ServeHTTP makes the Handler an http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Content-Type-Options", "nosniff")
	h.mux.ServeHTTP(w, r)
}

func (h *Handler) asset(name, contentType string) http.HandlerFunc {
	body, err := assets.ReadFile(name)
	if err != nil {
		panic("enroll: missing asset " + name) // embedded at build time
	}
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", contentType)
		w.Header().Set("Cache-Control", "public, max-age=300")
		w.Header().Set("Access-Control-Allow-Origin", "*")
		_, _ = w.Write(body)
	}
}

// view is what the templates draw.
type view struct {
	Page
	Action string
	Form   Form
	Errors *InvalidError
	Alert  string
	Result *Result
}

// ID names an element of the form; every id the form uses comes from here.
func (v view) ID(part string) string { return "he-" + part }

// field is one text input of the form, with its label, hint and error.
type field struct {
	ID, Name, Label, Type, Autocomplete, Value, Hint, Error string
}

// DescribedBy links the input to its hint and its error, so a screen
// reader reads them with it.
func (f field) DescribedBy() string {
	var ids []string
	if f.Hint != "" {
		ids = append(ids, f.ID+"-hint")
	}
	if f.Error != "" {
		ids = append(ids, f.ID+"-error")
	}
	return strings.Join(ids, " ")
}

func fieldOf(v view, name, label, typ, autocomplete, value, hint string) field {
	return field{ID: v.ID(name), Name: name, Label: label, Type: typ, Autocomplete: autocomplete, Value: value,
		Hint: hint, Error: v.Errors.Has(name)}
}

func (h *Handler) page(w http.ResponseWriter, r *http.Request) {
	pg, err := h.svc.Page(r.Context(), r.PathValue("program_id"))
	if err != nil {
		h.fail(w, r, false, err)
		return
	}
	h.render(w, r, http.StatusOK, "page", view{Page: pg, Action: "/enroll/" + pg.Program.ID})
}

// fragment is the form alone, for the widget to place on another site.
func (h *Handler) fragment(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Access-Control-Allow-Origin", "*")
	pg, err := h.svc.Page(r.Context(), r.PathValue("program_id"))
	if err != nil {
		h.fail(w, r, true, err)
		return
	}
	h.render(w, r, http.StatusOK, "form", view{Page: pg, Action: "/enroll/" + pg.Program.ID})
}

func (h *Handler) preflight(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Access-Control-Allow-Origin", "*")
	w.Header().Set("Access-Control-Allow-Methods", "POST")
	w.Header().Set("Access-Control-Allow-Headers", "Content-Type, Accept")
	w.Header().Set("Access-Control-Max-Age", "86400")
	w.WriteHeader(http.StatusNoContent)
}

func (h *Handler) submit(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Access-Control-Allow-Origin", "*")
	asJSON := wantsJSON(r)
	programID := r.PathValue("program_id")
	ip := clientAddr(r, h.proxies)
	if ok, wait := h.limit.allow(ip, h.clock.Now()); !ok {
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
		h.fail(w, r, asJSON, problem.New(problem.TooMany, "rate_limited", "",
			"Too many sign-ups from your network. Please wait a minute and try again."))
		return
	}
	f, err := readForm(w, r)
	if err != nil {
		h.fail(w, r, asJSON, err)
		return
	}
	res, err := h.svc.Submit(r.Context(), programID, Request{Form: f, IP: ip.String(), UserAgent: r.UserAgent(), Referer: r.Referer()})
	if err != nil {
		h.failForm(w, r, asJSON, programID, f, err)
		return
	}
	if asJSON {
		writeJSON(w, http.StatusOK, res)
		return
	}
	pg, err := h.svc.Page(r.Context(), programID)
	if err != nil {
		h.fail(w, r, false, err)
		return
	}
	h.render(w, r, http.StatusOK, "page", view{Page: pg, Result: &res})
}

// failForm answers a refused submission: JSON for scripts, or the page
// again with the person's answers and what to fix.
func (h *Handler) failForm(w http.ResponseWriter, r *http.Request, asJSON bool, programID string, f Form, err error) {
	var inv *InvalidError
	p, isProblem := problem.As(err)
	if asJSON || (!errors.As(err, &inv) && !isProblem) || (isProblem && p.Kind == problem.NotFound) {
		h.fail(w, r, asJSON, err)
		return
	}
	pg, perr := h.svc.Page(r.Context(), programID)
	if perr != nil {
		h.fail(w, r, false, perr)
		return
	}
	v := view{Page: pg, Action: "/enroll/" + pg.Program.ID, Form: f, Errors: inv}
	status := http.StatusUnprocessableEntity
	if isProblem {
		v.Alert, status = p.Message, statusOf(p.Kind)
	}
	h.render(w, r, status, "page", v)
}

func (h *Handler) render(w http.ResponseWriter, r *http.Request, status int, name string, v any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if name != "form" { // the fragment lives under the customer's page and its policy
		w.Header().Set("Content-Security-Policy",
			"default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'")
	}
	w.WriteHeader(status)
	if err := pages.ExecuteTemplate(w, name, v); err != nil {
		h.log.ErrorContext(r.Context(), "enroll: render", "err", err, "template", name)
	}
}

// readForm reads a submission sent as a form or as JSON.
func readForm(w http.ResponseWriter, r *http.Request) (Form, error) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	var f Form
	if isJSON(r.Header.Get("Content-Type")) {
		dec := json.NewDecoder(r.Body)
		dec.DisallowUnknownFields()
		if err := dec.Decode(&f); err != nil {
			return f, problem.New(problem.Malformed, "malformed_json", "",
				"the body must be a JSON object with name, email, phone, sms_opt_in and page: "+err.Error())
		}
		return f, nil
	}
	if err := r.ParseForm(); err != nil {
		return f, problem.New(problem.Malformed, "malformed_form", "", "the form could not be read; please try again")
	}
	f = Form{Name: r.PostForm.Get("name"), Email: r.PostForm.Get("email"), Phone: r.PostForm.Get("phone"),
		Page: r.PostForm.Get("page"), DisclosureVersion: r.PostForm.Get("disclosure_version")}
	switch r.PostForm.Get("sms_opt_in") {
	case "yes", "on", "true", "1":
		f.OptIn = true
	}
	return f, nil
}

// clientAddr is the address the visitor's request came from. Only a
// trusted proxy's X-Forwarded-For is read, from the right: each trusted
// hop names the one before it, and the first address that is not a
// trusted proxy is the visitor. Anything left of it the visitor could have
// written themselves, and a limit keyed on that is no limit. A hop that is
// not an address ends the walk at the last good one.
func clientAddr(r *http.Request, trusted []netip.Prefix) netip.Addr {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.IPv4Unspecified()
	}
	addr := ap.Addr().Unmap()
	if !isTrusted(addr, trusted) {
		return addr
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		hop, ok := parseHop(hops[i])
		if !ok {
			return addr
		}
		addr = hop
		if !isTrusted(addr, trusted) {
			return addr
		}
	}
	return addr
}

func isTrusted(a netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// parseHop reads one X-Forwarded-For entry: an address, or an address and
// port as some proxies write it.
func parseHop(s string) (netip.Addr, bool) {
	s = strings.TrimSpace(s)
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap(), true
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap(), true
	}
	return netip.Addr{}, false
}
