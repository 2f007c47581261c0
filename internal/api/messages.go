package api

import (
	"context"
	"net/http"
	"strings"

	"github.com/heraldsms/herald/internal/account"
	"github.com/heraldsms/herald/internal/message"
	"github.com/heraldsms/herald/internal/problem"
)

type sendRequest struct {
	ContactID  string         `json:"contact_id"`
	ExternalID string         `json:"external_id"`
	TemplateID string         `json:"template_id"`
	Kind       string         `json:"kind"`
	ProgramID  string         `json:"program_id"`
	Data       map[string]any `json:"data"`
}

// sendMessage is a developer's own send of an approved template to one
// contact. It answers 202: the message is stored and will be sent (or was
// skipped, with the reason on the message).
func (s *Server) sendMessage(w http.ResponseWriter, r *http.Request, p account.Principal) error {
	var in sendRequest
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	if in.ContactID != "" && in.ExternalID != "" {
		return problem.Invalidf("invalid_request", "external_id", "name the contact by contact_id or external_id, not both")
	}
	m, err := s.Messages.Create(r.Context(), p.AccountID, message.Request{
		ContactID: in.ContactID, ExternalID: in.ExternalID, TemplateID: in.TemplateID,
		Kind: message.Kind(in.Kind), ProgramID: in.ProgramID, Data: in.Data,
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, m)
	return nil
}

func (s *Server) listMessages(w http.ResponseWriter, r *http.Request, p account.Principal) error {
	f, err := message.ParseFilter(r.URL.Query().Get)
	if err != nil {
		return err
	}
	page, err := s.Messages.List(r.Context(), p.AccountID, f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, page)
	return nil
}

func (s *Server) getMessage(w http.ResponseWriter, r *http.Request, p account.Principal) error {
	m, err := s.Messages.Get(r.Context(), p.AccountID, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, m)
	return nil
}

// outcome is a message as the Communication Outcomes log shows it.
type outcome struct {
	MessageID    string  `json:"message_id"`
	Status       string  `json:"status"`
	Reason       string  `json:"reason,omitempty"`
	ErrorCode    string  `json:"error_code,omitempty"`
	ContactID    *string `json:"contact_id"`
	TemplateID   *string `json:"template_id"`
	AutomationID *string `json:"automation_id"`
	Step         *int    `json:"step"`
	EventID      *string `json:"event_id"`
	Kind         string  `json:"kind"`
	At           string  `json:"at"`
}

// listOutcomes is the Communication Outcomes log: each message as an
// outcome, with counts by outcome status for the whole filter.
func (s *Server) listOutcomes(w http.ResponseWriter, r *http.Request, p account.Principal) error {
	q := r.URL.Query()
	status := q.Get("status")
	if status != "" {
		statuses, err := statusesOfOutcome(status)
		if err != nil {
			return err
		}
		q.Set("status", statuses)
	}
	f, err := message.ParseFilter(q.Get)
	if err != nil {
		return err
	}
	page, err := s.Messages.List(r.Context(), p.AccountID, f)
	if err != nil {
		return err
	}
	counts, err := s.Messages.CountOutcomes(r.Context(), p.AccountID, f)
	if err != nil {
		return err
	}
	data := make([]outcome, len(page.Data))
	for i, m := range page.Data {
		data[i] = outcome{MessageID: m.ID, Status: message.OutcomeStatus(m.Status), Reason: m.Reason, ErrorCode: m.ErrorCode,
			ContactID:  m.ContactID,
			TemplateID: m.TemplateID, AutomationID: m.AutomationID, Step: m.Step, EventID: m.EventID, Kind: string(m.Kind),
			At: m.UpdatedAt.Format("2006-01-02T15:04:05.000000Z07:00")}
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": data, "counts": counts, "next_cursor": page.NextCursor})
	return nil
}

// statusesOfOutcome turns an outcome status into the message statuses it
// stands for, as a filter value.
func statusesOfOutcome(outcome string) (string, error) {
	sts := message.StatusesOfOutcome(outcome)
	if sts == nil {
		return "", problem.Invalidf("invalid_status", "status", "status must be one of %s",
			strings.Join(message.OutcomeStatuses, ", "))
	}
	list := make([]string, len(sts))
	for i, st := range sts {
		list[i] = string(st)
	}
	return strings.Join(list, ","), nil
}

func (s *Server) listLimitQueue(w http.ResponseWriter, r *http.Request, p account.Principal) error {
	q := r.URL.Query()
	q.Set("status", string(message.LimitQueued))
	f, err := message.ParseFilter(q.Get)
	if err != nil {
		return err
	}
	page, err := s.Messages.List(r.Context(), p.AccountID, f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, page)
	return nil
}

type queueRequest struct {
	IDs []string `json:"ids"`
	All bool     `json:"all"`
}

func (s *Server) releaseLimitQueue(w http.ResponseWriter, r *http.Request, p account.Principal) error {
	return s.actOnLimitQueue(w, r, p, s.Messages.ReleaseQueued)
}

func (s *Server) cancelLimitQueue(w http.ResponseWriter, r *http.Request, p account.Principal) error {
	return s.actOnLimitQueue(w, r, p, s.Messages.CancelQueued)
}

// actOnLimitQueue reads {"ids": [...]} or {"all": true} and applies act.
func (s *Server) actOnLimitQueue(w http.ResponseWriter, r *http.Request, p account.Principal,
	act func(ctx context.Context, accountID string, ids []string, all bool) (message.QueueResult, error)) error {
	var in queueRequest
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	res, err := act(r.Context(), p.AccountID, in.IDs, in.All)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

func (s *Server) getUsage(w http.ResponseWriter, r *http.Request, p account.Principal) error {
	a, err := s.Accounts.Get(r.Context(), p.AccountID)
	if err != nil {
		return err
	}
	u, err := s.Messages.UsageOf(r.Context(), a)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, u)
	return nil
}
