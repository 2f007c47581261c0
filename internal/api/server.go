// Package api is Herald's REST API, version 1: every route is listed in
// routes.go; handlers decode, validate, call a domain package and respond;
// errors leave through one envelope. It also serves /healthz and /readyz.
package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/heraldsms/herald/internal/account"
	"github.com/heraldsms/herald/internal/automation"
	"github.com/heraldsms/herald/internal/clock"
	"github.com/heraldsms/herald/internal/contact"
	"github.com/heraldsms/herald/internal/db"
	"github.com/heraldsms/herald/internal/inbound"
	"github.com/heraldsms/herald/internal/message"
	"github.com/heraldsms/herald/internal/metrics"
	"github.com/heraldsms/herald/internal/msgtemplate"
	"github.com/heraldsms/herald/internal/sim"
	"github.com/heraldsms/herald/internal/webhook"
)

// Deps is what the API is built from.
type Deps struct {
	DB       *db.DB
	Accounts *account.Store
	Contacts *contact.Service
	Messages *message.Service
	Inbound  *inbound.Service
	// Templates keeps templates, their review and test sends.
	Templates *msgtemplate.Service
	// PublicURL is how carriers reach this server; webhook signatures are
	// computed over it.
	PublicURL string
	// Webhooks keeps the account's webhook endpoints and their deliveries.
	Webhooks *webhook.Service
	// Automations accepts program events and keeps automations and runs.
	Automations *automation.Service
	// Metrics answers the SMS dashboard from its rollups.
	Metrics *metrics.Service
	// Sim is the built-in carrier simulator, nil when it is off.
	Sim    *sim.Sim
	Clock  clock.Clock
	Logger *slog.Logger
}

// Server serves the API.
type Server struct {
	Deps
	handler http.Handler
	// carriers caches who signs carrier webhooks (carrier.go).
	carriers signerCache
}

// New builds the API and its router.
func New(d Deps) *Server {
	s := &Server{Deps: d}
	queries, err := queryParams(openAPIDoc)
	if err != nil {
		panic(err) // the document is embedded; TestOpenAPIDescribesEveryRoute reads it too
	}
	mux := http.NewServeMux()
	for _, rt := range s.routes() {
		mux.Handle(rt.method+" "+rt.path, s.endpoint(rt, queries[rt.method+" "+rt.path]))
	}
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusNotFound, errorBody{errorDetail{Code: "route_not_found",
			Message: fmt.Sprintf("no route %s %s", r.Method, r.URL.Path)}})
	})
	s.handler = s.middleware(mux)
	return s
}

// ServeHTTP makes the Server an http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// handlerFunc is the shape of every API handler: it returns an error instead
// of writing one, so each handler reads top to bottom.
type handlerFunc func(w http.ResponseWriter, r *http.Request, p account.Principal) error

// endpoint wraps a route's handler with authentication, its access rule
// and the query parameters openapi.json says it takes. Carrier webhooks
// are exempt from the last: their URL is signed as it came, and a carrier
// is not told about a parameter it added.
func (s *Server) endpoint(rt route, query []string) http.Handler {
	name := rt.method + " " + rt.path
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := s.authorize(r, rt.access)
		if err == nil && rt.access != carrier {
			err = checkPath(r)
		}
		if err == nil && rt.access != carrier {
			err = checkQuery(r, name, query)
		}
		if err == nil {
			err = rt.handle(w, r, p)
		}
		if err != nil {
			writeError(w, r, s.Logger, err)
		}
	})
}

type ctxKey int

const requestIDKey ctxKey = iota

// middleware adds a request id, recovers panics into a 500, and logs each
// request once.
func (s *Server) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		reqID := r.Header.Get("X-Request-Id")
		if reqID == "" || len(reqID) > 64 || strings.ContainsAny(reqID, "\r\n") {
			b := make([]byte, 8)
			_, _ = rand.Read(b)
			reqID = hex.EncodeToString(b)
		}
		w.Header().Set("X-Request-Id", reqID)
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Cache-Control", "no-store")
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		ctx := context.WithValue(r.Context(), requestIDKey, reqID)
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.Logger.Error("panic", "err", v, "request_id", reqID, "stack", string(debug.Stack()))
				if !rec.wrote {
					writeJSON(rec, http.StatusInternalServerError, errorBody{errorDetail{
						Code: "internal_error", Message: "something went wrong on our side; quote request " + reqID}})
				}
			}
			s.Logger.Debug("http", "method", r.Method, "path", r.URL.Path, "status", rec.status,
				"duration_ms", time.Since(start).Milliseconds(), "request_id", reqID)
		}()
		next.ServeHTTP(rec, r.WithContext(ctx))
	})
}

type statusRecorder struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (s *statusRecorder) WriteHeader(code int) {
	if !s.wrote {
		s.status, s.wrote = code, true
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	s.wrote = true
	return s.ResponseWriter.Write(b)
}

// Flush lets streamed responses (CSV export) reach the client as they go.
func (s *statusRecorder) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the real writer.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }
