package app

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/heraldsms/herald/internal/account"
	"github.com/heraldsms/herald/internal/consent"
	"github.com/heraldsms/herald/internal/contact"
)

// demoAccountName marks the demo account, so a restart with --demo finds
// it instead of making another.
const demoAccountName = "Herald Demo"

type demoContact struct {
	external, phone, first, last, email, pref string
}

// demoContacts covers each SMS preference and a phone that cannot be texted.
var demoContacts = []demoContact{
	{"adv-1001", "(734) 626-3333", "Ava", "Reyes", "ava@example.com", "opted_in"},
	{"adv-1002", "+1 415 555 0142", "Ben", "Okafor", "ben@example.com", "opted_in"},
	{"adv-1003", "312-555-0199", "Chloe", "Nguyen", "chloe@example.com", "opted_out"},
	{"adv-1004", "617.555.0123", "Dev", "Patel", "dev@example.com", ""},
	{"adv-1005", "555-0100", "Eli", "Brooks", "eli@example.com", ""},
}

// seedDemo makes the demo account, its program and contacts, once.
func (a *App) seedDemo(ctx context.Context) (account.Account, error) {
	all, err := a.Accounts.List(ctx)
	if err != nil {
		return account.Account{}, err
	}
	for _, acct := range all {
		if acct.Name == demoAccountName {
			return acct, nil
		}
	}
	acct, _, err := a.Accounts.CreateAccount(ctx, account.NewAccount{Name: demoAccountName, BrandName: "Acme Rewards"})
	if err != nil {
		return account.Account{}, err
	}
	if _, err := a.Accounts.CreateProgram(ctx, acct.ID, account.NewProgram{
		Name: "Acme Refer-a-Friend", Description: "Give $10, get $10 for every friend who joins.",
	}); err != nil {
		return account.Account{}, err
	}
	evidence, _ := json.Marshal(map[string]string{"note": "seeded by herald serve --demo"})
	for _, d := range demoContacts {
		in := contact.Input{
			ExternalID: &d.external, Phone: &d.phone, FirstName: &d.first, LastName: &d.last, Email: &d.email,
			Attributes: map[string]any{"referral_link": "https://acme.example/r/" + d.external},
		}
		if d.pref != "" {
			in.SMSPreference = &d.pref
		}
		ch := contact.Change{Source: consent.SourceAdmin, Actor: "demo", Evidence: evidence}
		if _, _, err := a.Contacts.Upsert(ctx, acct.ID, in, ch); err != nil {
			return account.Account{}, fmt.Errorf("demo contact %s: %w", d.external, err)
		}
	}
	return acct, nil
}

// announceDemo seeds the demo and prints a fresh API key for it: keys are
// shown once, so each start makes one.
func (a *App) announceDemo(ctx context.Context, w io.Writer) error {
	acct, err := a.seedDemo(ctx)
	if err != nil {
		return err
	}
	_, key, err := a.Accounts.CreateKey(ctx, acct.ID, account.RoleAdmin, "demo key")
	if err != nil {
		return err
	}
	base := a.Config.PublicURL
	fmt.Fprintf(w, `
Herald demo is ready (account %s, %q).
  API key:  %s
  API docs: %s/api/v1/openapi.json
  Try:      curl -H "Authorization: Bearer %s" %s/api/v1/contacts

`, acct.ID, acct.Name, key, base, key, base)
	return nil
}
