package web

import (
	"crypto/rand"
	"net/http"
	"strings"

	"github.com/heraldsms/herald/internal/account"
	"github.com/heraldsms/herald/internal/problem"
	"github.com/heraldsms/herald/internal/user"
)

// Who may act for the account: its API keys (as internal/api/accounts.go
// keeps them) and the users who sign in here.

// settingsRoles are the roles a key or user of an account may hold, least
// first, as the role menus list them.
var settingsRoles = []account.Role{account.RoleViewer, account.RoleEditor, account.RoleAdmin}

// settingsSecret is a secret in the answer to the form that made it.
type settingsSecret struct {
	// For names what the secret belongs to: a key's name, a user's email.
	For    string
	Secret string
	// Page is the address of the page that shows it, which a reload asks
	// for instead of sending the form again.
	Page string
}

type settingsKeyForm struct{ Name, Role string }

type settingsKeysData struct {
	Tabs   []settingsTab
	Keys   []account.APIKey
	Roles  []account.Role
	Form   settingsKeyForm
	Errors settingsErrors
	New    *settingsSecret
}

func (s *Server) settingsAPIKeys(w http.ResponseWriter, r *http.Request, v *view) error {
	return s.settingsShowKeys(w, r, v, http.StatusOK, settingsKeysData{Form: settingsKeyForm{Role: string(account.RoleEditor)}})
}

func (s *Server) settingsShowKeys(w http.ResponseWriter, r *http.Request, v *view, status int, d settingsKeysData) error {
	keys, err := s.Accounts.ListKeys(r.Context(), v.Principal.AccountID)
	if err != nil {
		return err
	}
	d.Tabs, d.Keys, d.Roles = settingsView(v, "API keys · Settings"), keys, settingsRoles
	return s.render(w, r, status, "settings_api_keys", v, d)
}

// settingsCreateAPIKey makes a key and answers with the list and the key's
// secret, shown this once: only its hash is kept.
func (s *Server) settingsCreateAPIKey(w http.ResponseWriter, r *http.Request, v *view) error {
	f := settingsKeyForm{Name: strings.TrimSpace(r.PostFormValue("name")), Role: r.PostFormValue("role")}
	k, secret, err := s.settingsNewKey(r, v, f)
	if err != nil {
		errs, status, err := settingsInvalid(err, settingsIDs("name", "role"))
		if err != nil {
			return err
		}
		return s.settingsShowKeys(w, r, v, status, settingsKeysData{Form: f, Errors: errs})
	}
	v.Notice = "API key created. Copy it now."
	return s.settingsShowKeys(w, r, v, http.StatusCreated, settingsKeysData{Form: settingsKeyForm{Role: f.Role},
		New: &settingsSecret{For: k.Name, Secret: secret, Page: "/settings/api-keys"}})
}

func (s *Server) settingsNewKey(r *http.Request, v *view, f settingsKeyForm) (account.APIKey, string, error) {
	role, err := account.ParseRole(f.Role)
	if err != nil {
		return account.APIKey{}, "", err
	}
	return s.Accounts.CreateKey(r.Context(), v.Principal.AccountID, role, f.Name)
}

func (s *Server) settingsRevokeAPIKey(w http.ResponseWriter, r *http.Request, v *view) error {
	if err := s.Accounts.RevokeKey(r.Context(), v.Principal.AccountID, r.PathValue("id")); err != nil {
		return err
	}
	s.notice(w, r, "API key revoked. Requests with it are refused from now on.")
	redirect(w, r, "/settings/api-keys")
	return nil
}

type settingsUserForm struct{ Email, Name, Role string }

type settingsUsersData struct {
	Tabs  []settingsTab
	Users []user.User
	Roles []account.Role
	// Me is the signed-in admin, who may not delete or demote themselves.
	Me     string
	Form   settingsUserForm
	Errors settingsErrors
	New    *settingsSecret
}

func (s *Server) settingsUsers(w http.ResponseWriter, r *http.Request, v *view) error {
	return s.settingsShowUsers(w, r, v, http.StatusOK, settingsUsersData{Form: settingsUserForm{Role: string(account.RoleEditor)}})
}

func (s *Server) settingsShowUsers(w http.ResponseWriter, r *http.Request, v *view, status int, d settingsUsersData) error {
	list, err := s.Users.List(r.Context(), v.Principal.AccountID)
	if err != nil {
		return err
	}
	d.Tabs, d.Users, d.Roles, d.Me = settingsView(v, "Users · Settings"), list, settingsRoles, v.Principal.UserID
	return s.render(w, r, status, "settings_users", v, d)
}

// settingsCreateUser adds a user with a password Herald makes up, shown
// this once for the admin to pass on; only its hash is kept.
func (s *Server) settingsCreateUser(w http.ResponseWriter, r *http.Request, v *view) error {
	f := settingsUserForm{Email: strings.TrimSpace(r.PostFormValue("email")), Name: strings.TrimSpace(r.PostFormValue("name")),
		Role: r.PostFormValue("role")}
	password := settingsNewPassword()
	u, err := s.Users.Create(r.Context(), user.New{AccountID: v.Principal.AccountID, Email: f.Email, Name: f.Name,
		Role: account.Role(f.Role), Password: password})
	if err != nil {
		errs, status, err := settingsInvalid(err, settingsIDs("email", "name", "role"))
		if err != nil {
			return err
		}
		return s.settingsShowUsers(w, r, v, status, settingsUsersData{Form: f, Errors: errs})
	}
	v.Notice = "User added. Copy the first password now and give it to " + u.Email + "."
	return s.settingsShowUsers(w, r, v, http.StatusCreated, settingsUsersData{Form: settingsUserForm{Role: f.Role},
		New: &settingsSecret{For: u.Email, Secret: password, Page: "/settings/users"}})
}

// settingsNewPassword is a first password: 24 letters and digits from the
// system's random source (about 120 bits), in groups of four to read out.
func settingsNewPassword() string {
	t := strings.ToLower(rand.Text())[:24]
	groups := make([]string, 0, 6)
	for i := 0; i < len(t); i += 4 {
		groups = append(groups, t[i:i+4])
	}
	return strings.Join(groups, "-")
}

var (
	errSettingsOwnRole    = problem.Forbiddenf("you cannot change your own role; ask another admin of your account")
	errSettingsDeleteSelf = problem.Forbiddenf("you cannot delete yourself; ask another admin of your account")
)

// settingsSetUserRole changes another user's role. An admin keeps their
// own, so an account never loses its last admin by a slip.
func (s *Server) settingsSetUserRole(w http.ResponseWriter, r *http.Request, v *view) error {
	id := r.PathValue("id")
	if id == v.Principal.UserID {
		return errSettingsOwnRole
	}
	u, err := s.Users.SetRole(r.Context(), v.Principal.AccountID, id, account.Role(r.PostFormValue("role")))
	if err != nil {
		return err
	}
	s.notice(w, r, u.Email+" is now "+string(u.Role)+".")
	redirect(w, r, "/settings/users")
	return nil
}

// settingsDeleteUser removes another user and ends their sessions.
func (s *Server) settingsDeleteUser(w http.ResponseWriter, r *http.Request, v *view) error {
	id := r.PathValue("id")
	if id == v.Principal.UserID {
		return errSettingsDeleteSelf
	}
	if err := s.Users.Delete(r.Context(), v.Principal.AccountID, id); err != nil {
		return err
	}
	s.notice(w, r, "User deleted.")
	redirect(w, r, "/settings/users")
	return nil
}
