package api

import (
	"net/http"
	"strings"

	"github.com/heraldsms/herald/internal/account"
	"github.com/heraldsms/herald/internal/problem"
)

// access is who may call a route.
type access uint8

const (
	public   access = iota // anyone
	viewer                 // any member of an account
	editor                 // editors and admins
	admin                  // admins only
	operator               // the platform operator only
	carrier                // a carrier webhook: the handler checks its signature
)

var accessRole = map[access]account.Role{viewer: account.RoleViewer, editor: account.RoleEditor, admin: account.RoleAdmin}

var (
	errNoKey = problem.New(problem.Unauthorized, "missing_api_key", "",
		"send an API key as 'Authorization: Bearer KEY'")
	errOperatorOnly = problem.Forbiddenf("only the platform operator may do this")
	errNoAccount    = problem.New(problem.Forbidden, "operator_has_no_account", "",
		"the operator key belongs to no account; use an account's key for account routes")
)

// authorize finds who is calling and checks the route's access rule.
func (s *Server) authorize(r *http.Request, a access) (account.Principal, error) {
	if a == public || a == carrier {
		return account.Principal{}, nil
	}
	scheme, key, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || key == "" {
		return account.Principal{}, errNoKey
	}
	p, err := s.Accounts.Authenticate(r.Context(), strings.TrimSpace(key))
	if err != nil {
		return account.Principal{}, err
	}
	switch {
	case a == operator && !p.IsOperator():
		return p, errOperatorOnly
	case a == operator:
		return p, nil
	case p.IsOperator():
		return p, errNoAccount
	case !p.Can(accessRole[a]):
		return p, problem.Forbiddenf("this needs the %s role; the key has %s", accessRole[a], p.Role)
	}
	return p, nil
}
