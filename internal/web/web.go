// Package web is Herald's admin web: server-rendered pages for marketers,
// admins and the operator, enhanced with htmx. Every page is listed in
// pages.go with who may use it; handlers call the same domain services the
// REST API does, so a rule holds whichever way a user comes in.
package web

import (
	"log/slog"
	"net/http"
	"strings"

	"github.com/heraldsms/herald/internal/account"
	"github.com/heraldsms/herald/internal/automation"
	"github.com/heraldsms/herald/internal/clock"
	"github.com/heraldsms/herald/internal/contact"
	"github.com/heraldsms/herald/internal/inbound"
	"github.com/heraldsms/herald/internal/message"
	"github.com/heraldsms/herald/internal/metrics"
	"github.com/heraldsms/herald/internal/msgtemplate"
	"github.com/heraldsms/herald/internal/sim"
	"github.com/heraldsms/herald/internal/user"
	"github.com/heraldsms/herald/internal/webhook"
)

// Deps is what the admin web is built from.
type Deps struct {
	Accounts    *account.Store
	Users       *user.Store
	Contacts    *contact.Service
	Messages    *message.Service
	Templates   *msgtemplate.Service
	Automations *automation.Service
	Inbound     *inbound.Service
	Webhooks    *webhook.Service
	// Metrics answers the SMS dashboard, as it answers the API's.
	Metrics *metrics.Service
	// Sim is the built-in carrier simulator, nil when it is off.
	Sim *sim.Sim
	// PublicURL is where users reach Herald; an https URL makes the
	// session cookie Secure even behind a proxy that ends TLS.
	PublicURL string
	Clock     clock.Clock
	Logger    *slog.Logger
}

// Server serves the admin web.
type Server struct {
	Deps
	pages   *pageSet
	handler http.Handler
}

// New builds the admin web and its router. It panics if a page template
// does not parse: that is a programming error, caught by every test.
func New(d Deps) *Server {
	s := &Server{Deps: d, pages: mustParsePages()}
	mux := http.NewServeMux()
	for _, p := range s.routes() {
		mux.Handle(p.method+" "+p.path, s.endpoint(p))
	}
	mux.Handle("GET /static/", http.StripPrefix("/static/", staticHandler()))
	mux.Handle("/", s.endpoint(page{path: "/", access: public, handle: s.notFound}))
	s.handler = securityHeaders(mux)
	return s
}

// ServeHTTP makes the Server an http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// securityHeaders keeps pages to Herald's own scripts and styles, out of
// other sites' frames, and out of shared caches.
func securityHeaders(next http.Handler) http.Handler {
	const csp = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
		"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		if !strings.HasPrefix(r.URL.Path, "/static/") {
			h.Set("Cache-Control", "no-store")
		}
		next.ServeHTTP(w, r)
	})
}

func (s *Server) notFound(w http.ResponseWriter, r *http.Request, v *view) error {
	if r.URL.Path == "/" {
		http.Redirect(w, r, s.home(v), http.StatusSeeOther)
		return nil
	}
	return errNotFound
}

// home is where a signed-in user lands.
func (s *Server) home(v *view) string {
	switch {
	case v.User == nil:
		return "/signin"
	case v.User.Role == account.RoleOperator:
		return "/operator"
	default:
		return "/dashboards/sms"
	}
}
