package api

import (
	_ "embed"
	"net/http"

	"github.com/heraldsms/herald/internal/account"
)

// openAPIDoc describes every route of routes.go; TestOpenAPIDescribesEveryRoute
// fails when one is missing.
//
//go:embed openapi.json
var openAPIDoc []byte

func (s *Server) openAPI(w http.ResponseWriter, _ *http.Request, _ account.Principal) error {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	_, err := w.Write(openAPIDoc)
	return err
}
