package msgtemplate_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldsms/herald/internal/account"
	"github.com/heraldsms/herald/internal/clock"
	"github.com/heraldsms/herald/internal/db"
	"github.com/heraldsms/herald/internal/db/dbtest"
	"github.com/heraldsms/herald/internal/msgtemplate"
	"github.com/heraldsms/herald/internal/problem"
)

// fakeSender records the test sends it is asked for.
type fakeSender struct {
	mu   sync.Mutex
	sent []msgtemplate.TestSend
	err  error
}

func (f *fakeSender) SendTest(_ context.Context, t msgtemplate.TestSend) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return "", f.err
	}
	f.sent = append(f.sent, t)
	return "msg_fake" + string(rune('a'+len(f.sent))), nil
}

func (f *fakeSender) calls() []msgtemplate.TestSend {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]msgtemplate.TestSend(nil), f.sent...)
}

type testBundle struct {
	ctx      context.Context
	db       *db.DB
	clock    *clock.Fake
	accounts *account.Store
	sender   *fakeSender
	logs     *syncBuffer
	svc      *msgtemplate.Service
	acct     string
	edits    atomic.Int64 // makes each edit's body differ
}

// syncBuffer is a log sink that parallel handlers may share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func setup(t *testing.T, d *db.DB) *testBundle {
	t.Helper()
	c := clock.NewFake(time.Date(2026, 5, 1, 15, 0, 0, 0, time.UTC))
	accounts := account.NewStore(d, c)
	a, _, err := accounts.CreateAccount(context.Background(), account.NewAccount{Name: "Acme", BrandName: "Acme Coffee"})
	require.NoError(t, err)
	b := &testBundle{ctx: context.Background(), db: d, clock: c, accounts: accounts, sender: &fakeSender{},
		logs: &syncBuffer{}, acct: a.ID}
	b.svc = msgtemplate.NewService(d, c, accounts, b.sender, slog.New(slog.NewJSONHandler(b.logs, nil)))
	return b
}

const (
	rewardBody    = "Hi {{first_name}}, your {{reward_amount}} reward is ready."
	marketingBody = "{{brand}}: Double points this week! Reply STOP to opt out."
	actor         = "key:key_test"
)

func (b *testBundle) create(t *testing.T, kind msgtemplate.Kind, body string) msgtemplate.Template {
	t.Helper()
	tpl, err := b.svc.Create(b.ctx, b.acct, msgtemplate.NewTemplate{Name: "Reward ready", Kind: string(kind), Body: body}, actor)
	require.NoError(t, err)
	return tpl
}

func requireProblem(t *testing.T, err error, kind problem.Kind, code string) *problem.Error {
	t.Helper()
	p, ok := problem.As(err)
	require.True(t, ok, "want a problem %s, got %v", code, err)
	require.Equal(t, code, p.Code, "message: %s", p.Message)
	require.Equal(t, kind, p.Kind)
	return p
}

func str(s string) *string { return &s }

func TestCreateMeasuresWithSampleValues(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		b := setup(t, d)
		tpl := b.create(t, msgtemplate.KindTransactional, rewardBody)
		require.Equal(t, msgtemplate.StatusDraft, tpl.Status)
		require.Equal(t, 1, tpl.Version)
		require.Equal(t, rewardBody, tpl.Body)
		// "Hi Alex, your $25 reward is ready." counted by hand: 34 GSM-7
		// characters ('$' is in the default alphabet), one segment.
		require.Equal(t, "GSM-7", string(tpl.Encoding))
		require.Equal(t, 34, tpl.Characters)
		require.Equal(t, 1, tpl.Segments)
		require.Equal(t, []string{"first_name", "reward_amount"}, tpl.MergeTags)
		require.Empty(t, tpl.ApprovedVersionID)
		require.Equal(t, b.clock.Now(), tpl.CreatedAt)
		require.Len(t, tpl.Versions, 1)
		require.Equal(t, actor, tpl.Versions[0].CreatedBy)
		require.Empty(t, tpl.Versions[0].Decisions)

		got, err := b.svc.Get(b.ctx, b.acct, tpl.ID)
		require.NoError(t, err)
		require.Equal(t, tpl, got)

		// The brand tag measures as the account's brand, not the sample.
		branded := b.create(t, msgtemplate.KindMarketing, marketingBody)
		require.Equal(t, len("Acme Coffee: Double points this week! Reply STOP to opt out."), branded.Characters)
	})
}

func TestBodyRules(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		b := setup(t, d)
		cases := []struct {
			name, kind, body, code, field string
		}{
			{"empty body", "transactional", "", "required", "body"},
			{"blank body", "transactional", " \n\t", "required", "body"},
			{"missing kind", "", "Hi", "required", "kind"},
			{"wrong kind", "promotional", "Hi", "invalid_kind", "kind"},
			{"invalid UTF-8", "transactional", "Hi \xff there", "invalid_utf8", "body"},
			{"1,601 characters", "transactional", strings.Repeat("a", 1601), "body_too_long", "body"},
			{"11 GSM-7 segments", "transactional", strings.Repeat("a", 10*153+1), "body_too_many_segments", "body"},
			{"11 UCS-2 segments", "transactional", strings.Repeat("ж", 10*67+1), "body_too_many_segments", "body"},
			// 60 tags are 1,020 characters as written and 1,860 with the
			// 31-character sample link: the rendered message is what counts.
			{"too long once rendered", "transactional", strings.Repeat("{{referral_link}}", 60), "body_too_long", "body"},
			{"unknown tag", "transactional", "Hi {{frist_name}}", "unknown_merge_tag", "body"},
			{"malformed tag", "transactional", "Hi {{first_name}", "malformed_merge_tag", "body"},
		}
		for _, tc := range cases {
			_, err := b.svc.Create(b.ctx, b.acct, msgtemplate.NewTemplate{Name: "x", Kind: tc.kind, Body: tc.body}, actor)
			p := requireProblem(t, err, problem.Invalid, tc.code)
			require.Equal(t, tc.field, p.Field, tc.name)
		}
		// At the limits exactly, a body is taken.
		b.create(t, msgtemplate.KindTransactional, strings.Repeat("a", 10*153))
		b.create(t, msgtemplate.KindTransactional, strings.Repeat("ж", 10*67))

		_, err := b.svc.Create(b.ctx, b.acct, msgtemplate.NewTemplate{Name: " ", Kind: "transactional", Body: "Hi"}, actor)
		requireProblem(t, err, problem.Invalid, "required")
		page, err := b.svc.List(b.ctx, b.acct, msgtemplate.Filter{})
		require.NoError(t, err)
		require.Len(t, page.Data, 2, "no refused body was saved")
	})
}

func TestTagErrorsCarryEveryPosition(t *testing.T) {
	t.Parallel()
	b := setup(t, dbtest.New(t, db.SQLite))
	// "Hi " puts the first tag at offset 3; the second starts after
	// "{{frist_name}}, é " — byte 22, rune 21, since é is two bytes.
	_, err := b.svc.Create(b.ctx, b.acct, msgtemplate.NewTemplate{Name: "x", Kind: "transactional",
		Body: `Hi {{frist_name}}, é {{first_name | nope: "x"}}`}, actor)
	p := requireProblem(t, err, problem.Invalid, "unknown_merge_tag")
	require.Contains(t, p.Message, `did you mean "first_name"`)
	require.Equal(t, 3, p.Detail["position"])
	all := p.Detail["errors"].([]map[string]any)
	require.Len(t, all, 2)
	require.Equal(t, "malformed_merge_tag", all[1]["code"])
	require.Equal(t, 22, all[1]["offset"])
	require.Equal(t, 21, all[1]["position"])
}

func TestEditingApprovedKeepsSendingTheApprovedVersion(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		b := setup(t, d)
		tpl := b.create(t, msgtemplate.KindTransactional, rewardBody)
		approve(t, b, tpl.ID)
		sendable, err := b.svc.Sendable(b.ctx, b.acct, tpl.ID)
		require.NoError(t, err)
		require.Equal(t, rewardBody, sendable.Body)

		newBody := "Hi {{first_name}}, your {{reward_amount}} reward is waiting!"
		edited, err := b.svc.Update(b.ctx, b.acct, tpl.ID, msgtemplate.Change{Body: str(newBody)}, actor)
		require.NoError(t, err)
		require.Equal(t, msgtemplate.StatusDraft, edited.Status)
		require.Equal(t, 2, edited.Version)
		require.Equal(t, newBody, edited.Body)
		require.Equal(t, tpl.VersionID, edited.ApprovedVersionID)
		require.Equal(t, rewardBody, edited.ApprovedBody)

		sendable, err = b.svc.Sendable(b.ctx, b.acct, tpl.ID)
		require.NoError(t, err)
		require.Equal(t, rewardBody, sendable.Body, "the old approved body is still sent")
		require.Equal(t, tpl.VersionID, sendable.VersionID)
		current, err := b.svc.CurrentVersion(b.ctx, b.acct, tpl.ID)
		require.NoError(t, err)
		require.Equal(t, newBody, current.Body)

		approve(t, b, tpl.ID)
		sendable, err = b.svc.Sendable(b.ctx, b.acct, tpl.ID)
		require.NoError(t, err)
		require.Equal(t, newBody, sendable.Body)
		again, err := b.svc.Sendable(b.ctx, b.acct, tpl.ID)
		require.NoError(t, err)
		require.Same(t, sendable.Compiled, again.Compiled, "a compiled version is cached")

		// A rename alone makes no version; a kind change does.
		renamed, err := b.svc.Update(b.ctx, b.acct, tpl.ID, msgtemplate.Change{Name: str("Renamed")}, actor)
		require.NoError(t, err)
		require.Equal(t, msgtemplate.StatusApproved, renamed.Status)
		require.Equal(t, 2, renamed.Version)
		rekind, err := b.svc.Update(b.ctx, b.acct, tpl.ID, msgtemplate.Change{Kind: str("marketing")}, actor)
		require.NoError(t, err)
		require.Equal(t, 3, rekind.Version)
		require.Equal(t, msgtemplate.KindMarketing, rekind.Kind)
		sendable, err = b.svc.Sendable(b.ctx, b.acct, tpl.ID)
		require.NoError(t, err)
		require.Equal(t, msgtemplate.KindTransactional, sendable.Kind, "the approved version keeps its kind")
	})
}

func TestSendableRefusals(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		b := setup(t, d)
		draft := b.create(t, msgtemplate.KindTransactional, rewardBody)
		_, err := b.svc.Sendable(b.ctx, b.acct, draft.ID)
		requireProblem(t, err, problem.Invalid, "template_not_approved")

		rejected := b.create(t, msgtemplate.KindTransactional, rewardBody)
		_, err = b.svc.Submit(b.ctx, b.acct, rejected.ID, actor)
		require.NoError(t, err)
		_, err = b.svc.Decide(b.ctx, b.acct, rejected.ID, msgtemplate.Review{Reason: "tone", Actor: "operator"})
		require.NoError(t, err)
		_, err = b.svc.Sendable(b.ctx, b.acct, rejected.ID)
		requireProblem(t, err, problem.Invalid, "template_not_approved")

		deleted := b.create(t, msgtemplate.KindTransactional, rewardBody)
		approve(t, b, deleted.ID)
		require.NoError(t, b.svc.Archive(b.ctx, b.acct, deleted.ID, actor))
		_, err = b.svc.Sendable(b.ctx, b.acct, deleted.ID)
		requireProblem(t, err, problem.Invalid, "template_not_approved")
		_, err = b.svc.CurrentVersion(b.ctx, b.acct, deleted.ID)
		requireProblem(t, err, problem.Conflict, "template_archived")
		_, err = b.svc.Update(b.ctx, b.acct, deleted.ID, msgtemplate.Change{Name: str("again")}, actor)
		requireProblem(t, err, problem.Conflict, "template_archived")
		got, err := b.svc.Get(b.ctx, b.acct, deleted.ID)
		require.NoError(t, err, "a deleted template is still found, for message history")
		require.NotNil(t, got.ArchivedAt)
		page, err := b.svc.List(b.ctx, b.acct, msgtemplate.Filter{})
		require.NoError(t, err)
		require.Len(t, page.Data, 2, "but it is no longer listed")

		_, err = b.svc.Sendable(b.ctx, b.acct, "tpl_nothing")
		requireProblem(t, err, problem.NotFound, "not_found")
		other, _, err := b.accounts.CreateAccount(b.ctx, account.NewAccount{Name: "Other"})
		require.NoError(t, err)
		_, err = b.svc.Sendable(b.ctx, other.ID, draft.ID)
		requireProblem(t, err, problem.NotFound, "not_found")
	})
}

func TestListFiltersAndPages(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		b := setup(t, d)
		var ids []string
		for range 3 {
			ids = append(ids, b.create(t, msgtemplate.KindTransactional, rewardBody).ID)
		}
		ids = append(ids, b.create(t, msgtemplate.KindMarketing, marketingBody).ID)
		_, err := b.svc.Submit(b.ctx, b.acct, ids[3], actor)
		require.NoError(t, err)

		page, err := b.svc.List(b.ctx, b.acct, msgtemplate.Filter{Limit: 2})
		require.NoError(t, err)
		require.Equal(t, ids[:2], []string{page.Data[0].ID, page.Data[1].ID})
		f, err := msgtemplate.ParseFilter("", "", page.NextCursor, "2")
		require.NoError(t, err)
		page, err = b.svc.List(b.ctx, b.acct, f)
		require.NoError(t, err)
		require.Equal(t, ids[2:], []string{page.Data[0].ID, page.Data[1].ID})
		require.Empty(t, page.NextCursor)

		f, err = msgtemplate.ParseFilter("pending_approval", "marketing", "", "")
		require.NoError(t, err)
		page, err = b.svc.List(b.ctx, b.acct, f)
		require.NoError(t, err)
		require.Len(t, page.Data, 1)
		require.Equal(t, ids[3], page.Data[0].ID)

		_, err = msgtemplate.ParseFilter("sent", "", "", "")
		requireProblem(t, err, problem.Invalid, "invalid_status")
		_, err = msgtemplate.ParseFilter("", "promo", "", "")
		requireProblem(t, err, problem.Invalid, "invalid_kind")
		_, err = msgtemplate.ParseFilter("", "", "!!", "")
		requireProblem(t, err, problem.Invalid, "invalid_cursor")
	})
}
