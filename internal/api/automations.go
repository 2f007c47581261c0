package api

import (
	"net/http"

	"github.com/heraldsms/herald/internal/account"
	"github.com/heraldsms/herald/internal/automation"
)

func (s *Server) listAutomations(w http.ResponseWriter, r *http.Request, p account.Principal) error {
	list, err := s.Automations.List(r.Context(), p.AccountID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": list})
	return nil
}

// createAutomation stores a definition as a draft.
func (s *Server) createAutomation(w http.ResponseWriter, r *http.Request, p account.Principal) error {
	var def automation.Definition
	if err := decodeJSON(w, r, &def); err != nil {
		return err
	}
	a, err := s.Automations.Create(r.Context(), p.AccountID, def, p.Actor())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, a)
	return nil
}

func (s *Server) getAutomation(w http.ResponseWriter, r *http.Request, p account.Principal) error {
	a, err := s.Automations.Get(r.Context(), p.AccountID, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, a)
	return nil
}

// patchAutomation changes the fields the body names, over the latest
// definition, and stores the result as a new version (a draft until
// published; the published version keeps running meanwhile).
func (s *Server) patchAutomation(w http.ResponseWriter, r *http.Request, p account.Principal) error {
	cur, err := s.Automations.Get(r.Context(), p.AccountID, r.PathValue("id"))
	if err != nil {
		return err
	}
	var in automationPatch
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	def := in.apply(cur.Definition)
	a, err := s.Automations.Update(r.Context(), p.AccountID, cur.ID, def, p.Actor())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, a)
	return nil
}

// automationPatch names the top-level fields a PATCH replaces; each one
// sent replaces the field whole (a trigger or the steps are not merged).
type automationPatch struct {
	Name        *string                `json:"name"`
	Trigger     *automation.Trigger    `json:"trigger"`
	Audience    *automation.Audience   `json:"audience"`
	Conditions  *automation.Conditions `json:"conditions"`
	Steps       *[]automation.Step     `json:"steps"`
	TestNumbers *[]string              `json:"test_numbers"`
	TestMode    *bool                  `json:"test_mode"`
}

func (p automationPatch) apply(d automation.Definition) automation.Definition {
	if p.Name != nil {
		d.Name = *p.Name
	}
	if p.Trigger != nil {
		d.Trigger = *p.Trigger
	}
	if p.Audience != nil {
		d.Audience = p.Audience
	}
	if p.Conditions != nil {
		d.Conditions = *p.Conditions
	}
	if p.Steps != nil {
		d.Steps = *p.Steps
	}
	if p.TestNumbers != nil {
		d.TestNumbers = *p.TestNumbers
	}
	if p.TestMode != nil {
		d.TestMode = *p.TestMode
	}
	return d
}

func (s *Server) deleteAutomation(w http.ResponseWriter, r *http.Request, p account.Principal) error {
	if err := s.Automations.Delete(r.Context(), p.AccountID, r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) publishAutomation(w http.ResponseWriter, r *http.Request, p account.Principal) error {
	a, err := s.Automations.Publish(r.Context(), p.AccountID, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, a)
	return nil
}

func (s *Server) enableAutomation(w http.ResponseWriter, r *http.Request, p account.Principal) error {
	return s.setAutomationEnabled(w, r, p, true)
}

func (s *Server) disableAutomation(w http.ResponseWriter, r *http.Request, p account.Principal) error {
	return s.setAutomationEnabled(w, r, p, false)
}

func (s *Server) setAutomationEnabled(w http.ResponseWriter, r *http.Request, p account.Principal, on bool) error {
	a, err := s.Automations.SetEnabled(r.Context(), p.AccountID, r.PathValue("id"), on)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, a)
	return nil
}

func (s *Server) listAutomationRuns(w http.ResponseWriter, r *http.Request, p account.Principal) error {
	runs, err := s.Automations.Runs(r.Context(), p.AccountID, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": runs})
	return nil
}
