package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldsms/herald/internal/account"
	"github.com/heraldsms/herald/internal/consent"
	"github.com/heraldsms/herald/internal/contact"
	"github.com/heraldsms/herald/internal/db"
	"github.com/heraldsms/herald/internal/db/dbtest"
	"github.com/heraldsms/herald/internal/inbound"
	"github.com/heraldsms/herald/internal/message"
)

// A handset replies STOP while a batch is being sent: the STOP is
// confirmed once, and no message claimed after the STOP is recorded goes.
// A message claimed and re-checked just before may still be on its way to
// the carrier then; nothing can call that back, so the test asks no more.
func TestStopDuringABatch(t *testing.T) {
	t.Parallel()
	for _, e := range []db.Engine{db.SQLite, db.Postgres} {
		t.Run(string(e), func(t *testing.T) {
			t.Parallel()
			p := startPipeline(t, dbtest.Options(t, e), 4)
			ctx := context.Background()
			quitter := p.contact("+17346263333", consent.OptedIn)
			others := p.contact("+14155550142", consent.OptedIn)
			first := p.send(quitter, 0)
			p.waitStatus(first.ID, message.Delivered) // the sim now knows the number sends for this account
			var theirs []string
			for i := 1; i <= 8; i++ {
				theirs = append(theirs, p.send(quitter, i).ID)
				p.send(others, i)
			}
			require.NoError(t, p.app.Sim.Reply(ctx, "+17346263333", "+18885550100", "Stop"))
			stoppedAt := time.Now()

			c, err := p.app.Contacts.Get(ctx, p.acct, quitter.ID)
			require.NoError(t, err)
			require.Equal(t, consent.OptedOut, c.SMSPreference)
			records, err := p.app.Contacts.Consents(ctx, p.acct, quitter.ID)
			require.NoError(t, err)
			last := records[len(records)-1]
			require.Equal(t, consent.SourceKeyword, last.Source)
			var evidence map[string]any
			require.NoError(t, json.Unmarshal(last.Evidence, &evidence))
			require.Equal(t, "Stop", evidence["body"], "the evidence is the reply itself")
			require.Equal(t, "exact_keyword", evidence["rule"])

			delivered, skipped := 1, 0 // the first one
			for _, id := range theirs {
				m := p.waitStatus(id, message.Delivered, message.Skipped)
				if m.Status == message.Skipped {
					require.Equal(t, message.ReasonNotOptedIn, m.Reason)
					skipped++
					continue
				}
				delivered++
				require.True(t, lastClaim(t, m).Before(stoppedAt), "a message claimed after the STOP went: %+v", m.History)
			}
			// Sixteen messages at 4 a second take four seconds; the STOP
			// comes at once.
			require.Positive(t, skipped, "the STOP stopped the messages waiting for the number")
			confirmations, received := 0, 0
			for _, r := range p.app.Sim.Inbox("+17346263333") {
				if r.Direction == "outbound-reply" || r.Body == account.DefaultOptOut("Acme") {
					confirmations++
					continue
				}
				received++
			}
			require.Equal(t, 1, confirmations, "the STOP is confirmed once")
			require.Equal(t, delivered, received, "the carrier got only the messages that went")

			// A second STOP changes nothing and is not confirmed again.
			require.NoError(t, p.app.Sim.Reply(ctx, "+17346263333", "+18885550100", "STOP"))
			page, err := p.app.Inbound.List(ctx, p.acct, inbound.Filter{ContactID: quitter.ID})
			require.NoError(t, err)
			require.Equal(t, inbound.ActionAlreadyOut, page.Data[0].Action)
			require.Empty(t, page.Data[0].Reply)
		})
	}
}

func TestJoinHelpAndUnknownNumbers(t *testing.T) {
	t.Parallel()
	p := startPipeline(t, dbtest.Options(t, db.SQLite), 50)
	ctx := context.Background()
	c := p.contact("+17346263333", consent.OptedIn)
	p.waitStatus(p.send(c, 1).ID, message.Delivered)

	// JOIN from a number Herald does not know changes nothing.
	require.NoError(t, p.app.Sim.Reply(ctx, "+13125550199", "+18885550100", "JOIN"))
	page, err := p.app.Contacts.List(ctx, p.acct, contactFilter())
	require.NoError(t, err)
	require.Len(t, page.Data, 1, "no contact was made")
	in, err := p.app.Inbound.List(ctx, p.acct, inbound.Filter{})
	require.NoError(t, err)
	require.Equal(t, inbound.ActionUnknownContact, in.Data[0].Action, "logged")

	// HELP is answered with the account's help text.
	require.NoError(t, p.app.Sim.Reply(ctx, "+17346263333", "+18885550100", "help"))
	inbox := p.app.Sim.Inbox("+17346263333")
	require.Equal(t, account.DefaultHelp("Acme"), inbox[len(inbox)-1].Body)

	// STOP, then START: opted back in, confirmed.
	require.NoError(t, p.app.Sim.Reply(ctx, "+17346263333", "+18885550100", "STOP"))
	require.NoError(t, p.app.Sim.Reply(ctx, "+17346263333", "+18885550100", "start"))
	got, err := p.app.Contacts.Get(ctx, p.acct, c.ID)
	require.NoError(t, err)
	require.Equal(t, consent.OptedIn, got.SMSPreference)
	inbox = p.app.Sim.Inbox("+17346263333")
	require.Equal(t, account.DefaultOptIn("Acme"), inbox[len(inbox)-1].Body)

	// A long message that mentions stopping is flagged, not acted on.
	require.NoError(t, p.app.Sim.Reply(ctx, "+17346263333", "+18885550100",
		"I tried to stop by the store yesterday but it was closed, can you cancel my order and call me back please?"))
	in, err = p.app.Inbound.List(ctx, p.acct, inbound.Filter{NeedsReview: true})
	require.NoError(t, err)
	require.Len(t, in.Data, 1)
	got, err = p.app.Contacts.Get(ctx, p.acct, c.ID)
	require.NoError(t, err)
	require.Equal(t, consent.OptedIn, got.SMSPreference)
}

// With two numbers, STOP to the marketing number stops marketing only;
// STOPALL stops everything.
func TestStopPerNumberKind(t *testing.T) {
	t.Parallel()
	p := startPipeline(t, dbtest.Options(t, db.SQLite), 50)
	ctx := context.Background()
	nums := []account.NumberInput{{Phone: "+18885550100", Kind: account.NumberTransactional, MPS: 50},
		{Phone: "+18885550101", Kind: account.NumberMarketing, MPS: 50}}
	_, err := p.app.Accounts.Configure(ctx, p.acct, account.Setup{Numbers: &nums})
	require.NoError(t, err)
	c := p.contact("+17346263333", consent.OptedIn)
	// The promotion must fall inside the sending window on the real clock:
	// the contact's own zone, one where it is about noon now, decides it.
	zone := fmt.Sprintf("Etc/GMT%+d", time.Now().UTC().Hour()-12) // POSIX sign: Etc/GMT+5 is UTC-5
	c, _, err = p.app.Contacts.Upsert(ctx, p.acct, contact.Input{Phone: &c.Phone, TimeZone: &zone}, contact.Change{Source: consent.SourceAPI})
	require.NoError(t, err)
	// The simulator learns which sub-account a number belongs to by seeing it send.
	p.waitStatus(p.send(c, 1).ID, message.Delivered)
	promo, err := p.app.Messages.Create(ctx, p.acct, message.Request{ContactID: c.ID, TemplateID: p.template,
		Kind: message.Marketing, Data: map[string]any{"n": 2}})
	require.NoError(t, err)
	m := p.waitStatus(promo.ID, message.Delivered)
	require.Equal(t, "+18885550101", m.From, "marketing goes from the marketing number")

	require.NoError(t, p.app.Sim.Reply(ctx, "+17346263333", "+18885550101", "STOP"))
	got, err := p.app.Contacts.Get(ctx, p.acct, c.ID)
	require.NoError(t, err)
	require.Equal(t, consent.OptedOut, got.Preference(consent.Marketing))
	require.Equal(t, consent.OptedIn, got.Preference(consent.Transactional), "STOP to the marketing number leaves transactional")

	require.NoError(t, p.app.Sim.Reply(ctx, "+17346263333", "+18885550100", "STOPALL"))
	got, err = p.app.Contacts.Get(ctx, p.acct, c.ID)
	require.NoError(t, err)
	require.Equal(t, consent.OptedOut, got.Preference(consent.Marketing), "STOPALL stops everything")
}
