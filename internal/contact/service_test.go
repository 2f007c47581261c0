package contact_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldsms/herald/internal/account"
	"github.com/heraldsms/herald/internal/clock"
	"github.com/heraldsms/herald/internal/consent"
	"github.com/heraldsms/herald/internal/contact"
	"github.com/heraldsms/herald/internal/db"
	"github.com/heraldsms/herald/internal/db/dbtest"
	"github.com/heraldsms/herald/internal/problem"
)

type testBundle struct {
	ctx      context.Context
	db       *db.DB
	clock    *clock.Fake
	accounts *account.Store
	svc      *contact.Service
	acct     string
}

func setup(t *testing.T, d *db.DB) *testBundle {
	t.Helper()
	c := clock.NewFake(time.Date(2026, 5, 1, 15, 0, 0, 0, time.UTC))
	accounts := account.NewStore(d, c)
	a, _, err := accounts.CreateAccount(context.Background(), account.NewAccount{Name: "Acme"})
	require.NoError(t, err)
	return &testBundle{ctx: context.Background(), db: d, clock: c, accounts: accounts,
		svc: contact.NewService(d, c, accounts), acct: a.ID}
}

func str(s string) *string { return &s }

var apiChange = contact.Change{Source: consent.SourceAPI, Actor: "key:test"}

func requireProblem(t *testing.T, err error, kind problem.Kind, code string) {
	t.Helper()
	p, ok := problem.As(err)
	require.True(t, ok, "want a problem %s, got %v", code, err)
	require.Equal(t, kind, p.Kind)
	require.Equal(t, code, p.Code)
}

func countContacts(t *testing.T, b *testBundle) int {
	t.Helper()
	var n int
	require.NoError(t, b.db.Read().QueryRowContext(b.ctx, `SELECT count(*) FROM contacts`).Scan(&n))
	return n
}

func TestUpsertMatchesByExternalIDThenPhone(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		b := setup(t, d)
		c, created, err := b.svc.Upsert(b.ctx, b.acct, contact.Input{ExternalID: str("u1"), Phone: str("(734) 626-3333"), FirstName: str(" Ava ")}, apiChange)
		require.NoError(t, err)
		require.True(t, created)
		require.Equal(t, "+17346263333", c.E164())
		require.Equal(t, "(734) 626-3333", c.Phone, "the phone is kept as given")
		require.Equal(t, "Ava", c.FirstName)
		require.True(t, c.SMSCapable)
		require.Equal(t, consent.Unknown, c.SMSPreference)

		// Same external id: an update, even with the phone in another format.
		c2, created, err := b.svc.Upsert(b.ctx, b.acct, contact.Input{ExternalID: str("u1"), Phone: str("+1 734.626.3333"), LastName: str("Reyes")}, apiChange)
		require.NoError(t, err)
		require.False(t, created)
		require.Equal(t, c.ID, c2.ID)
		require.Equal(t, "Ava", c2.FirstName, "fields not sent are kept")
		require.Equal(t, "Reyes", c2.LastName)

		// No external id: matched by phone.
		c3, created, err := b.svc.Upsert(b.ctx, b.acct, contact.Input{Phone: str("7346263333"), Email: str("ava@example.com")}, apiChange)
		require.NoError(t, err)
		require.False(t, created)
		require.Equal(t, c.ID, c3.ID)
		require.Equal(t, "ava@example.com", c3.Email)
		require.Equal(t, 1, countContacts(t, b))
	})
}

func TestPhoneBelongsToOneContact(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		b := setup(t, d)
		_, _, err := b.svc.Upsert(b.ctx, b.acct, contact.Input{ExternalID: str("u1"), Phone: str("+17346263333")}, apiChange)
		require.NoError(t, err)

		// A new external id with a phone another external id holds.
		_, _, err = b.svc.Upsert(b.ctx, b.acct, contact.Input{ExternalID: str("u2"), Phone: str("734-626-3333")}, apiChange)
		requireProblem(t, err, problem.Conflict, "phone_taken")

		// Moving a second contact onto the number.
		other, _, err := b.svc.Upsert(b.ctx, b.acct, contact.Input{ExternalID: str("u3"), Phone: str("+14155550142")}, apiChange)
		require.NoError(t, err)
		_, err = b.svc.Patch(b.ctx, b.acct, other.ID, contact.Input{Phone: str("+17346263333")}, apiChange)
		requireProblem(t, err, problem.Conflict, "phone_taken")
		got, err := b.svc.Get(b.ctx, b.acct, other.ID)
		require.NoError(t, err)
		require.Equal(t, "+14155550142", got.E164(), "nothing half-written")
		require.Equal(t, 2, countContacts(t, b))
	})
}

func TestAContactKnownOnlyByPhoneIsAdoptedByAnExternalID(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		b := setup(t, d)
		c, _, err := b.svc.Upsert(b.ctx, b.acct, contact.Input{Phone: str("+17346263333")}, apiChange)
		require.NoError(t, err)
		c2, created, err := b.svc.Upsert(b.ctx, b.acct, contact.Input{ExternalID: str("u9"), Phone: str("+17346263333")}, apiChange)
		require.NoError(t, err)
		require.False(t, created)
		require.Equal(t, c.ID, c2.ID)
		require.Equal(t, "u9", *c2.ExternalID)
	})
}

func TestInvalidPhones(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		b := setup(t, d)
		for _, p := range []string{"abc", "12", "   ", "+1 555 0100 9999 9999"} {
			_, _, err := b.svc.Upsert(b.ctx, b.acct, contact.Input{Phone: str(p), FirstName: str("X")}, apiChange)
			requireProblem(t, err, problem.Invalid, "invalid_phone")
		}
		_, _, err := b.svc.Upsert(b.ctx, b.acct, contact.Input{FirstName: str("Nobody")}, apiChange)
		requireProblem(t, err, problem.Invalid, "missing_identity")
		require.Zero(t, countContacts(t, b), "refused contacts leave nothing behind")

		// With an external id the contact is kept, its phone marked unusable.
		c, created, err := b.svc.Upsert(b.ctx, b.acct, contact.Input{ExternalID: str("u1"), Phone: str("not a phone")}, apiChange)
		require.NoError(t, err)
		require.True(t, created)
		require.Equal(t, "not a phone", c.Phone)
		require.False(t, c.PhoneValid)
		require.False(t, c.SMSCapable)
		require.Nil(t, c.PhoneE164)
	})
}

func TestBadFieldsAreRefused(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		b := setup(t, d)
		long := string(make([]byte, 300))
		cases := []struct {
			name string
			in   contact.Input
			code string
		}{
			{"bad email", contact.Input{Phone: str("+17346263333"), Email: str("not-an-email")}, "invalid_email"},
			{"email with name", contact.Input{Phone: str("+17346263333"), Email: str("Ava <ava@example.com>")}, "invalid_email"},
			{"long name", contact.Input{Phone: str("+17346263333"), FirstName: str(long)}, "too_long"},
			{"control char", contact.Input{Phone: str("+17346263333"), FirstName: str("A\x00va")}, "invalid_text"},
			{"bad zone", contact.Input{Phone: str("+17346263333"), TimeZone: str("Mars/Olympus")}, "invalid_time_zone"},
			{"bad attribute name", contact.Input{Phone: str("+17346263333"), Attributes: map[string]any{"a b": 1}}, "invalid_attribute"},
			{"NUL in an attribute", contact.Input{Phone: str("+17346263333"), Attributes: map[string]any{"tier": "go\x00ld"}}, "invalid_text"},
			{"NUL deep in an attribute", contact.Input{Phone: str("+17346263333"), Attributes: map[string]any{"a": []any{map[string]any{"b\x00": 1}}}}, "invalid_text"},
			{"NUL in a phone", contact.Input{Phone: str("+1734\x006263333")}, "invalid_phone"},
			{"NUL in an email", contact.Input{Phone: str("+17346263333"), Email: str("ava\x00@example.com")}, "invalid_text"},
			{"bad preference", contact.Input{Phone: str("+17346263333"), SMSPreference: str("yes")}, "invalid_preference"},
			{"long external id", contact.Input{ExternalID: str(long)}, "too_long"},
		}
		for _, tc := range cases {
			_, _, err := b.svc.Upsert(b.ctx, b.acct, tc.in, apiChange)
			requireProblem(t, err, problem.Invalid, tc.code)
		}
		require.Zero(t, countContacts(t, b))
	})
}

func TestAttributesMergeAndNullRemoves(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		b := setup(t, d)
		c, _, err := b.svc.Upsert(b.ctx, b.acct, contact.Input{Phone: str("+17346263333"), Attributes: map[string]any{"tier": "gold", "points": 10}}, apiChange)
		require.NoError(t, err)
		c, err = b.svc.Patch(b.ctx, b.acct, c.ID, contact.Input{Attributes: map[string]any{"tier": nil, "city": "Ann Arbor"}}, apiChange)
		require.NoError(t, err)
		require.Equal(t, map[string]any{"points": float64(10), "city": "Ann Arbor"}, c.Attributes)
	})
}

func TestPreferenceIsAllOrNothingWithOneNumber(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		b := setup(t, d)
		c, _, err := b.svc.Upsert(b.ctx, b.acct, contact.Input{Phone: str("+17346263333")}, apiChange)
		require.NoError(t, err)
		evidence := json.RawMessage(`{"form":"checkout"}`)
		c, err = b.svc.SetPreference(b.ctx, b.acct, c.ID, contact.PreferenceChange{
			Preference: consent.OptedIn, Kind: consent.Marketing, Change: contact.Change{Source: consent.SourceAPI, Actor: "key:k", Evidence: evidence}})
		require.NoError(t, err)
		require.Equal(t, consent.OptedIn, c.SMSPreference)
		require.Equal(t, consent.OptedIn, c.Preference(consent.Transactional), "one number: the kind is ignored")

		// Setting the same value again records nothing.
		b.clock.Advance(time.Minute)
		_, err = b.svc.SetPreference(b.ctx, b.acct, c.ID, contact.PreferenceChange{Preference: consent.OptedIn, Change: apiChange})
		require.NoError(t, err)

		records, err := b.svc.Consents(b.ctx, b.acct, c.ID)
		require.NoError(t, err)
		require.Len(t, records, 2, "one record per kind")
		for _, r := range records {
			require.Equal(t, consent.Unknown, r.From)
			require.Equal(t, consent.OptedIn, r.To)
			require.Equal(t, consent.SourceAPI, r.Source)
			require.JSONEq(t, `{"form":"checkout"}`, string(r.Evidence))
			require.True(t, r.OccurredAt.Equal(time.Date(2026, 5, 1, 15, 0, 0, 0, time.UTC)))
		}
	})
}

func TestPreferencePerKindWithTwoNumbers(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		b := setup(t, d)
		_, err := b.accounts.ReplaceNumbers(b.ctx, b.acct, []account.NumberInput{
			{Phone: "+18005550100", Kind: account.NumberTransactional}, {Phone: "+18005550101", Kind: account.NumberMarketing}})
		require.NoError(t, err)
		c, _, err := b.svc.Upsert(b.ctx, b.acct, contact.Input{Phone: str("+17346263333"), SMSPreference: str("opted_in")}, apiChange)
		require.NoError(t, err)
		c, err = b.svc.SetPreference(b.ctx, b.acct, c.ID, contact.PreferenceChange{Preference: consent.OptedOut, Kind: consent.Marketing, Change: apiChange})
		require.NoError(t, err)
		require.Equal(t, consent.OptedOut, c.Preference(consent.Marketing))
		require.Equal(t, consent.OptedIn, c.Preference(consent.Transactional))
		require.Equal(t, consent.OptedOut, c.SMSPreference, "the summary is the marketing preference")
		records, err := b.svc.Consents(b.ctx, b.acct, c.ID)
		require.NoError(t, err)
		require.Len(t, records, 3)
		require.Equal(t, consent.Marketing, records[2].Kind)
	})
}

func TestDeleteKeepsTheLedgerWithAHashedPhone(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		b := setup(t, d)
		c, _, err := b.svc.Upsert(b.ctx, b.acct, contact.Input{Phone: str("+17346263333"), SMSPreference: str("opted_in")}, apiChange)
		require.NoError(t, err)
		require.NoError(t, b.svc.Delete(b.ctx, b.acct, c.ID))
		_, err = b.svc.Get(b.ctx, b.acct, c.ID)
		requireProblem(t, err, problem.NotFound, "not_found")
		requireProblem(t, b.svc.Delete(b.ctx, b.acct, c.ID), problem.NotFound, "not_found")

		records, err := b.svc.Consents(b.ctx, b.acct, c.ID)
		require.NoError(t, err)
		require.Len(t, records, 2)
		var hash string
		require.NoError(t, d.Read().QueryRowContext(b.ctx, `SELECT phone_hash FROM consents WHERE contact_id = $1 LIMIT 1`, c.ID).Scan(&hash))
		require.Equal(t, consent.HashPhone(b.acct, "+17346263333"), hash)
		require.NotContains(t, hash, "7346263333")
	})
}

func TestListFiltersPagesAndStaysInItsAccount(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		b := setup(t, d)
		other, _, err := b.accounts.CreateAccount(b.ctx, account.NewAccount{Name: "Other"})
		require.NoError(t, err)
		seed := []struct{ phone, name, pref string }{
			{"+17346263333", "Ava Reyes", "opted_in"}, {"+14155550142", "Ben Okafor", "opted_in"},
			{"+13125550199", "Chloe 100%_Nguyen", "opted_out"}, {"+447400123456", "Dana Smith", "opted_in"},
			{"+16175550123", "Eli Brooks", ""},
		}
		for _, s := range seed {
			in := contact.Input{Phone: str(s.phone), FirstName: str(s.name)}
			if s.pref != "" {
				in.SMSPreference = str(s.pref)
			}
			_, _, err := b.svc.Upsert(b.ctx, b.acct, in, apiChange)
			require.NoError(t, err)
		}
		_, _, err = b.svc.Upsert(b.ctx, other.ID, contact.Input{Phone: str("+17346263333"), FirstName: str("Ava Elsewhere")}, apiChange)
		require.NoError(t, err, "the same phone may exist in another account")

		names := func(f contact.Filter) []string {
			page, err := b.svc.List(b.ctx, b.acct, f)
			require.NoError(t, err)
			var out []string
			for _, c := range page.Data {
				out = append(out, c.FirstName)
			}
			return out
		}
		require.Equal(t, []string{"Ava Reyes", "Ben Okafor", "Dana Smith"}, names(contact.Filter{SMSPreference: consent.OptedIn}))
		require.Equal(t, []string{"Dana Smith"}, names(contact.Filter{Country: "GB"}))
		require.Equal(t, []string{"Eli Brooks"}, names(contact.Filter{SMSPreference: consent.Unknown}))
		require.Equal(t, []string{"Ava Reyes"}, names(contact.Filter{Query: "ava"}), "another account's Ava is not listed")
		require.Equal(t, []string{"Ben Okafor"}, names(contact.Filter{Query: "415555"}))
		require.Equal(t, []string{"Chloe 100%_Nguyen"}, names(contact.Filter{Query: "100%_"}), "LIKE wildcards are literal")
		require.Equal(t, []string{"Chloe 100%_Nguyen"}, names(contact.Filter{Query: "%"}))
		require.Empty(t, names(contact.Filter{Query: "a_a"}), "'_' would match 'ava' as a wildcard")

		var all []string
		f := contact.Filter{Limit: 2}
		for pages := 0; ; pages++ {
			require.Less(t, pages, 5)
			page, err := b.svc.List(b.ctx, b.acct, f)
			require.NoError(t, err)
			for _, c := range page.Data {
				all = append(all, c.FirstName)
			}
			if page.NextCursor == "" {
				break
			}
			f.Cursor = page.NextCursor
		}
		require.Len(t, all, 5)
	})
}

func TestAnotherAccountsContactIsNotFound(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		b := setup(t, d)
		other, _, err := b.accounts.CreateAccount(b.ctx, account.NewAccount{Name: "Other"})
		require.NoError(t, err)
		c, _, err := b.svc.Upsert(b.ctx, b.acct, contact.Input{Phone: str("+17346263333"), SMSPreference: str("opted_in")}, apiChange)
		require.NoError(t, err)
		_, err = b.svc.Get(b.ctx, other.ID, c.ID)
		requireProblem(t, err, problem.NotFound, "not_found")
		_, err = b.svc.Patch(b.ctx, other.ID, c.ID, contact.Input{FirstName: str("x")}, apiChange)
		requireProblem(t, err, problem.NotFound, "not_found")
		_, err = b.svc.SetPreference(b.ctx, other.ID, c.ID, contact.PreferenceChange{Preference: consent.OptedOut, Change: apiChange})
		requireProblem(t, err, problem.NotFound, "not_found")
		_, err = b.svc.Consents(b.ctx, other.ID, c.ID)
		requireProblem(t, err, problem.NotFound, "not_found")
		requireProblem(t, b.svc.Delete(b.ctx, other.ID, c.ID), problem.NotFound, "not_found")
		got, err := b.svc.Get(b.ctx, b.acct, c.ID)
		require.NoError(t, err)
		require.Equal(t, consent.OptedIn, got.SMSPreference, "untouched")
	})
}

var importChange = contact.Change{Source: consent.SourceImport, Actor: "user:test"}

// timeZones returns the account's contacts' zones by external id, as stored.
func timeZones(t *testing.T, b *testBundle) map[string]string {
	t.Helper()
	page, err := b.svc.List(b.ctx, b.acct, contact.Filter{})
	require.NoError(t, err)
	out := map[string]string{}
	for _, c := range page.Data {
		require.NotNil(t, c.ExternalID)
		got, err := b.svc.Get(b.ctx, b.acct, c.ID)
		require.NoError(t, err)
		out[*c.ExternalID] = got.TimeZone
	}
	return out
}

func TestImportTimeZones(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		b := setup(t, d)
		res, err := b.svc.Import(b.ctx, b.acct, strings.NewReader("external_id,phone,first_name,time_zone\r\n"+
			"a1,+17346263333,Ava,America/Chicago\r\n"+
			"a2,+14155550142,Ben,\r\n"), importChange)
		require.NoError(t, err)
		require.Equal(t, 2, res.Created, res.Errors)
		require.Equal(t, map[string]string{"a1": "America/Chicago", "a2": ""}, timeZones(t, b))

		// An empty cell leaves the zone as it is, like every other field.
		res, err = b.svc.Import(b.ctx, b.acct, strings.NewReader("external_id,first_name,TZ\r\na1,Ava,\r\n"), importChange)
		require.NoError(t, err)
		require.Equal(t, 1, res.Updated, res.Errors)
		require.Equal(t, map[string]string{"a1": "America/Chicago", "a2": ""}, timeZones(t, b))

		// A bad zone refuses its row, whether it would update or create.
		res, err = b.svc.Import(b.ctx, b.acct, strings.NewReader("external_id,phone,Time Zone\r\n"+
			"a1,,Mars/Olympus\r\n"+
			"a3,+13125550199,Local\r\n"+
			"a2,,Europe/Paris\r\n"), importChange)
		require.NoError(t, err)
		require.Equal(t, contact.ImportResult{Updated: 1, Failed: 2, Errors: []contact.ImportError{
			{Row: 2, Code: contact.RowBadTimeZone, Field: "Time Zone", Message: `Time Zone: "Mars/Olympus" is not an IANA time zone such as America/Chicago`},
			{Row: 3, Code: contact.RowBadTimeZone, Field: "Time Zone", Message: `Time Zone: "Local" is not an IANA time zone such as America/Chicago`},
		}}, res)
		require.Equal(t, map[string]string{"a1": "America/Chicago", "a2": "Europe/Paris"}, timeZones(t, b))
		require.Equal(t, 2, countContacts(t, b))
	})
}

// A NUL character fits no PostgreSQL text or jsonb; SQLite would keep it.
// On both engines its row is refused with the column named, and the rows
// around it are imported.
func TestImportRefusesNULCharacters(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		b := setup(t, d)
		res, err := b.svc.Import(b.ctx, b.acct, strings.NewReader("external_id,phone,first_name,tier,attributes\r\n"+
			"a1,+17346263333,Ava,gold,\r\n"+
			"a2,+14155550142,Ben,sil\x00ver,\r\n"+
			"a3,+13125550199,Cy,,\"{\"\"note\"\":\"\"a\\u0000b\"\"}\"\r\n"+
			"a4\x00,+13125550198,Di,,\r\n"+
			"a5,+13125550197,Ed,,\"{\"\"note\"\":\"\"fine\"\"}\"\r\n"), importChange)
		require.NoError(t, err)
		require.Equal(t, contact.ImportResult{Created: 2, Failed: 3, Errors: []contact.ImportError{
			{Row: 3, Code: contact.RowBadEncoding, Field: "tier", Message: "tier holds a NUL character, which text may not contain"},
			{Row: 4, Code: contact.RowBadEncoding, Field: "attributes", Message: `attributes: a member holds a NUL character (\u0000), which text may not contain`},
			{Row: 5, Code: contact.RowBadEncoding, Field: "external_id", Message: "external_id holds a NUL character, which text may not contain"},
		}}, res)
		require.Equal(t, 2, countContacts(t, b))
	})
}

func TestExportedTimeZonesImportBack(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		b := setup(t, d)
		for _, in := range []contact.Input{
			{ExternalID: str("a1"), Phone: str("+17346263333"), TimeZone: str("America/Detroit")},
			{ExternalID: str("a2"), Phone: str("+447400123456"), TimeZone: str("Europe/London")},
			{ExternalID: str("a3"), Phone: str("+14155550142")},
		} {
			_, _, err := b.svc.Upsert(b.ctx, b.acct, in, apiChange)
			require.NoError(t, err)
		}
		want := map[string]string{"a1": "America/Detroit", "a2": "Europe/London", "a3": ""}

		var out bytes.Buffer
		require.NoError(t, b.svc.Export(b.ctx, b.acct, contact.Filter{}, &out))
		records, err := csv.NewReader(bytes.NewReader(out.Bytes())).ReadAll()
		require.NoError(t, err)
		col := slices.Index(records[0], "time_zone")
		require.Equal(t, slices.Index(records[0], "email")+1, col, "time_zone follows email")
		exported := map[string]string{}
		for _, rec := range records[1:] {
			exported[rec[slices.Index(records[0], "external_id")]] = rec[col]
		}
		require.Equal(t, want, exported)

		res, err := b.svc.Import(b.ctx, b.acct, &out, importChange)
		require.NoError(t, err)
		require.Equal(t, contact.ImportResult{Updated: 3, Errors: []contact.ImportError{}}, res)
		require.Equal(t, want, timeZones(t, b))
	})
}

// Look-ups by id and by external id made at once, from two accounts that
// use the same external ids, are gathered into few statements; each caller
// gets its own account's contact, and a contact of the other account or of
// no account is not found.
func TestConcurrentLookUpsStayInTheirAccount(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		b := setup(t, d)
		other, _, err := b.accounts.CreateAccount(b.ctx, account.NewAccount{Name: "Other"})
		require.NoError(t, err)
		const n = 40
		ids := map[string][]string{} // account → contact id of external id "u<i>"
		for a, acc := range []string{b.acct, other.ID} {
			for i := range n {
				c, _, err := b.svc.Upsert(b.ctx, acc, contact.Input{ExternalID: str(fmt.Sprint("u", i)),
					Phone: str(fmt.Sprintf("+1734626%04d", a*100+i)), FirstName: str(acc)}, apiChange)
				require.NoError(t, err)
				ids[acc] = append(ids[acc], c.ID)
			}
		}
		var wg sync.WaitGroup
		for _, acc := range []string{b.acct, other.ID} {
			otherAcc := map[string]string{b.acct: other.ID, other.ID: b.acct}[acc]
			for i := range n {
				wg.Go(func() {
					c, err := b.svc.GetByExternalID(b.ctx, acc, fmt.Sprint("u", i))
					require.NoError(t, err)
					require.Equal(t, ids[acc][i], c.ID)
					require.Equal(t, acc, c.AccountID)
					require.Equal(t, acc, c.FirstName)
				})
				wg.Go(func() {
					c, err := b.svc.Get(b.ctx, acc, ids[acc][i])
					require.NoError(t, err)
					require.Equal(t, fmt.Sprint("u", i), *c.ExternalID)
					require.Equal(t, acc, c.AccountID)
				})
				wg.Go(func() {
					_, err := b.svc.Get(b.ctx, acc, ids[otherAcc][i])
					requireProblem(t, err, problem.NotFound, "not_found")
				})
				wg.Go(func() {
					_, err := b.svc.GetByExternalID(b.ctx, acc, fmt.Sprint("missing-", i))
					requireProblem(t, err, problem.NotFound, "not_found")
				})
			}
		}
		wg.Wait()
	})
}
