package app_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldsms/herald/internal/account"
	"github.com/heraldsms/herald/internal/consent"
	"github.com/heraldsms/herald/internal/db"
	"github.com/heraldsms/herald/internal/db/dbtest"
	"github.com/heraldsms/herald/internal/message"
)

// A visitor enrolls through the widget's endpoint on a running Herald with
// double opt-in on: the confirmation text reaches the handset through the
// carrier, and the handset's Y records the opt-in with the form's evidence.
func TestEnrollWithDoubleOptInThroughTheCarrier(t *testing.T) {
	t.Parallel()
	for _, e := range []db.Engine{db.SQLite, db.Postgres} {
		t.Run(string(e), func(t *testing.T) {
			t.Parallel()
			p := startPipeline(t, dbtest.Options(t, e), 50)
			ctx := context.Background()
			prog, err := p.app.Accounts.CreateProgram(ctx, p.acct, account.NewProgram{Name: "Acme Rewards"})
			require.NoError(t, err)
			_, err = p.app.Accounts.SetEnrollSettings(ctx, p.acct, account.EnrollSettings{DoubleOptIn: true})
			require.NoError(t, err)

			page, err := http.Get(p.cfg.PublicURL + "/enroll/" + prog.ID)
			require.NoError(t, err)
			raw, _ := io.ReadAll(page.Body)
			page.Body.Close()
			require.Equal(t, http.StatusOK, page.StatusCode, "the hosted page is served beside the admin web")
			require.Contains(t, string(raw), "Msg &amp; data rates may apply.")

			form := url.Values{"name": {"Ava Lopez"}, "phone": {"(734) 626-3333"}, "sms_opt_in": {"yes"},
				"page": {"https://shop.example/rewards"}}
			req, err := http.NewRequest("POST", p.cfg.PublicURL+"/enroll/"+prog.ID, strings.NewReader(form.Encode()))
			require.NoError(t, err)
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Accept", "application/json")
			res, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			var out map[string]any
			require.NoError(t, json.NewDecoder(res.Body).Decode(&out))
			res.Body.Close()
			require.Equal(t, http.StatusOK, res.StatusCode, "%v", out)
			require.Equal(t, "confirmation_sent", out["status"])

			require.Eventually(t, func() bool {
				for _, r := range p.app.Sim.Inbox("+17346263333") {
					if strings.HasPrefix(r.Body, "Acme: Reply Y to confirm") {
						return true
					}
				}
				return false
			}, 10*time.Second, 20*time.Millisecond, "the confirmation text is delivered")
			msgs, err := p.app.Messages.List(ctx, p.acct, message.Filter{Kind: message.Transactional, Limit: 10})
			require.NoError(t, err)
			require.Len(t, msgs.Data, 1)
			require.Equal(t, prog.ID, *msgs.Data[0].ProgramID)

			c, err := p.app.Contacts.FindByPhone(ctx, p.acct, "+17346263333")
			require.NoError(t, err)
			require.Equal(t, consent.Unknown, c.Preference(consent.Marketing))

			require.NoError(t, p.app.Sim.Reply(ctx, "+17346263333", "+18885550100", "Y"))
			c, err = p.app.Contacts.FindByPhone(ctx, p.acct, "+17346263333")
			require.NoError(t, err)
			require.Equal(t, consent.OptedIn, c.Preference(consent.Marketing))
			records, err := p.app.Contacts.Consents(ctx, p.acct, c.ID)
			require.NoError(t, err)
			require.NotEmpty(t, records)
			var ev map[string]any
			require.NoError(t, json.Unmarshal(records[len(records)-1].Evidence, &ev))
			require.Equal(t, consent.SourceWidget, records[len(records)-1].Source)
			require.Equal(t, "https://shop.example/rewards", ev["page"])
			require.Equal(t, "127.0.0.1", ev["ip"])
			require.Equal(t, "Y", ev["confirmation"].(map[string]any)["reply"])

			// The contact's conversation shows the text that asked, though it
			// names no contact (its recipient had not opted in), and the Y.
			// Another contact's conversation does not.
			_, key, err := p.app.Accounts.CreateKey(ctx, p.acct, account.RoleViewer, "conversation")
			require.NoError(t, err)
			conversation := func(contactID string) []string {
				req, err := http.NewRequest("GET", p.cfg.PublicURL+"/api/v1/contacts/"+contactID+"/conversation", nil)
				require.NoError(t, err)
				req.Header.Set("Authorization", "Bearer "+key)
				res, err := http.DefaultClient.Do(req)
				require.NoError(t, err)
				defer res.Body.Close()
				require.Equal(t, http.StatusOK, res.StatusCode)
				var conv struct {
					Data []struct{ Direction, Body string }
				}
				require.NoError(t, json.NewDecoder(res.Body).Decode(&conv))
				var turns []string
				for _, d := range conv.Data {
					turns = append(turns, d.Direction+": "+strings.SplitN(d.Body, ".", 2)[0])
				}
				return turns
			}
			turns := conversation(c.ID)
			require.GreaterOrEqual(t, len(turns), 2, "%v", turns)
			require.Equal(t, []string{"out: Acme: Reply Y to confirm you want texts about Acme Rewards", "in: Y"}, turns[:2])
			other := p.contact("+17346263334", consent.OptedIn)
			require.Empty(t, conversation(other.ID))
		})
	}
}
