package message

import (
	"context"

	"github.com/heraldsms/herald/internal/id"
	"github.com/heraldsms/herald/internal/msgtemplate"
	"github.com/heraldsms/herald/internal/problem"
	"github.com/heraldsms/herald/internal/segment"
)

// SendTest queues a template's "Send Test" to the number its author typed.
// It goes through the real send path (the dispatcher, the carrier), skips
// consent (there is no contact, only the author's phone) and the monthly
// limit, and is marked kind "test" in every log.
func (s *Service) SendTest(ctx context.Context, t msgtemplate.TestSend) (string, error) {
	a, err := s.accounts.Get(ctx, t.AccountID)
	if err != nil {
		return "", err
	}
	if !a.SMSEnabled {
		return "", problem.Invalidf(ReasonSMSNotEnabled, "", "SMS is not enabled for this account; the operator enables it")
	}
	info := segment.Count(t.Body)
	m := &Message{ID: id.New(id.Message), AccountID: a.ID, To: t.To, Kind: Test, Body: t.Body,
		Encoding: string(info.Encoding), Segments: info.Segments}
	setOpt(&m.TemplateID, t.TemplateID)
	setOpt(&m.VersionID, t.VersionID)
	if err := s.pickNumber(ctx, a, m); err != nil {
		return "", err
	}
	if reason := Skip(a, Test, nil, false, phoneCountry(t.To)); reason != "" {
		return "", problem.Invalidf(reason, "to", "a test cannot go to %s: %s", t.To, reason)
	}
	m.Status = Queued
	s.log.Info("test send queued", "test", true, "message_id", m.ID, "template_id", t.TemplateID, "actor", t.Actor)
	if err := s.storeUnreserved(ctx, m); err != nil {
		return "", err
	}
	return m.ID, nil
}
