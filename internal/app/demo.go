package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"

	"github.com/heraldsms/herald/internal/account"
	"github.com/heraldsms/herald/internal/consent"
	"github.com/heraldsms/herald/internal/contact"
	"github.com/heraldsms/herald/internal/msgtemplate"
	"github.com/heraldsms/herald/internal/problem"
	"github.com/heraldsms/herald/internal/user"
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
			return acct, a.repointDemoCarrier(ctx, acct.ID)
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
	if err := a.connectDemoCarrier(ctx, acct.ID); err != nil {
		return account.Account{}, err
	}
	if err := a.seedDemoTemplates(ctx, acct.ID); err != nil {
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

// demoNumber is the demo account's one sender number.
const demoNumber = "+18885550100"

// connectDemoCarrier points the demo account at the built-in simulator
// with a sub-account of its own, gives it a number and turns SMS on.
func (a *App) connectDemoCarrier(ctx context.Context, accountID string) error {
	if a.Sim == nil {
		return nil // no simulator: the operator connects a real carrier
	}
	sid, token := make([]byte, 16), make([]byte, 16)
	_, _ = rand.Read(sid)
	_, _ = rand.Read(token)
	on, limit := true, int64(10000)
	numbers := []account.NumberInput{{Phone: demoNumber, Kind: account.NumberBoth, MPS: 10}}
	_, err := a.Accounts.Configure(ctx, accountID, account.Setup{
		SMSEnabled: &on, MonthlyLimit: &limit, Numbers: &numbers,
		Twilio: &account.TwilioSetup{AccountSID: "AC" + hex.EncodeToString(sid), AuthToken: hex.EncodeToString(token),
			BaseURL: a.Config.PublicURL + "/sim"},
	})
	return err
}

// repointDemoCarrier keeps the demo's sub-account but points it at this
// process's simulator, whose address may have changed since the seed.
func (a *App) repointDemoCarrier(ctx context.Context, accountID string) error {
	if a.Sim == nil {
		return nil
	}
	creds, err := a.Accounts.Credentials(ctx, accountID)
	if err != nil || creds.AccountSID == "" {
		return err
	}
	_, err = a.Accounts.Configure(ctx, accountID, account.Setup{Twilio: &account.TwilioSetup{
		AccountSID: creds.AccountSID, AuthToken: creds.AuthToken, BaseURL: a.Config.PublicURL + "/sim"}})
	return err
}

// demoTemplates are approved at seeding, so the demo can send at once.
var demoTemplates = []string{"welcome", "reward_approved", "seasonal_promotion"}

func (a *App) seedDemoTemplates(ctx context.Context, accountID string) error {
	for _, key := range demoTemplates {
		t, err := a.Templates.Create(ctx, accountID, msgtemplate.NewTemplate{FromGallery: key}, "demo")
		if err != nil {
			return fmt.Errorf("demo template %s: %w", key, err)
		}
		if _, err := a.Templates.Submit(ctx, accountID, t.ID, "demo"); err != nil {
			return fmt.Errorf("demo template %s: %w", key, err)
		}
		if _, err := a.Templates.Decide(ctx, accountID, t.ID, msgtemplate.Review{Approve: true, Actor: "operator (demo seed)"}); err != nil {
			return fmt.Errorf("demo template %s: %w", key, err)
		}
	}
	return nil
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
	signIns, err := a.demoUsers(ctx, acct.ID)
	if err != nil {
		return err
	}
	base := a.Config.PublicURL
	fmt.Fprintf(w, `
Herald demo is ready (account %s, %q).
  Admin web: %s/signin
    marketer: %s  password %s
    operator: %s  password %s
  API key:  %s
  API docs: %s/api/v1/openapi.json
  Contacts: curl -H "Authorization: Bearer %s" %s/api/v1/contacts
`, acct.ID, acct.Name, base, signIns[0].email, signIns[0].password, signIns[1].email, signIns[1].password,
		key, base, key, base)
	if tpl := a.demoTemplateID(ctx, acct.ID, "Reward approved"); tpl != "" && a.Sim != nil {
		fmt.Fprintf(w, `  Send:     curl -H "Authorization: Bearer %s" -H 'Content-Type: application/json' \
              -d '{"external_id": "adv-1001", "template_id": "%s", "data": {"reward_amount": "$10"}}' \
              %s/api/v1/messages
  Inbox:    curl -H "Authorization: Bearer %s" '%s/api/v1/sim/inbox?handset=%%2B17346263333'
`, key, tpl, base, key, base)
	}
	fmt.Fprintln(w)
	return nil
}

type signIn struct{ email, password string }

// demoUsers makes the demo's admin and operator users once and gives them
// fresh passwords at each start: the passwords are printed, not kept.
func (a *App) demoUsers(ctx context.Context, accountID string) ([]signIn, error) {
	wanted := []user.New{
		{AccountID: accountID, Email: "marketer@demo.herald.test", Name: "Demo Marketer", Role: account.RoleAdmin},
		{Email: "operator@demo.herald.test", Name: "Demo Operator", Role: account.RoleOperator},
	}
	out := make([]signIn, 0, len(wanted))
	for _, n := range wanted {
		n.Password = rand.Text()
		u, err := a.Users.ByEmail(ctx, n.Email)
		switch {
		case err == nil:
			err = a.Users.SetPassword(ctx, u.ID, n.Password)
		case problem.Is(err, problem.NotFound):
			_, err = a.Users.Create(ctx, n)
		}
		if err != nil {
			return nil, fmt.Errorf("demo user %s: %w", n.Email, err)
		}
		out = append(out, signIn{n.Email, n.Password})
	}
	return out, nil
}

// demoTemplateID finds a seeded template by name, for the printed example.
func (a *App) demoTemplateID(ctx context.Context, accountID, name string) string {
	page, err := a.Templates.List(ctx, accountID, msgtemplate.Filter{Limit: 50})
	if err != nil {
		return ""
	}
	for _, t := range page.Data {
		if t.Name == name {
			return t.ID
		}
	}
	return ""
}
