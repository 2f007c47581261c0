package api

import (
	"net/http"

	"github.com/heraldsms/herald/internal/account"
	"github.com/heraldsms/herald/internal/message"
)

// configureAccount is the operator's SMS setup of an account: enabling,
// the monthly limit, the carrier sub-account and the sender numbers.
func (s *Server) configureAccount(w http.ResponseWriter, r *http.Request, _ account.Principal) error {
	var in account.Setup
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	a, err := s.Accounts.Configure(r.Context(), r.PathValue("id"), in)
	if err != nil {
		return err
	}
	nums, err := s.Accounts.Numbers(r.Context(), a.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"account": a, "numbers": nums})
	return nil
}

// operatorUsage shows every account's usage this month.
func (s *Server) operatorUsage(w http.ResponseWriter, r *http.Request, _ account.Principal) error {
	accts, err := s.Accounts.List(r.Context())
	if err != nil {
		return err
	}
	out := make([]message.Usage, 0, len(accts))
	for _, a := range accts {
		u, err := s.Messages.UsageOf(r.Context(), a)
		if err != nil {
			return err
		}
		out = append(out, u)
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": out})
	return nil
}
