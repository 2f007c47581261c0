package api

import (
	"net/http"
	"strconv"

	"github.com/heraldsms/herald/internal/account"
	"github.com/heraldsms/herald/internal/msgtemplate"
	"github.com/heraldsms/herald/internal/problem"
)

// submitTemplate asks for the current version to be approved. It takes no
// body; the response's warnings are compliance findings that do not refuse.
func (s *Server) submitTemplate(w http.ResponseWriter, r *http.Request, p account.Principal) error {
	id, err := s.templateID(r, p)
	if err != nil {
		return err
	}
	if err := decodeText(w, r, &struct{}{}, true); err != nil {
		return err
	}
	t, err := s.Templates.Submit(r.Context(), p.AccountID, id, p.Actor())
	if err != nil {
		return err
	}
	// Here warnings are always shown, as a list even when empty.
	writeJSON(w, http.StatusOK, struct {
		msgtemplate.Template
		Warnings []msgtemplate.Finding `json:"warnings"`
	}{t, t.Warnings})
	return nil
}

type reviewRequest struct {
	Reason string `json:"reason"`
}

// decide approves or rejects. self is true on the account's own routes,
// where the account's self_approval setting must allow it.
func (s *Server) decide(w http.ResponseWriter, r *http.Request, p account.Principal, accountID string, approve, self bool) error {
	var in reviewRequest
	if err := decodeText(w, r, &in, approve); err != nil {
		return err
	}
	t, err := s.Templates.Decide(r.Context(), accountID, r.PathValue("id"),
		msgtemplate.Review{Approve: approve, Reason: in.Reason, Actor: p.Actor(), Self: self})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, t)
	return nil
}

func (s *Server) approveOwnTemplate(w http.ResponseWriter, r *http.Request, p account.Principal) error {
	if _, err := s.templateID(r, p); err != nil {
		return err
	}
	return s.decide(w, r, p, p.AccountID, true, true)
}

func (s *Server) rejectOwnTemplate(w http.ResponseWriter, r *http.Request, p account.Principal) error {
	if _, err := s.templateID(r, p); err != nil {
		return err
	}
	return s.decide(w, r, p, p.AccountID, false, true)
}

func (s *Server) approveTemplate(w http.ResponseWriter, r *http.Request, p account.Principal) error {
	accountID, err := s.Templates.AccountOf(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return s.decide(w, r, p, accountID, true, false)
}

func (s *Server) rejectTemplate(w http.ResponseWriter, r *http.Request, p account.Principal) error {
	accountID, err := s.Templates.AccountOf(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return s.decide(w, r, p, accountID, false, false)
}

// templateQueue lists templates of every account by status, awaiting
// approval unless another status is asked for.
func (s *Server) templateQueue(w http.ResponseWriter, r *http.Request, _ account.Principal) error {
	q := r.URL.Query()
	f, err := msgtemplate.ParseFilter(q.Get("status"), q.Get("kind"), q.Get("cursor"), q.Get("limit"))
	if err != nil {
		return err
	}
	page, err := s.Templates.Queue(r.Context(), f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, page)
	return nil
}

// sendTestTemplate sends the current version, approved or not, to one
// number, and answers 202 with the kept record.
func (s *Server) sendTestTemplate(w http.ResponseWriter, r *http.Request, p account.Principal) error {
	id, err := s.templateID(r, p)
	if err != nil {
		return err
	}
	var in msgtemplate.TestInput
	if err := decodeText(w, r, &in, false); err != nil {
		return err
	}
	rec, err := s.Templates.SendTest(r.Context(), p.AccountID, id, in, p.Actor())
	if pe, ok := problem.As(err); ok && pe.Code == msgtemplate.CodeRateLimited {
		if secs, ok := pe.Detail["retry_after_seconds"].(int); ok {
			w.Header().Set("Retry-After", strconv.Itoa(secs))
		}
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, rec)
	return nil
}
