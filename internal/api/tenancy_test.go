package api

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/heraldsms/herald/internal/db"
	"github.com/heraldsms/herald/internal/db/dbtest"
)

// tenantFixture is one account's data, made through the API, with the ids
// each {id} route needs.
type tenantFixture struct {
	ids     map[string]string // path prefix → an id of that kind
	secrets []string          // strings that must never appear in another account's answers
}

func makeTenantData(t *testing.T, b *testBundle) tenantFixture {
	t.Helper()
	f := tenantFixture{ids: map[string]string{}}
	res := b.do("POST", "/api/v1/programs", b.admin, map[string]any{"name": "Secret Program"})
	require.Equal(t, http.StatusCreated, res.status)
	f.ids["/api/v1/programs/"] = res.json(t)["id"].(string)

	res = b.do("POST", "/api/v1/contacts", b.admin, map[string]any{
		"external_id": "secret-ext", "phone": "+17346263333", "first_name": "Secretname", "sms_preference": "opted_in"})
	require.Equal(t, http.StatusCreated, res.status)
	f.ids["/api/v1/contacts/"] = res.json(t)["id"].(string)

	res = b.do("POST", "/api/v1/api-keys", b.admin, map[string]any{"name": "secret key"})
	require.Equal(t, http.StatusCreated, res.status)
	f.ids["/api/v1/api-keys/"] = res.json(t)["id"].(string)

	res = b.do("POST", "/api/v1/templates", b.admin, map[string]any{
		"name": "Secret Template", "kind": "transactional", "body": "Secretbody for {{first_name}}"})
	require.Equal(t, http.StatusCreated, res.status)
	f.ids["/api/v1/templates/"] = res.json(t)["id"].(string)
	f.secrets = append(f.secrets, "Secret Template", "Secretbody")

	b.enableSMS(b.acct, 100)
	tpl := b.approvedTemplate(b.admin, "transactional", "Hi {{first_name}}, your reward is ready.")
	res = b.do("POST", "/api/v1/messages", b.admin, map[string]any{"contact_id": f.ids["/api/v1/contacts/"], "template_id": tpl})
	require.Equal(t, http.StatusAccepted, res.status, "%s", res.body)
	f.ids["/api/v1/messages/"] = res.json(t)["id"].(string)

	res = b.do("POST", "/api/v1/webhooks", b.admin, map[string]any{
		"url": "https://secret-hooks.example.com/herald", "events": []string{"contact.sms_opted_out"}})
	require.Equal(t, http.StatusCreated, res.status, "%s", res.body)
	f.ids["/api/v1/webhooks/"] = res.json(t)["id"].(string)
	f.secrets = append(f.secrets, "secret-hooks.example.com", res.json(t)["secret"].(string))

	res = b.do("POST", "/api/v1/automations", b.admin, map[string]any{"name": "Secret Automation",
		"trigger": map[string]any{"type": "event", "event": "reward.approved"},
		"steps":   []map[string]any{{"type": "send_sms", "template_id": tpl}}})
	require.Equal(t, http.StatusCreated, res.status, "%s", res.body)
	f.ids["/api/v1/automations/"] = res.json(t)["id"].(string)
	f.secrets = append(f.secrets, "Secret Automation")

	for _, id := range f.ids {
		f.secrets = append(f.secrets, id)
	}
	f.secrets = append(f.secrets, b.acct, "Secret Program", "secret-ext", "7346263333", "Secretname", "secret key")
	return f
}

// fill puts the fixture's id into a route's {id}.
func (f tenantFixture) fill(t *testing.T, path string) string {
	t.Helper()
	if !strings.Contains(path, "{id}") {
		return path
	}
	for prefix, id := range f.ids {
		if strings.HasPrefix(path, prefix) {
			return strings.Replace(path, "{id}", id, 1)
		}
	}
	t.Fatalf("tenancy test: no fixture id for %s; add one to makeTenantData", path)
	return ""
}

// TestAnotherAccountSeesNothing walks every account-scoped route with a
// second account's admin key against the first account's ids. A route
// naming a resource must answer 404 (or 403); a collection must answer
// without any of the first account's data.
func TestAnotherAccountSeesNothing(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		b := setup(t, d)
		fixture := makeTenantData(t, b)
		_, otherKey := b.newAccount("Other Co")

		walked := 0
		for _, rt := range b.srv.routes() {
			if rt.access == public || rt.access == operator || rt.access == carrier {
				continue
			}
			walked++
			path := fixture.fill(t, rt.path)
			var body any
			contentType := []string{}
			switch {
			case strings.HasSuffix(rt.path, "/import"):
				body, contentType = "external_id,first_name\nsecret-ext,Hijacked\n", []string{"Content-Type", "text/csv"}
			case rt.method == "POST" || rt.method == "PUT" || rt.method == "PATCH":
				body = map[string]any{}
			}
			if rt.method == "PUT" && strings.HasSuffix(rt.path, "/sms-preference") {
				body = map[string]any{"preference": "opted_out"}
			}
			if rt.method == "PATCH" {
				body = map[string]any{"first_name": "Hijacked"}
			}
			res := b.do(rt.method, path, otherKey, body, contentType...)
			if strings.Contains(rt.path, "{id}") {
				require.Contains(t, []int{403, 404}, res.status, "%s %s answered %d: %s", rt.method, rt.path, res.status, res.body)
			}
			for _, secret := range fixture.secrets {
				if strings.Contains(path, secret) {
					continue // a 404 may repeat the id the caller sent; that tells nothing
				}
				require.NotContains(t, string(res.body), secret, "%s %s leaked %q", rt.method, rt.path, secret)
			}
		}
		require.Greater(t, walked, 10)

		// And nothing of the first account changed.
		res := b.do("GET", "/api/v1/contacts/"+fixture.ids["/api/v1/contacts/"], b.admin, nil)
		require.Equal(t, http.StatusOK, res.status)
		c := res.json(t)
		require.Equal(t, "Secretname", c["first_name"])
		require.Equal(t, "opted_in", c["sms_preference"])
		require.Equal(t, http.StatusOK, b.do("GET", "/api/v1/programs/"+fixture.ids["/api/v1/programs/"], b.admin, nil).status)
		hook := b.do("GET", "/api/v1/webhooks/"+fixture.ids["/api/v1/webhooks/"], b.admin, nil)
		require.Equal(t, http.StatusOK, hook.status, "the webhook was not deleted")
		require.Equal(t, "https://secret-hooks.example.com/herald", hook.json(t)["url"])
		keys := b.do("GET", "/api/v1/api-keys", b.admin, nil)
		require.NotContains(t, string(keys.body), `"revoked_at"`, "no key of the first account was revoked")
	})
}
