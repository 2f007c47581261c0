package api

import (
	"net/http"
	"time"

	"github.com/heraldsms/herald/internal/account"
	"github.com/heraldsms/herald/internal/guard"
	"github.com/heraldsms/herald/internal/problem"
)

func (s *Server) getAccount(w http.ResponseWriter, r *http.Request, p account.Principal) error {
	a, err := s.Accounts.Get(r.Context(), p.AccountID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, a)
	return nil
}

func (s *Server) listPrograms(w http.ResponseWriter, r *http.Request, p account.Principal) error {
	progs, err := s.Accounts.ListPrograms(r.Context(), p.AccountID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": progs})
	return nil
}

func (s *Server) createProgram(w http.ResponseWriter, r *http.Request, p account.Principal) error {
	var in account.NewProgram
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	prog, err := s.Accounts.CreateProgram(r.Context(), p.AccountID, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, prog)
	return nil
}

func (s *Server) getProgram(w http.ResponseWriter, r *http.Request, p account.Principal) error {
	prog, err := s.Accounts.GetProgram(r.Context(), p.AccountID, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, prog)
	return nil
}

// getEnrollSettings shows the enrollment form's settings as stored and as
// the form uses them (an empty frequency reads as the default).
func (s *Server) getEnrollSettings(w http.ResponseWriter, r *http.Request, p account.Principal) error {
	e, err := s.Accounts.EnrollSettings(r.Context(), p.AccountID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"settings": e, "effective": e.Effective()})
	return nil
}

func (s *Server) putEnrollSettings(w http.ResponseWriter, r *http.Request, p account.Principal) error {
	var in account.EnrollSettings
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	e, err := s.Accounts.SetEnrollSettings(r.Context(), p.AccountID, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"settings": e, "effective": e.Effective()})
	return nil
}

func (s *Server) listKeys(w http.ResponseWriter, r *http.Request, p account.Principal) error {
	keys, err := s.Accounts.ListKeys(r.Context(), p.AccountID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": keys})
	return nil
}

type newKeyRequest struct {
	Name string `json:"name"`
	Role string `json:"role"`
}

// createKey answers with the secret, once; only its hash is kept.
func (s *Server) createKey(w http.ResponseWriter, r *http.Request, p account.Principal) error {
	var in newKeyRequest
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	if in.Role == "" {
		in.Role = string(account.RoleAdmin)
	}
	role, err := account.ParseRole(in.Role)
	if err != nil {
		return err
	}
	k, secret, err := s.Accounts.CreateKey(r.Context(), p.AccountID, role, in.Name)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, struct {
		account.APIKey
		Secret string `json:"secret"`
	}{k, secret})
	return nil
}

func (s *Server) revokeKey(w http.ResponseWriter, r *http.Request, p account.Principal) error {
	if err := s.Accounts.RevokeKey(r.Context(), p.AccountID, r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) listAccounts(w http.ResponseWriter, r *http.Request, _ account.Principal) error {
	accts, err := s.Accounts.List(r.Context())
	if err != nil {
		return err
	}
	if accts == nil {
		accts = []account.Account{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": accts})
	return nil
}

type newAccountRequest struct {
	Name           string `json:"name"`
	BrandName      string `json:"brand_name"`
	DefaultCountry string `json:"default_country"`
	TimeZone       string `json:"time_zone"`
}

// createAccount makes an account and its first admin key, shown once.
func (s *Server) createAccount(w http.ResponseWriter, r *http.Request, _ account.Principal) error {
	var in newAccountRequest
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	a, secret, err := s.Accounts.CreateAccount(r.Context(), account.NewAccount(in))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, map[string]any{"account": a, "api_key": secret})
	return nil
}

func (s *Server) getAccountAsOperator(w http.ResponseWriter, r *http.Request, _ account.Principal) error {
	a, err := s.Accounts.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, a)
	return nil
}

// marketingSettings is how the API shows and takes an account's marketing
// guards: the local sending window and the per-contact frequency cap.
type marketingSettings struct {
	SendingWindow *struct {
		Start string `json:"start"`
		End   string `json:"end"`
	} `json:"sending_window"`
	FrequencyCap *struct {
		Max         int `json:"max"`
		PeriodHours int `json:"period_hours"`
	} `json:"frequency_cap"`
}

func (s *Server) getMarketingSettings(w http.ResponseWriter, r *http.Request, p account.Principal) error {
	a, err := s.Accounts.Get(r.Context(), p.AccountID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"sending_window": a.SendingWindow, "frequency_cap": a.FrequencyCap})
	return nil
}

// putMarketingSettings changes the guards an admin sends; a field left out
// keeps its value. Both are checked before either is written.
func (s *Server) putMarketingSettings(w http.ResponseWriter, r *http.Request, p account.Principal) error {
	var in marketingSettings
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	var g account.Guards
	if sw := in.SendingWindow; sw != nil {
		win, err := guard.ParseWindow(sw.Start, sw.End)
		if err != nil {
			return err
		}
		g.SendingWindow = &win
	}
	if fc := in.FrequencyCap; fc != nil {
		g.FrequencyCap = &guard.Cap{Max: fc.Max, Period: time.Duration(fc.PeriodHours) * time.Hour}
	}
	if g.SendingWindow == nil && g.FrequencyCap == nil {
		return problem.Invalidf("required", "", "send sending_window, frequency_cap or both")
	}
	a, err := s.Accounts.SetGuards(r.Context(), p.AccountID, g)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"sending_window": a.SendingWindow, "frequency_cap": a.FrequencyCap})
	return nil
}

// countrySettings is how the API takes the countries messages may go to;
// a nil list means the field was left out.
type countrySettings struct {
	AllowedCountries *[]string `json:"allowed_countries"`
}

func (s *Server) getCountrySettings(w http.ResponseWriter, r *http.Request, p account.Principal) error {
	a, err := s.Accounts.Get(r.Context(), p.AccountID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"allowed_countries": a.AllowedCountries})
	return nil
}

// putCountrySettings replaces the countries messages may go to. It goes
// through the account's set-up, as the web settings page and the operator
// do, so the three check and normalise codes alike. An empty list is kept,
// as the web page keeps it: no message goes out until a country is added.
func (s *Server) putCountrySettings(w http.ResponseWriter, r *http.Request, p account.Principal) error {
	var in countrySettings
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	if in.AllowedCountries == nil {
		return problem.Invalidf("required", "allowed_countries", "send allowed_countries, a list of ISO 3166 alpha-2 codes such as [\"US\", \"CA\"]")
	}
	a, err := s.Accounts.Configure(r.Context(), p.AccountID, account.Setup{AllowedCountries: in.AllowedCountries})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"allowed_countries": a.AllowedCountries})
	return nil
}
