package message

import (
	"context"

	"github.com/heraldsms/herald/internal/account"
	"github.com/heraldsms/herald/internal/problem"
)

// lookups fetches what rendering a message needs from other services, once
// per call: a batch of a promotion's messages shares one template, one
// program and one set of sender numbers, and would otherwise read each of
// them again for every message.
type lookups struct {
	s         *Service
	templates map[string]Template
	programs  map[string]account.Program
	numbers   []account.Number
	loaded    bool
}

// template returns the request's approved template version and the kind
// of message it makes.
func (lk *lookups) template(ctx context.Context, accountID string, r Request) (Template, Kind, error) {
	if r.TemplateID == "" {
		return Template{}, "", problem.Invalidf("required", "template_id", "template_id is required")
	}
	tpl, ok := lk.templates[r.TemplateID]
	if !ok {
		var err error
		if tpl, err = lk.s.templates.Approved(ctx, accountID, r.TemplateID); err != nil {
			return Template{}, "", err
		}
		if lk.templates == nil {
			lk.templates = map[string]Template{}
		}
		lk.templates[r.TemplateID] = tpl
	}
	kind := r.Kind
	if kind == "" {
		kind = tpl.Kind
	}
	if kind != Transactional && kind != Marketing {
		return Template{}, "", problem.Invalidf("invalid_kind", "kind", "kind must be transactional or marketing")
	}
	return tpl, kind, nil
}

func (lk *lookups) program(ctx context.Context, accountID, programID string) (account.Program, error) {
	if p, ok := lk.programs[programID]; ok {
		return p, nil
	}
	p, err := lk.s.accounts.GetProgram(ctx, accountID, programID)
	if err != nil {
		return p, err
	}
	if lk.programs == nil {
		lk.programs = map[string]account.Program{}
	}
	lk.programs[programID] = p
	return p, nil
}

// number chooses the sender number for the message's kind: the marketing
// number for marketing, the transactional one for the rest, or the one
// number that sends both.
func (lk *lookups) number(ctx context.Context, a account.Account, m *Message) error {
	if !lk.loaded {
		nums, err := lk.s.accounts.Numbers(ctx, a.ID)
		if err != nil {
			return err
		}
		lk.numbers, lk.loaded = nums, true
	}
	want := account.NumberTransactional
	if m.Kind == Marketing {
		want = account.NumberMarketing
	}
	for _, n := range lk.numbers {
		if n.Kind == want || n.Kind == account.NumberBoth {
			m.NumberID, m.From = &n.ID, n.Phone
			return nil
		}
	}
	return problem.Invalidf(ReasonNoSenderNumber, "", "the account has no %s sender number; the operator sets numbers up", want)
}
