package message

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/heraldsms/herald/internal/account"
	"github.com/heraldsms/herald/internal/consent"
	"github.com/heraldsms/herald/internal/contact"
)

func TestSkipRules(t *testing.T) {
	t.Parallel()
	enabled := account.Account{SMSEnabled: true, AllowedCountries: []string{"US", "CA"}}
	person := func(trans, mark consent.Preference, capable bool, country string) *contact.Contact {
		return &contact.Contact{SMSCapable: capable, PhoneCountry: country, SMSPreferences: map[consent.Kind]consent.Preference{
			consent.Transactional: trans, consent.Marketing: mark}}
	}
	in, out, unknown := consent.OptedIn, consent.OptedOut, consent.Unknown
	cases := []struct {
		name    string
		acct    account.Account
		kind    Kind
		c       *contact.Contact
		has     bool
		country string
		want    string
	}{
		{"opted in, US", enabled, Marketing, person(in, in, true, "US"), true, "", ""},
		{"opted in, CA", enabled, Transactional, person(in, in, true, "CA"), true, "", ""},
		{"SMS off", account.Account{AllowedCountries: []string{"US"}}, Transactional, person(in, in, true, "US"), true, "", ReasonSMSNotEnabled},
		{"opted out of marketing only", enabled, Marketing, person(in, out, true, "US"), true, "", ReasonNotOptedIn},
		{"transactional still goes", enabled, Transactional, person(in, out, true, "US"), true, "", ""},
		{"unknown preference", enabled, Marketing, person(unknown, unknown, true, "US"), true, "", ReasonNotOptedIn},
		{"opted out of everything", enabled, Transactional, person(out, out, true, "US"), true, "", ReasonNotOptedIn},
		{"landline", enabled, Transactional, person(in, in, false, "US"), true, "", ReasonInvalidPhone},
		{"consent before phone", enabled, Marketing, person(out, out, false, "US"), true, "", ReasonNotOptedIn},
		{"UK not allowed", enabled, Marketing, person(in, in, true, "GB"), true, "", ReasonCountryNotAllowed},
		{"deleted contact", enabled, Marketing, nil, true, "", ReasonContactDeleted},
		{"reply to an opted-out contact", enabled, Reply, person(out, out, true, "US"), true, "", ""},
		{"test to a US number", enabled, Test, nil, false, "US", ""},
		{"test abroad", enabled, Test, nil, false, "DE", ReasonCountryNotAllowed},
		{"test with SMS off", account.Account{AllowedCountries: []string{"US"}}, Test, nil, false, "US", ReasonSMSNotEnabled},
	}
	for _, tc := range cases {
		require.Equal(t, tc.want, Skip(tc.acct, tc.kind, tc.c, tc.has, tc.country), tc.name)
	}
}

func TestTransitions(t *testing.T) {
	t.Parallel()
	cases := []struct {
		from, to Status
		ok       bool
	}{
		{Queued, Sending, true}, {Sending, Sent, true}, {Sent, Delivered, true}, {Sent, Undelivered, true},
		{Sent, Failed, true}, {Sending, Queued, true}, {Sending, RateLimited, true}, {RateLimited, Sending, true},
		{LimitQueued, Queued, true}, {LimitQueued, Cancelled, true}, {Sending, Skipped, true}, {Queued, Skipped, true},
		{Delivered, Sent, false}, {Delivered, Undelivered, false}, {Undelivered, Delivered, false},
		{Failed, Sent, false}, {Cancelled, Queued, false}, {Skipped, Queued, false}, {Queued, Delivered, false},
		{Queued, Cancelled, false}, {LimitQueued, Sending, false}, {Sent, Queued, false}, {Queued, LimitQueued, true},
	}
	for _, tc := range cases {
		require.Equal(t, tc.ok, CanMove(tc.from, tc.to), "%s → %s", tc.from, tc.to)
	}
}
