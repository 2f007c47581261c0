package api

import (
	"net/http"
	"sort"
	"time"

	"github.com/heraldsms/herald/internal/account"
	"github.com/heraldsms/herald/internal/inbound"
	"github.com/heraldsms/herald/internal/message"
	"github.com/heraldsms/herald/internal/problem"
	"github.com/heraldsms/herald/internal/provider/twilio"
)

// twilioInbound takes a reply from a handset: checked, stored, classified
// and acted on, answered with TwiML (an empty <Response/> or a <Message>).
func (s *Server) twilioInbound(w http.ResponseWriter, r *http.Request, _ account.Principal) error {
	a, form, err := s.carrierAccount(w, r)
	if err != nil {
		return err
	}
	in, err := twilio.ParseInbound(form)
	if err != nil {
		return problem.Invalidf("invalid_inbound", "", "%v", err)
	}
	m, err := s.Inbound.Handle(r.Context(), a, inbound.Reply{CarrierID: in.MessageSid, From: in.From, To: in.To,
		Body: in.Body, CarrierHandled: in.OptOutType != ""})
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	return twilio.WriteTwiML(w, m.Reply)
}

func (s *Server) listInbound(w http.ResponseWriter, r *http.Request, p account.Principal) error {
	f, err := inbound.ParseFilter(r.URL.Query().Get)
	if err != nil {
		return err
	}
	page, err := s.Inbound.List(r.Context(), p.AccountID, f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, page)
	return nil
}

// turn is one line of a conversation: a message out or a reply in.
type turn struct {
	Direction string    `json:"direction"` // "out" or "in"
	ID        string    `json:"id"`
	Body      string    `json:"body"`
	Status    string    `json:"status,omitempty"`
	Intent    string    `json:"intent,omitempty"`
	Action    string    `json:"action,omitempty"`
	At        time.Time `json:"at"`
}

// conversation merges a contact's latest messages and replies, oldest
// first, with Herald's TwiML answers shown as messages out.
func (s *Server) conversation(w http.ResponseWriter, r *http.Request, p account.Principal) error {
	c, err := s.Contacts.Get(r.Context(), p.AccountID, r.PathValue("id"))
	if err != nil {
		return err
	}
	out, err := s.Messages.List(r.Context(), p.AccountID, message.Filter{ContactID: c.ID, NoticesTo: c.E164(), Limit: 100})
	if err != nil {
		return err
	}
	in, err := s.Inbound.List(r.Context(), p.AccountID, inbound.Filter{ContactID: c.ID, Limit: 100})
	if err != nil {
		return err
	}
	turns := make([]turn, 0, len(out.Data)+2*len(in.Data))
	for _, m := range out.Data {
		turns = append(turns, turn{Direction: "out", ID: m.ID, Body: m.Body, Status: string(m.Status), At: m.CreatedAt})
	}
	for _, m := range in.Data {
		turns = append(turns, turn{Direction: "in", ID: m.ID, Body: m.Body, Intent: m.Intent, Action: m.Action, At: m.ReceivedAt})
		if m.Reply != "" {
			turns = append(turns, turn{Direction: "out", ID: m.ID + "-reply", Body: m.Reply, Status: "sent", At: m.ReceivedAt})
		}
	}
	sort.SliceStable(turns, func(i, j int) bool { return turns[i].At.Before(turns[j].At) })
	writeJSON(w, http.StatusOK, map[string]any{"contact_id": c.ID, "data": turns})
	return nil
}

func (s *Server) getReplies(w http.ResponseWriter, r *http.Request, p account.Principal) error {
	rep, err := s.Accounts.Replies(r.Context(), p.AccountID)
	if err != nil {
		return err
	}
	a, err := s.Accounts.Get(r.Context(), p.AccountID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"settings": rep, "effective": rep.Effective(a.Brand())})
	return nil
}

func (s *Server) putReplies(w http.ResponseWriter, r *http.Request, p account.Principal) error {
	var in account.Replies
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	rep, err := s.Accounts.SetReplies(r.Context(), p.AccountID, in)
	if err != nil {
		return err
	}
	a, err := s.Accounts.Get(r.Context(), p.AccountID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"settings": rep, "effective": rep.Effective(a.Brand())})
	return nil
}
