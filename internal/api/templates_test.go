package api

import (
	"context"
	"net/http"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/heraldsms/herald/internal/account"
	"github.com/heraldsms/herald/internal/db"
	"github.com/heraldsms/herald/internal/db/dbtest"
	"github.com/heraldsms/herald/internal/msgtemplate"
	"github.com/heraldsms/herald/internal/problem"
)

// fakeTestSender records "Send Test" messages instead of sending them.
type fakeTestSender struct {
	mu   sync.Mutex
	sent []msgtemplate.TestSend
}

func (f *fakeTestSender) SendTest(_ context.Context, t msgtemplate.TestSend) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sent = append(f.sent, t)
	return "msg_test_" + t.VersionID, nil
}

func (f *fakeTestSender) calls() []msgtemplate.TestSend {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]msgtemplate.TestSend(nil), f.sent...)
}

const (
	apiRewardBody = "Hi {{first_name}}, your {{reward_amount}} reward is ready."
	apiEditedBody = "Hi {{first_name}}, your {{reward_amount}} reward is waiting!"
)

// createTemplate makes a transactional template through the API.
func (b *testBundle) createTemplate(key, body string) map[string]any {
	b.t.Helper()
	res := b.do("POST", "/api/v1/templates", key, map[string]any{"name": "Reward ready", "kind": "transactional", "body": body})
	require.Equal(b.t, http.StatusCreated, res.status, "%s", res.body)
	return res.json(b.t)
}

// call sends a request and requires a status, returning the JSON body.
func (b *testBundle) call(method, path, key string, body any, status int) map[string]any {
	b.t.Helper()
	res := b.do(method, path, key, body)
	require.Equal(b.t, status, res.status, "%s %s: %s", method, path, res.body)
	if len(res.body) == 0 {
		return nil
	}
	return res.json(b.t)
}

func (b *testBundle) refused(method, path, key string, body any, status int, code string) map[string]any {
	b.t.Helper()
	res := b.do(method, path, key, body)
	require.Equal(b.t, status, res.status, "%s %s: %s", method, path, res.body)
	require.Equal(b.t, code, res.errorCode(b.t), "%s %s", method, path)
	return res.json(b.t)["error"].(map[string]any)
}

func (b *testBundle) sendable(templateID string) (msgtemplate.Sendable, error) {
	return b.srv.Templates.Sendable(context.Background(), b.acct, templateID)
}

func (b *testBundle) allowSelfApproval() {
	b.call("PUT", "/api/v1/operator/accounts/"+b.acct, b.operator, map[string]any{"self_approval": true}, 200)
}

func requireCode(t *testing.T, err error, code string) {
	t.Helper()
	p, ok := problem.As(err)
	require.True(t, ok, "want %s, got %v", code, err)
	require.Equal(t, code, p.Code)
}

func TestTemplateLifecycle(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		b := setup(t, d)
		tpl := b.createTemplate(b.admin, apiRewardBody)
		id := tpl["id"].(string)
		base := "/api/v1/templates/" + id
		require.Equal(t, "draft", tpl["status"])
		require.Equal(t, "GSM-7", tpl["encoding"])
		require.EqualValues(t, 34, tpl["characters"], `"Hi Alex, your $25 reward is ready."`)
		require.EqualValues(t, 1, tpl["segments"])
		require.Equal(t, []any{"first_name", "reward_amount"}, tpl["merge_tags"])
		require.NotContains(t, tpl, "approved_version_id")
		_, err := b.sendable(id)
		requireCode(t, err, "template_not_approved")

		// Submit: into the operator's queue.
		got := b.call("POST", base+"/submit", b.admin, nil, 200)
		require.Equal(t, "pending_approval", got["status"])
		require.Equal(t, []any{}, got["warnings"])
		queue := b.call("GET", "/api/v1/operator/templates?status=pending_approval", b.operator, nil, 200)
		require.Len(t, queue["data"], 1)
		require.Equal(t, id, queue["data"].([]any)[0].(map[string]any)["id"])

		got = b.call("POST", "/api/v1/operator/templates/"+id+"/approve", b.operator, nil, 200)
		require.Equal(t, "approved", got["status"])
		require.Equal(t, tpl["version_id"], got["approved_version_id"])
		require.Empty(t, b.call("GET", "/api/v1/operator/templates", b.operator, nil, 200)["data"])
		s, err := b.sendable(id)
		require.NoError(t, err)
		require.Equal(t, apiRewardBody, s.Body)

		// Edit: a new draft; the approved body is still the one sent.
		got = b.call("PATCH", base, b.admin, map[string]any{"body": apiEditedBody}, 200)
		require.Equal(t, "draft", got["status"])
		require.EqualValues(t, 2, got["version"])
		require.Equal(t, apiRewardBody, got["approved_body"])
		s, err = b.sendable(id)
		require.NoError(t, err)
		require.Equal(t, apiRewardBody, s.Body, "the old approved body until the new one is approved")

		// Self-approval is off by default, then allowed.
		b.call("POST", base+"/submit", b.admin, nil, 200)
		b.refused("POST", base+"/approve", b.admin, nil, 403, "self_approval_disabled")
		b.allowSelfApproval()
		got = b.call("POST", base+"/approve", b.admin, map[string]any{"reason": "checked with legal"}, 200)
		require.Equal(t, "approved", got["status"])
		s, err = b.sendable(id)
		require.NoError(t, err)
		require.Equal(t, apiEditedBody, s.Body)

		// GET shows every version with its decisions.
		got = b.call("GET", base, b.admin, nil, 200)
		versions := got["versions"].([]any)
		require.Len(t, versions, 2)
		second := versions[1].(map[string]any)
		decisions := second["decisions"].([]any)
		require.Len(t, decisions, 2)
		last := decisions[1].(map[string]any)
		require.Equal(t, "approved", last["decision"])
		require.Equal(t, "checked with legal", last["reason"])
		require.Regexp(t, `^key:key_`, last["actor"])

		// Delete: archived, still readable, never sent again.
		b.call("DELETE", base, b.admin, nil, 204)
		_, err = b.sendable(id)
		requireCode(t, err, "template_not_approved")
		require.NotEmpty(t, b.call("GET", base, b.admin, nil, 200)["archived_at"])
		require.Empty(t, b.call("GET", "/api/v1/templates", b.admin, nil, 200)["data"])
		b.refused("PATCH", base, b.admin, map[string]any{"name": "again"}, 409, "template_archived")
		b.refused("DELETE", base, b.admin, nil, 409, "template_archived")
	})
}

func TestRefusedTemplateTransitions(t *testing.T) {
	t.Parallel()
	b := setupSQLite(t)
	b.allowSelfApproval()
	op := "/api/v1/operator/templates/"

	// Approving a draft that was never submitted.
	id := b.createTemplate(b.admin, apiRewardBody)["id"].(string)
	e := b.refused("POST", op+id+"/approve", b.operator, nil, 409, "invalid_status_transition")
	require.Equal(t, map[string]any{"status": "draft", "action": "approve"}, e["detail"])
	b.refused("POST", "/api/v1/templates/"+id+"/approve", b.admin, nil, 409, "invalid_status_transition")

	// Rejecting needs a reason; rejecting twice is refused; a rejected
	// template is not sent.
	b.call("POST", "/api/v1/templates/"+id+"/submit", b.admin, nil, 200)
	b.refused("POST", op+id+"/reject", b.operator, map[string]any{}, 422, "required")
	b.refused("POST", op+id+"/reject", b.operator, nil, 400, "empty_body")
	got := b.call("POST", op+id+"/reject", b.operator, map[string]any{"reason": "say who you are"}, 200)
	require.Equal(t, "rejected", got["status"])
	b.refused("POST", op+id+"/reject", b.operator, map[string]any{"reason": "again"}, 409, "invalid_status_transition")
	b.refused("POST", "/api/v1/templates/"+id+"/submit", b.admin, nil, 409, "invalid_status_transition")
	_, err := b.sendable(id)
	requireCode(t, err, "template_not_approved")

	// Submitting an approved, unchanged template.
	id = b.createTemplate(b.admin, apiRewardBody)["id"].(string)
	b.call("POST", "/api/v1/templates/"+id+"/submit", b.admin, nil, 200)
	b.call("POST", op+id+"/approve", b.operator, nil, 200)
	b.refused("POST", "/api/v1/templates/"+id+"/submit", b.admin, nil, 409, "invalid_status_transition")

	// Editing while pending withdraws the pending version to draft.
	b.call("PATCH", "/api/v1/templates/"+id, b.admin, map[string]any{"body": apiEditedBody}, 200)
	b.call("POST", "/api/v1/templates/"+id+"/submit", b.admin, nil, 200)
	got = b.call("PATCH", "/api/v1/templates/"+id, b.admin, map[string]any{"body": apiEditedBody + " Thanks!"}, 200)
	require.Equal(t, "draft", got["status"])
	require.EqualValues(t, 3, got["version"])
	withdrawn := got["versions"].([]any)[1].(map[string]any)
	require.Equal(t, "draft", withdrawn["status"])
	require.Equal(t, "withdrawn", withdrawn["decisions"].([]any)[1].(map[string]any)["decision"])
	b.refused("POST", op+id+"/approve", b.operator, nil, 409, "invalid_status_transition")
	s, err := b.sendable(id)
	require.NoError(t, err)
	require.Equal(t, apiRewardBody, s.Body, "version 1 is still the approved one")

	// Marketing that breaks the rules cannot be submitted.
	res := b.do("POST", "/api/v1/templates", b.admin, map[string]any{"name": "Sale", "kind": "marketing", "body": "Big sale today!"})
	require.Equal(t, 201, res.status)
	mid := res.json(t)["id"].(string)
	e = b.refused("POST", "/api/v1/templates/"+mid+"/submit", b.admin, nil, 422, "missing_sender_id")
	require.Len(t, e["detail"].(map[string]any)["problems"], 2)

	b.refused("POST", op+"tpl_nothing/approve", b.operator, nil, 404, "not_found")
}

func TestTemplateRoles(t *testing.T) {
	t.Parallel()
	b := setupSQLite(t)
	b.allowSelfApproval()
	viewer, editor := b.keyWithRole(account.RoleViewer), b.keyWithRole(account.RoleEditor)
	body := map[string]any{"name": "x", "kind": "transactional", "body": "Hi"}

	b.refused("POST", "/api/v1/templates", viewer, body, 403, "forbidden")
	b.refused("POST", "/api/v1/templates/preview", viewer, map[string]any{"body": "Hi", "kind": "transactional"}, 403, "forbidden")
	id := b.createTemplate(editor, apiRewardBody)["id"].(string)
	base := "/api/v1/templates/" + id
	b.call("GET", base, viewer, nil, 200)
	b.call("GET", "/api/v1/templates", viewer, nil, 200)
	b.call("GET", "/api/v1/template-gallery", viewer, nil, 200)
	b.refused("PATCH", base, viewer, map[string]any{"name": "y"}, 403, "forbidden")
	b.refused("POST", base+"/test", viewer, map[string]any{"to": "+17346263333"}, 403, "forbidden")
	b.call("POST", "/api/v1/templates/preview", editor, map[string]any{"body": "Hi", "kind": "transactional"}, 200)
	b.call("POST", base+"/test", editor, map[string]any{"to": "+17346263333"}, 202)
	b.call("POST", base+"/submit", editor, nil, 200)
	b.refused("POST", base+"/approve", editor, nil, 403, "forbidden")
	b.refused("POST", base+"/reject", editor, map[string]any{"reason": "x"}, 403, "forbidden")
	b.refused("POST", "/api/v1/operator/templates/"+id+"/approve", b.admin, nil, 403, "forbidden")
	b.refused("GET", "/api/v1/operator/templates", b.admin, nil, 403, "forbidden")
	b.refused("GET", base, b.operator, nil, 403, "operator_has_no_account")
	b.call("POST", base+"/approve", b.admin, nil, 200)
}

// Another account's template is not found on any route naming it, and
// nothing of it changes; the operator acts on it.
func TestAnotherAccountsTemplate(t *testing.T) {
	t.Parallel()
	b := setupSQLite(t)
	id := b.createTemplate(b.admin, apiRewardBody)["id"].(string)
	base := "/api/v1/templates/" + id
	_, other := b.newAccount("Other Co")
	b.refused("GET", base, other, nil, 404, "not_found")
	b.refused("PATCH", base, other, map[string]any{"body": "Hijacked"}, 404, "not_found")
	b.refused("DELETE", base, other, nil, 404, "not_found")
	b.refused("POST", base+"/submit", other, nil, 404, "not_found")
	b.refused("POST", base+"/approve", other, nil, 404, "not_found")
	b.refused("POST", base+"/reject", other, map[string]any{"reason": "x"}, 404, "not_found")
	b.refused("POST", base+"/test", other, map[string]any{"to": "+17346263333"}, 404, "not_found")
	require.Empty(t, b.sender.calls())
	got := b.call("GET", base, b.admin, nil, 200)
	require.Equal(t, apiRewardBody, got["body"])
	require.Equal(t, "draft", got["status"])
	require.Nil(t, got["archived_at"])

	b.call("POST", base+"/submit", b.admin, nil, 200)
	b.call("POST", "/api/v1/operator/templates/"+id+"/approve", b.operator, nil, 200)
	_, err := b.srv.Templates.Sendable(context.Background(), "acc_other", id)
	requireCode(t, err, "not_found")
}
