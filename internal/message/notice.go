package message

import (
	"context"

	"github.com/heraldsms/herald/internal/id"
	"github.com/heraldsms/herald/internal/problem"
	"github.com/heraldsms/herald/internal/segment"
)

// Notice is a text Herald writes itself, not from a template, to a number
// that has just asked for it, such as a double opt-in's "Reply Y to confirm".
type Notice struct {
	AccountID string
	ProgramID string
	To        string // E.164
	Body      string
}

// SendNotice queues a notice through the normal send path. It is
// transactional: it leaves from the transactional number, ahead of
// marketing, and counts against the monthly limit like any transactional
// message. It names no contact on purpose: its recipient has not opted in
// yet (the notice asks them to), so only the account and country rules
// apply, at creation and again before sending.
func (s *Service) SendNotice(ctx context.Context, n Notice) (*Message, error) {
	a, err := s.accounts.Get(ctx, n.AccountID)
	if err != nil {
		return nil, err
	}
	if !a.SMSEnabled {
		return nil, problem.Invalidf(ReasonSMSNotEnabled, "", "SMS is not enabled for this account; the operator enables it")
	}
	info := segment.Count(n.Body)
	m := &Message{ID: id.New(id.Message), AccountID: a.ID, To: n.To, Kind: Transactional, Body: n.Body,
		Encoding: string(info.Encoding), Segments: info.Segments}
	setOpt(&m.ProgramID, n.ProgramID)
	if err := s.pickNumber(ctx, a, m); err != nil {
		return nil, err
	}
	if reason := Skip(a, Transactional, nil, false, phoneCountry(n.To)); reason != "" {
		m.Status, m.Reason = Skipped, reason
	}
	if err := s.store(ctx, a, m); err != nil {
		return nil, err
	}
	return m, nil
}
