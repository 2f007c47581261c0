package api

import (
	"context"
	"net/http"
	"time"

	"github.com/heraldsms/herald/internal/account"
	"github.com/heraldsms/herald/internal/problem"
)

// healthz says the process is up; it touches nothing.
func (s *Server) healthz(w http.ResponseWriter, _ *http.Request, _ account.Principal) error {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	return nil
}

// readyz says the process can do its work: the database answers.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request, _ account.Principal) error {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.DB.Write().PingContext(ctx); err != nil {
		return problem.New(problem.Unavailable, "database_unavailable", "", "the database is not answering")
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready", "database": string(s.DB.Engine)})
	return nil
}
