package msgtemplate_test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/heraldsms/herald/internal/account"
	"github.com/heraldsms/herald/internal/db"
	"github.com/heraldsms/herald/internal/db/dbtest"
	"github.com/heraldsms/herald/internal/msgtemplate"
	"github.com/heraldsms/herald/internal/problem"
)

// approve submits a template and approves it as the operator.
func approve(t *testing.T, b *testBundle, templateID string) {
	t.Helper()
	_, err := b.svc.Submit(b.ctx, b.acct, templateID, actor)
	require.NoError(t, err)
	_, err = b.svc.Decide(b.ctx, b.acct, templateID, msgtemplate.Review{Approve: true, Actor: "key:key_operator"})
	require.NoError(t, err)
}

// step applies one named review step to a template.
func step(b *testBundle, templateID, name string) (msgtemplate.Template, error) {
	switch name {
	case "submit":
		return b.svc.Submit(b.ctx, b.acct, templateID, actor)
	case "approve":
		return b.svc.Decide(b.ctx, b.acct, templateID, msgtemplate.Review{Approve: true, Actor: "key:key_operator"})
	case "reject":
		return b.svc.Decide(b.ctx, b.acct, templateID, msgtemplate.Review{Reason: "too pushy", Actor: "key:key_operator"})
	case "edit":
		return b.svc.Update(b.ctx, b.acct, templateID, msgtemplate.Change{Body: str(fmt.Sprintf("%s (edit %d)", rewardBody, b.edits.Add(1)))}, actor)
	case "delete":
		return msgtemplate.Template{}, b.svc.Archive(b.ctx, b.acct, templateID, actor)
	}
	panic("unknown step " + name)
}

func TestReviewStateMachine(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		before []string
		do     string
		status msgtemplate.Status // after do succeeds
		code   string             // do's refusal
	}{
		{"submit a draft", nil, "submit", msgtemplate.StatusPending, ""},
		{"approve a draft never submitted", nil, "approve", "", "invalid_status_transition"},
		{"reject a draft never submitted", nil, "reject", "", "invalid_status_transition"},
		{"submit twice", []string{"submit"}, "submit", "", "invalid_status_transition"},
		{"approve a pending version", []string{"submit"}, "approve", msgtemplate.StatusApproved, ""},
		{"reject a pending version", []string{"submit"}, "reject", msgtemplate.StatusRejected, ""},
		{"submit an approved unchanged template", []string{"submit", "approve"}, "submit", "", "invalid_status_transition"},
		{"approve twice", []string{"submit", "approve"}, "approve", "", "invalid_status_transition"},
		{"reject an approved version", []string{"submit", "approve"}, "reject", "", "invalid_status_transition"},
		{"reject twice", []string{"submit", "reject"}, "reject", "", "invalid_status_transition"},
		{"approve a rejected version", []string{"submit", "reject"}, "approve", "", "invalid_status_transition"},
		{"resubmit a rejected version unchanged", []string{"submit", "reject"}, "submit", "", "invalid_status_transition"},
		{"edit while pending withdraws to draft", []string{"submit"}, "edit", msgtemplate.StatusDraft, ""},
		{"approve after the pending version was withdrawn", []string{"submit", "edit"}, "approve", "", "invalid_status_transition"},
		{"edit an approved template", []string{"submit", "approve"}, "edit", msgtemplate.StatusDraft, ""},
		{"edit a rejected template, then submit", []string{"submit", "reject", "edit"}, "submit", msgtemplate.StatusPending, ""},
		{"submit a deleted template", []string{"delete"}, "submit", "", "template_archived"},
		{"approve a template deleted while pending", []string{"submit", "delete"}, "approve", "", "template_archived"},
		{"delete twice", []string{"delete"}, "delete", "", "template_archived"},
	}
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		b := setup(t, d)
		for _, tc := range cases {
			tpl := b.create(t, msgtemplate.KindTransactional, rewardBody)
			for _, s := range tc.before {
				_, err := step(b, tpl.ID, s)
				require.NoError(t, err, "%s: %s", tc.name, s)
			}
			got, err := step(b, tpl.ID, tc.do)
			if tc.code != "" {
				p, ok := problem.As(err)
				require.True(t, ok, "%s: want %s, got %v", tc.name, tc.code, err)
				require.Equal(t, tc.code, p.Code, tc.name)
				require.Equal(t, problem.Conflict, p.Kind, tc.name)
				continue
			}
			require.NoError(t, err, tc.name)
			require.Equal(t, tc.status, got.Status, tc.name)
		}
	})
}

func TestEveryDecisionIsKept(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		b := setup(t, d)
		tpl := b.create(t, msgtemplate.KindTransactional, rewardBody)
		for _, s := range []string{"submit", "reject", "edit", "submit", "edit", "submit", "approve"} {
			_, err := step(b, tpl.ID, s)
			require.NoError(t, err, s)
		}
		got, err := b.svc.Get(b.ctx, b.acct, tpl.ID)
		require.NoError(t, err)
		require.Len(t, got.Versions, 3)
		outcomes := func(v msgtemplate.Version) []msgtemplate.Outcome {
			var out []msgtemplate.Outcome
			for _, d := range v.Decisions {
				require.Equal(t, v.ID, d.VersionID)
				require.Equal(t, b.clock.Now(), d.DecidedAt)
				out = append(out, d.Outcome)
			}
			return out
		}
		require.Equal(t, []msgtemplate.Outcome{"submitted", "rejected"}, outcomes(got.Versions[0]))
		require.Equal(t, "too pushy", got.Versions[0].Decisions[1].Reason)
		require.Equal(t, "key:key_operator", got.Versions[0].Decisions[1].Actor)
		require.Equal(t, actor, got.Versions[0].Decisions[0].Actor)
		require.Equal(t, msgtemplate.StatusRejected, got.Versions[0].Status)
		require.Equal(t, []msgtemplate.Outcome{"submitted", "withdrawn"}, outcomes(got.Versions[1]))
		require.Equal(t, msgtemplate.StatusDraft, got.Versions[1].Status, "a withdrawn version is a draft again")
		require.Equal(t, []msgtemplate.Outcome{"submitted", "approved"}, outcomes(got.Versions[2]))
		require.Equal(t, got.Versions[2].ID, got.ApprovedVersionID)
	})
}

func TestRejectNeedsAReason(t *testing.T) {
	t.Parallel()
	b := setup(t, dbtest.New(t, db.SQLite))
	tpl := b.create(t, msgtemplate.KindTransactional, rewardBody)
	_, err := b.svc.Submit(b.ctx, b.acct, tpl.ID, actor)
	require.NoError(t, err)
	_, err = b.svc.Decide(b.ctx, b.acct, tpl.ID, msgtemplate.Review{Reason: "  ", Actor: "operator"})
	p := requireProblem(t, err, problem.Invalid, "required")
	require.Equal(t, "reason", p.Field)
	got, err := b.svc.Get(b.ctx, b.acct, tpl.ID)
	require.NoError(t, err)
	require.Equal(t, msgtemplate.StatusPending, got.Status)
}

func TestSelfApprovalFollowsTheAccountSetting(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		b := setup(t, d)
		tpl := b.create(t, msgtemplate.KindTransactional, rewardBody)
		_, err := b.svc.Submit(b.ctx, b.acct, tpl.ID, actor)
		require.NoError(t, err)
		self := msgtemplate.Review{Approve: true, Actor: "key:key_admin", Self: true}
		_, err = b.svc.Decide(b.ctx, b.acct, tpl.ID, self)
		requireProblem(t, err, problem.Forbidden, "self_approval_disabled")

		on := true
		_, err = b.accounts.Configure(b.ctx, b.acct, account.Setup{SelfApproval: &on})
		require.NoError(t, err)
		got, err := b.svc.Decide(b.ctx, b.acct, tpl.ID, self)
		require.NoError(t, err)
		require.Equal(t, msgtemplate.StatusApproved, got.Status)
		require.Equal(t, "key:key_admin", got.Versions[0].Decisions[1].Actor)
	})
}

func TestSubmitAppliesTheSendingRules(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		b := setup(t, d)
		bad := b.create(t, msgtemplate.KindMarketing, "Double points this week, {{first_name}}!")
		_, err := b.svc.Submit(b.ctx, b.acct, bad.ID, actor)
		p := requireProblem(t, err, problem.Invalid, "missing_sender_id")
		require.Len(t, p.Detail["problems"], 2, "both problems are listed")
		noStop := b.create(t, msgtemplate.KindMarketing, "Acme Coffee: Double points this week!")
		_, err = b.svc.Submit(b.ctx, b.acct, noStop.ID, actor)
		requireProblem(t, err, problem.Invalid, "missing_opt_out")
		got, err := b.svc.Get(b.ctx, b.acct, noStop.ID)
		require.NoError(t, err)
		require.Equal(t, msgtemplate.StatusDraft, got.Status, "a refused submit changes nothing")

		// The same text is fine as a transactional message.
		tx := b.create(t, msgtemplate.KindTransactional, "Double points this week, {{first_name}}!")
		_, err = b.svc.Submit(b.ctx, b.acct, tx.ID, actor)
		require.NoError(t, err)

		// A warning is returned and does not refuse.
		warned := b.create(t, msgtemplate.KindMarketing, marketingBody+" https://bit.ly/x")
		got, err = b.svc.Submit(b.ctx, b.acct, warned.ID, actor)
		require.NoError(t, err)
		require.Equal(t, msgtemplate.StatusPending, got.Status)
		require.Len(t, got.Warnings, 1)
		require.Equal(t, "third_party_shortener", got.Warnings[0].Code)
	})
}

func TestOperatorQueueSpansAccounts(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		b := setup(t, d)
		mine := b.create(t, msgtemplate.KindTransactional, rewardBody)
		_, err := b.svc.Submit(b.ctx, b.acct, mine.ID, actor)
		require.NoError(t, err)
		b.create(t, msgtemplate.KindTransactional, rewardBody) // a draft: not in the queue
		other, _, err := b.accounts.CreateAccount(b.ctx, account.NewAccount{Name: "Beta"})
		require.NoError(t, err)
		theirs, err := b.svc.Create(b.ctx, other.ID, msgtemplate.NewTemplate{Name: "t", Kind: "transactional", Body: "Hi {{brand}}"}, actor)
		require.NoError(t, err)
		_, err = b.svc.Submit(b.ctx, other.ID, theirs.ID, actor)
		require.NoError(t, err)

		page, err := b.svc.Queue(b.ctx, msgtemplate.Filter{})
		require.NoError(t, err)
		require.Len(t, page.Data, 2)
		require.Equal(t, mine.ID, page.Data[0].ID)
		require.Equal(t, b.acct, page.Data[0].AccountID)
		require.Equal(t, other.ID, page.Data[1].AccountID)
		require.Equal(t, len("Hi Beta"), page.Data[1].Characters, "measured with each account's brand")

		acct, err := b.svc.AccountOf(b.ctx, theirs.ID)
		require.NoError(t, err)
		require.Equal(t, other.ID, acct)
		_, err = b.svc.AccountOf(b.ctx, "tpl_nothing")
		requireProblem(t, err, problem.NotFound, "not_found")
	})
}

// Two reviewers deciding at once: one wins, the other is told the version
// is no longer pending, and exactly one decision is kept.
func TestConcurrentDecisionsTakeTurns(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		b := setup(t, d)
		tpl := b.create(t, msgtemplate.KindTransactional, rewardBody)
		_, err := b.svc.Submit(b.ctx, b.acct, tpl.ID, actor)
		require.NoError(t, err)
		var wg sync.WaitGroup
		errs := make([]error, 8)
		for i := range errs {
			wg.Go(func() {
				_, errs[i] = b.svc.Decide(b.ctx, b.acct, tpl.ID, msgtemplate.Review{Approve: i%2 == 0, Reason: "no", Actor: "operator"})
			})
		}
		wg.Wait()
		wins := 0
		for _, err := range errs {
			if err == nil {
				wins++
				continue
			}
			requireProblem(t, err, problem.Conflict, "invalid_status_transition")
		}
		require.Equal(t, 1, wins)
		got, err := b.svc.Get(b.ctx, b.acct, tpl.ID)
		require.NoError(t, err)
		require.Len(t, got.Versions[0].Decisions, 2, "submitted, then one decision")
	})
}

// An edit that changes neither body nor kind makes no version and leaves a
// pending version in review.
func TestNoOpEditKeepsTheReview(t *testing.T) {
	t.Parallel()
	b := setup(t, dbtest.New(t, db.SQLite))
	tpl := b.create(t, msgtemplate.KindTransactional, rewardBody)
	_, err := b.svc.Submit(b.ctx, b.acct, tpl.ID, actor)
	require.NoError(t, err)
	got, err := b.svc.Update(b.ctx, b.acct, tpl.ID, msgtemplate.Change{Body: str(rewardBody), Kind: str("transactional")}, actor)
	require.NoError(t, err)
	require.Equal(t, msgtemplate.StatusPending, got.Status)
	require.Equal(t, 1, got.Version)
	got, err = b.svc.Update(b.ctx, b.acct, tpl.ID, msgtemplate.Change{Name: str("Renamed while pending")}, actor)
	require.NoError(t, err)
	require.Equal(t, msgtemplate.StatusPending, got.Status, "a name is not reviewed")
	require.Equal(t, "Renamed while pending", got.Name)
}
