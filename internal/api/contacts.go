package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"

	"github.com/heraldsms/herald/internal/account"
	"github.com/heraldsms/herald/internal/consent"
	"github.com/heraldsms/herald/internal/contact"
	"github.com/heraldsms/herald/internal/problem"
)

func apiChange(p account.Principal) contact.Change {
	return contact.Change{Source: consent.SourceAPI, Actor: p.Actor()}
}

// upsertContact creates a contact (201) or updates the one it matches (200).
func (s *Server) upsertContact(w http.ResponseWriter, r *http.Request, p account.Principal) error {
	var in contact.Input
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	c, created, err := s.Contacts.Upsert(r.Context(), p.AccountID, in, apiChange(p))
	if err != nil {
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	writeJSON(w, status, c)
	return nil
}

func (s *Server) listContacts(w http.ResponseWriter, r *http.Request, p account.Principal) error {
	q := r.URL.Query()
	f, err := contact.ParseFilter(q.Get("sms_preference"), q.Get("country"), q.Get("q"), q.Get("cursor"), q.Get("limit"))
	if err != nil {
		return err
	}
	page, err := s.Contacts.List(r.Context(), p.AccountID, f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, page)
	return nil
}

func (s *Server) getContact(w http.ResponseWriter, r *http.Request, p account.Principal) error {
	c, err := s.Contacts.Get(r.Context(), p.AccountID, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}

func (s *Server) patchContact(w http.ResponseWriter, r *http.Request, p account.Principal) error {
	var in contact.Input
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	c, err := s.Contacts.Patch(r.Context(), p.AccountID, r.PathValue("id"), in, apiChange(p))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}

func (s *Server) deleteContact(w http.ResponseWriter, r *http.Request, p account.Principal) error {
	if err := s.Contacts.Delete(r.Context(), p.AccountID, r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type preferenceRequest struct {
	Preference string          `json:"preference"`
	Kind       string          `json:"kind"`
	Source     string          `json:"source"`
	Evidence   json.RawMessage `json:"evidence"`
}

// apiSources are the sources a caller may claim. Keyword and carrier
// changes are Herald's own observations and never come in through the API.
var apiSources = map[consent.Source]bool{
	consent.SourceAPI: true, consent.SourceAdmin: true, consent.SourceWidget: true, consent.SourceImport: true,
}

func (s *Server) setPreference(w http.ResponseWriter, r *http.Request, p account.Principal) error {
	var in preferenceRequest
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	pc, err := in.parse(p)
	if err != nil {
		return err
	}
	c, err := s.Contacts.SetPreference(r.Context(), p.AccountID, r.PathValue("id"), pc)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}

func (in preferenceRequest) parse(p account.Principal) (contact.PreferenceChange, error) {
	var pc contact.PreferenceChange
	if in.Preference == "" {
		return pc, problem.Invalidf("required", "preference", "preference is required: unknown, opted_in or opted_out")
	}
	pref, err := consent.ParsePreference(in.Preference)
	if err != nil {
		return pc, err
	}
	pc.Preference = pref
	if in.Kind != "" {
		if pc.Kind, err = consent.ParseKind(in.Kind); err != nil {
			return pc, err
		}
	}
	if in.Source == "" {
		in.Source = string(consent.SourceAPI)
	}
	src, err := consent.ParseSource(in.Source)
	if err != nil {
		return pc, err
	}
	if !apiSources[src] {
		return pc, problem.Invalidf("invalid_source", "source", "source %q is recorded by Herald itself and cannot be sent", src)
	}
	if len(in.Evidence) > 0 && string(in.Evidence) != "null" {
		var obj map[string]any
		if json.Unmarshal(in.Evidence, &obj) != nil {
			return pc, problem.Invalidf("invalid_evidence", "evidence", "evidence must be a JSON object")
		}
		pc.Evidence = in.Evidence
	}
	pc.Source, pc.Actor = src, p.Actor()
	return pc, nil
}

func (s *Server) listConsents(w http.ResponseWriter, r *http.Request, p account.Principal) error {
	records, err := s.Contacts.Consents(r.Context(), p.AccountID, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": records})
	return nil
}

// maxImport is the largest CSV an import takes in one request.
const maxImport = 64 << 20

// importContacts reads text/csv and answers with counts and per-row errors.
func (s *Server) importContacts(w http.ResponseWriter, r *http.Request, p account.Principal) error {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "text/csv" {
		return problem.New(problem.Malformed, "unsupported_media_type", "", "send the file as text/csv")
	}
	body := http.MaxBytesReader(w, r.Body, maxImport)
	res, err := s.Contacts.Import(r.Context(), p.AccountID, body, apiChange(p))
	var maxErr *http.MaxBytesError
	if errors.As(err, &maxErr) {
		return problem.New(problem.TooLarge, "body_too_large", "",
			fmt.Sprintf("an import takes at most %d MiB; split the file (rows before the limit were imported: %d created, %d updated)",
				maxImport>>20, res.Created, res.Updated))
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

// exportContacts streams CSV; the filter is the list's.
func (s *Server) exportContacts(w http.ResponseWriter, r *http.Request, p account.Principal) error {
	q := r.URL.Query()
	f, err := contact.ParseFilter(q.Get("sms_preference"), q.Get("country"), q.Get("q"), "", "")
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="contacts.csv"`)
	if err := s.Contacts.Export(r.Context(), p.AccountID, f, w); err != nil {
		// The status line is gone; all that is left is to stop and log.
		s.Logger.ErrorContext(r.Context(), "export failed", "err", err, "account_id", p.AccountID)
	}
	return nil
}
