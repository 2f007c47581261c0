package web

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"

	"github.com/heraldsms/herald/internal/account"
	"github.com/heraldsms/herald/internal/problem"
	"github.com/heraldsms/herald/internal/storable"
	"github.com/heraldsms/herald/internal/user"
)

// access is who may use a page or action.
type access uint8

const (
	public   access = iota // anyone, signed in or not
	signedIn               // any signed-in user: an account member or the operator
	viewer                 // any member of an account
	editor                 // editors and admins
	admin                  // admins only
	operator               // the platform operator only
)

var accessRole = map[access]account.Role{viewer: account.RoleViewer, editor: account.RoleEditor, admin: account.RoleAdmin}

// page is one route of the admin web.
type page struct {
	method string
	path   string
	access access
	handle pageFunc
}

// pageFunc renders a page or acts on a form. It returns an error instead of
// writing one, so handlers read top to bottom.
type pageFunc func(w http.ResponseWriter, r *http.Request, v *view) error

// routes is every page and action. Reads are GET; every other method
// changes something and must carry the session's CSRF token.
func (s *Server) routes() []page {
	ps := []page{
		{"GET", "/signin", public, s.signInPage},
		{"POST", "/signin", public, s.signIn},
		{"POST", "/signout", public, s.signOut},
	}
	for _, group := range [][]page{
		s.templatePages(),
		s.automationPages(),
		s.contactPages(),
		s.outcomePages(),
		s.dashboardPages(),
		s.limitQueuePages(),
		s.settingsPages(),
		s.operatorPages(),
		s.simulatorPages(),
	} {
		ps = append(ps, group...)
	}
	return ps
}

// view is what every page template gets: who is signed in, their account,
// the CSRF token for forms, a one-time notice, and the page's own data.
type view struct {
	User      *user.User
	Principal account.Principal
	Account   *account.Account
	CSRF      string
	Notice    string
	// Section names the navigation entry to highlight.
	Section string
	Title   string
	// Simulator is true when the built-in carrier is on.
	Simulator bool
	// Path and Query are the request's, for links that keep filters.
	Path  string
	Query url.Values
	Data  any
}

// Can reports whether the signed-in user holds at least the role.
func (v *view) Can(role string) bool {
	if v.User == nil {
		return false
	}
	if role == string(account.RoleOperator) {
		return v.Principal.IsOperator()
	}
	return v.Principal.Can(account.Role(role))
}

var (
	errNotFound  = problem.NotFoundf("there is no such page")
	errForbidden = problem.Forbiddenf("your role does not allow this; ask an admin of your account")
	errCSRF      = problem.New(problem.Forbidden, "csrf_token_invalid", "",
		"this form has expired or did not come from Herald; reload the page and try again")
)

// endpoint wraps a page with the session, the CSRF check and its access
// rule.
func (s *Server) endpoint(p page) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v, err := s.newView(w, r)
		if err == nil && r.Method != http.MethodGet && r.Method != http.MethodHead {
			err = parseForm(w, r)
		}
		if err == nil {
			err = checkText(r)
		}
		if err == nil {
			err = s.allow(r, p, v)
		}
		if err == nil {
			err = p.handle(w, r, v)
		}
		if err != nil {
			s.fail(w, r, v, err)
		}
	})
}

// checkText refuses a request whose path, query or form fields hold text
// that PostgreSQL cannot keep (see storable), before any look-up fails on
// it; SQLite is held to the same rule. An uploaded file's contents are the
// import's to check, row by row.
func checkText(r *http.Request) error {
	if !storable.Text(r.URL.Path) {
		return problem.New(problem.Malformed, "malformed_path", "", "this address "+storable.Why(r.URL.Path))
	}
	fields := r.Form // the query and the form, once a write's form is read
	if fields == nil {
		fields = r.URL.Query()
	}
	if name, why := storable.Form(fields); why != "" {
		return problem.Invalidf("invalid_text", name, "the field %q %s", name, why)
	}
	return nil
}

// allow checks the CSRF token of a write and the page's access rule. A
// visitor who is not signed in is sent to sign in, and back afterwards.
func (s *Server) allow(r *http.Request, p page, v *view) error {
	if r.Method != http.MethodGet && r.Method != http.MethodHead && !s.validCSRF(r, v) {
		return errCSRF
	}
	if p.access == public {
		return nil
	}
	if v.User == nil {
		return errSignIn
	}
	switch {
	case p.access == signedIn:
		return nil
	case p.access == operator && !v.Principal.IsOperator():
		return errForbidden
	case p.access == operator:
		return nil
	case v.Principal.IsOperator() || !v.Principal.Can(accessRole[p.access]):
		return errForbidden
	}
	return nil
}

// validCSRF compares the form's or the htmx header's token with the
// session's. Sign-in has no session yet: it is checked against the
// pre-session cookie instead (see signInPage).
func (s *Server) validCSRF(r *http.Request, v *view) bool {
	want := v.CSRF
	if want == "" {
		return false
	}
	got := r.Header.Get("X-CSRF-Token")
	if got == "" {
		got = r.PostFormValue("csrf_token")
	}
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

var errSignIn = errors.New("web: sign in first")

// Form size limits: a form of fields is small; an upload (a contacts CSV)
// may be as large as the API's import allows.
const (
	maxFormBody   = 1 << 20
	maxUploadBody = 64 << 20
	// uploadMemory is how much of an upload is held in memory; the rest
	// waits in temporary files until the request ends.
	uploadMemory = 32 << 20
)

// parseForm reads a write's form within its size limit, so the CSRF check
// and the handler see the same values and an oversize body is refused
// with a clear message instead of read to its end.
func parseForm(w http.ResponseWriter, r *http.Request) error {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	limit := int64(maxFormBody)
	if mt == "multipart/form-data" {
		limit = maxUploadBody
	}
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	var err error
	if mt == "multipart/form-data" {
		err = r.ParseMultipartForm(uploadMemory)
	} else {
		err = r.ParseForm()
	}
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return problem.New(problem.TooLarge, "form_too_large", "",
			fmt.Sprintf("this form is larger than %d MiB; send a smaller file", limit>>20))
	case err != nil:
		return problem.New(problem.Malformed, "form_unreadable", "", "the form could not be read; reload the page and try again")
	}
	return nil
}
