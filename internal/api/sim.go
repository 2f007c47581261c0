package api

import (
	"errors"
	"net/http"

	"github.com/heraldsms/herald/internal/account"
	"github.com/heraldsms/herald/internal/phone"
	"github.com/heraldsms/herald/internal/problem"
	"github.com/heraldsms/herald/internal/sim"
)

var errNoSim = problem.New(problem.NotFound, "simulator_off", "", "the built-in carrier simulator is not running (HERALD_SIMULATOR)")

// simInbox shows what a handset received from this account, so a developer
// can read their phone's texts without a phone. Only messages sent with the
// account's own sub-account are shown.
func (s *Server) simInbox(w http.ResponseWriter, r *http.Request, p account.Principal) error {
	if s.Sim == nil {
		return errNoSim
	}
	a, err := s.Accounts.Get(r.Context(), p.AccountID)
	if err != nil {
		return err
	}
	handset := r.URL.Query().Get("handset")
	if _, err := phone.ParseStrict(handset); err != nil {
		return problem.Invalidf("invalid_phone", "handset", "handset must be a number in +[country code][number] form")
	}
	out := []sim.Received{}
	if a.Twilio != nil {
		for _, m := range s.Sim.Inbox(handset) {
			if m.AccountSID == a.Twilio.AccountSID {
				out = append(out, m)
			}
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": out})
	return nil
}

type simReplyRequest struct {
	From string `json:"from"`
	To   string `json:"to"`
	Body string `json:"body"`
}

// simReply has a handset answer one of the account's numbers; the text
// reaches Herald as a signed inbound webhook, as a real reply would.
func (s *Server) simReply(w http.ResponseWriter, r *http.Request, p account.Principal) error {
	if s.Sim == nil {
		return errNoSim
	}
	var in simReplyRequest
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	if _, err := phone.ParseStrict(in.From); err != nil {
		return problem.Invalidf("invalid_phone", "from", "from must be a number in +[country code][number] form")
	}
	if len(in.Body) > 1600 {
		return problem.Invalidf("too_long", "body", "a text is at most 1600 characters")
	}
	nums, err := s.Accounts.Numbers(r.Context(), p.AccountID)
	if err != nil {
		return err
	}
	ours := false
	for _, n := range nums {
		ours = ours || n.Phone == in.To
	}
	if !ours {
		return problem.Invalidf("unknown_number", "to", "to must be one of this account's sender numbers")
	}
	if err := s.Sim.Reply(r.Context(), in.From, in.To, in.Body); err != nil {
		if errors.Is(err, sim.ErrUnknownSender) {
			return problem.Invalidf("unknown_number", "to", "the simulator has not seen this account send from %s yet", in.To)
		}
		return problem.New(problem.Unavailable, "reply_failed", "", err.Error())
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"status": "sent"})
	return nil
}
