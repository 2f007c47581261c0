package msgtemplate

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/heraldsms/herald/internal/id"
	"github.com/heraldsms/herald/internal/problem"
)

// action is a step of review, applied to a template's current version.
type action string

const (
	actionSubmit   action = "submit"
	actionApprove  action = "approve"
	actionReject   action = "reject"
	actionWithdraw action = "withdraw" // an edit or a delete replaces a version awaiting review
)

// transitions is the review state machine of a version. What is not listed
// is refused: approving a draft never submitted, submitting a version that
// is approved or was rejected unchanged (edit it, which makes a new
// version), deciding twice.
var transitions = map[Status]map[action]Status{
	StatusDraft:    {actionSubmit: StatusPending},
	StatusPending:  {actionApprove: StatusApproved, actionReject: StatusRejected, actionWithdraw: StatusDraft},
	StatusApproved: {},
	StatusRejected: {},
}

var outcomes = map[action]Outcome{
	actionSubmit: OutcomeSubmitted, actionApprove: OutcomeApproved,
	actionReject: OutcomeRejected, actionWithdraw: OutcomeWithdrawn,
}

// nextStatus applies an action to a status or explains the refusal.
func nextStatus(from Status, a action) (Status, error) {
	if to, ok := transitions[from][a]; ok {
		return to, nil
	}
	var hint string
	switch {
	case a == actionSubmit && from == StatusApproved:
		hint = "it is already approved; edit it to make a new version"
	case a == actionSubmit && from == StatusPending:
		hint = "it is already awaiting approval"
	case a == actionSubmit && from == StatusRejected:
		hint = "it was rejected; edit it to make a new version, then submit that"
	case from == StatusDraft:
		hint = "it has not been submitted for approval"
	default:
		hint = "it is " + strings.ReplaceAll(string(from), "_", " ")
	}
	e := problem.Conflictf(CodeInvalidStatusTransition, "status", "cannot %s this template version: %s", a, hint)
	e.Detail = map[string]any{"status": string(from), "action": string(a)}
	return "", e
}

// transition moves the template's current version through one review step
// and keeps the decision.
func (s *Service) transition(ctx context.Context, tx *sql.Tx, t *Template, a action, actor, reason string) error {
	to, err := nextStatus(t.Status, a)
	if err != nil {
		return err
	}
	now := s.clock.Now()
	if err := exec(ctx, tx, "set version status", setVersionStatus, t.AccountID, t.VersionID, string(to)); err != nil {
		return err
	}
	if a == actionApprove {
		err = exec(ctx, tx, "approve", setApproved, t.AccountID, t.ID, string(to), now, t.VersionID)
		t.ApprovedVersionID, t.ApprovedBody = t.VersionID, t.Body
	} else {
		err = exec(ctx, tx, "set status", setTemplateStatus, t.AccountID, t.ID, string(to), now)
	}
	if err != nil {
		return err
	}
	t.Status = to
	return insertDecision(ctx, tx, t.AccountID, t.ID, Decision{ID: id.New(id.Decision), VersionID: t.VersionID,
		Outcome: outcomes[a], Reason: reason, Actor: actor, DecidedAt: now})
}

// Submit asks for the current version to be approved. A template that
// breaks its kind's sending rules (a marketing message that does not name
// the sender or say how to opt out) is refused with the rule's code;
// warnings come back on the template and do not refuse.
func (s *Service) Submit(ctx context.Context, accountID, templateID, actor string) (Template, error) {
	a, err := s.accounts.Get(ctx, accountID)
	if err != nil {
		return Template{}, err
	}
	var warnings []Finding
	err = s.mutate(ctx, accountID, templateID, func(tx *sql.Tx, t *Template) error {
		if _, err := nextStatus(t.Status, actionSubmit); err != nil {
			return err
		}
		res := Check(t.Kind, t.Body, a.Brand())
		if !res.OK() {
			return complianceProblem(res)
		}
		warnings = res.Warnings
		return s.transition(ctx, tx, t, actionSubmit, actor, "")
	})
	if err != nil {
		return Template{}, err
	}
	t, err := s.Get(ctx, accountID, templateID)
	if err != nil {
		return Template{}, err
	}
	t.Warnings = warnings
	if t.Warnings == nil {
		t.Warnings = []Finding{}
	}
	return t, nil
}

func complianceProblem(res Result) error {
	first := res.Problems[0]
	e := problem.Invalidf(first.Code, "body", "%s", first.Message)
	problems, warnings := res.Problems, res.Warnings
	if warnings == nil {
		warnings = []Finding{}
	}
	e.Detail = map[string]any{"problems": problems, "warnings": warnings}
	return e
}

// Review is a decision on a version awaiting approval.
type Review struct {
	Approve bool
	Reason  string // required to reject
	Actor   string
	// Self is set when the account's own admin decides, which the account's
	// self_approval setting must allow; the operator decides for any account.
	Self bool
}

// Decide approves or rejects a template's version awaiting review.
// Approving makes it the version that is sent. The sending rules are
// checked again, since the brand may have changed since submission.
func (s *Service) Decide(ctx context.Context, accountID, templateID string, r Review) (Template, error) {
	a, err := s.accounts.Get(ctx, accountID)
	if err != nil {
		return Template{}, err
	}
	if r.Self && !a.SelfApproval {
		return Template{}, problem.New(problem.Forbidden, CodeSelfApprovalDisabled, "",
			"this account's templates are approved by the platform operator; self-approval is not enabled")
	}
	reason := strings.TrimSpace(r.Reason)
	if err := checkReason(reason, !r.Approve); err != nil {
		return Template{}, err
	}
	act := actionReject
	if r.Approve {
		act = actionApprove
	}
	err = s.mutate(ctx, accountID, templateID, func(tx *sql.Tx, t *Template) error {
		if _, err := nextStatus(t.Status, act); err != nil {
			return err
		}
		if r.Approve {
			if res := Check(t.Kind, t.Body, a.Brand()); !res.OK() {
				return complianceProblem(res)
			}
		}
		return s.transition(ctx, tx, t, act, r.Actor, reason)
	})
	if err != nil {
		return Template{}, err
	}
	return s.Get(ctx, accountID, templateID)
}

func checkReason(reason string, required bool) error {
	switch {
	case required && reason == "":
		return problem.Invalidf("required", "reason", "say why the template is rejected, so its author can fix it")
	case !utf8.ValidString(reason):
		return problem.Invalidf(CodeInvalidUTF8, "reason", "reason is not valid UTF-8")
	case len(reason) > maxReasonBytes:
		return problem.Invalidf("too_long", "reason", "reason is longer than %d bytes", maxReasonBytes)
	}
	return nil
}

// AccountOf returns the account a template belongs to, for the operator,
// who acts on templates of every account by id.
func (s *Service) AccountOf(ctx context.Context, templateID string) (string, error) {
	accountID, err := accountOf(ctx, s.db.Read(), templateID)
	return accountID, storeErr(err, templateID)
}

// Queue lists templates of every account, for the operator: by default
// those awaiting approval, oldest first.
func (s *Service) Queue(ctx context.Context, f Filter) (Page, error) {
	if f.Status == "" {
		f.Status = StatusPending
	}
	page, err := list(ctx, s.db.Read(), "", f)
	if err != nil {
		return Page{}, err
	}
	brands := map[string]string{}
	for i := range page.Data {
		t := &page.Data[i]
		brand, ok := brands[t.AccountID]
		if !ok {
			a, err := s.accounts.Get(ctx, t.AccountID)
			if err != nil {
				return Page{}, fmt.Errorf("msgtemplate: queue: %w", err)
			}
			brand = a.Brand()
			brands[t.AccountID] = brand
		}
		if err := s.present(t, brand); err != nil {
			return Page{}, err
		}
	}
	return page, nil
}
