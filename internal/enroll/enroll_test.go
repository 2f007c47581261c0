package enroll_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"html"
	"net/http"
	"net/netip"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldsms/herald/internal/account"
	"github.com/heraldsms/herald/internal/consent"
	"github.com/heraldsms/herald/internal/db"
	"github.com/heraldsms/herald/internal/db/dbtest"
	"github.com/heraldsms/herald/internal/enroll"
	"github.com/heraldsms/herald/internal/inbound"
	"github.com/heraldsms/herald/internal/message"
)

// The disclosure as the issue asks for it, in the words a person reads.
var disclosureParts = []string{
	"Acme", "Up to 4 msgs/month.", "Msg &amp; data rates may apply.", "Reply STOP to opt out, HELP for help.",
	`href="https://acme.example/sms-terms"`,
}

func TestHostedPageShowsTheFormAndTheDisclosure(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		b := setup(t, d)
		b.settings(account.EnrollSettings{MessageFrequency: "Up to 4 msgs/month", TermsURL: "https://acme.example/sms-terms"})
		res := b.get(b.page())
		require.Equal(t, http.StatusOK, res.status, res.body)
		require.Equal(t, "text/html; charset=utf-8", res.header.Get("Content-Type"))
		require.Contains(t, res.header.Get("Content-Security-Policy"), "default-src 'none'")
		for _, part := range disclosureParts {
			require.Contains(t, res.body, part)
		}
		require.Contains(t, res.body, `<meta name="viewport" content="width=device-width, initial-scale=1">`)
		require.Contains(t, res.body, "<h1>Acme Rewards</h1>")
		for _, field := range []string{"name", "email", "phone", "sms_opt_in"} {
			require.Contains(t, res.body, `<label for="he-`+field+`">`, "every input has a label")
			require.Contains(t, res.body, `id="he-`+field+`"`)
		}
		box := regexp.MustCompile(`<input type="checkbox"[^>]*>`).FindString(res.body)
		require.NotEmpty(t, box)
		require.NotContains(t, box, "checked", "the box is unchecked until the person ticks it")
		require.Contains(t, box, `aria-describedby="he-disclosure"`)
		require.Contains(t, res.body, `aria-describedby="he-phone-hint"`)
		// Focus follows reading order: name, email, phone, the box, submit.
		order := []string{`id="he-name"`, `id="he-email"`, `id="he-phone"`, `id="he-sms_opt_in"`, `type="submit"`}
		last := -1
		for _, s := range order {
			at := strings.Index(res.body, s)
			require.Greater(t, at, last, "%s is out of order", s)
			last = at
		}
		require.NotContains(t, res.body, "tabindex=\"1", "no positive tabindex reorders focus")

		css := b.get("/enroll/enroll.css")
		require.Equal(t, http.StatusOK, css.status)
		require.Equal(t, "text/css; charset=utf-8", css.header.Get("Content-Type"))
	})
}

func TestDefaultFrequencyAndNoTermsLink(t *testing.T) {
	t.Parallel()
	b := setup(t, dbtest.New(t, db.SQLite))
	res := b.get(b.page())
	require.Equal(t, http.StatusOK, res.status)
	require.Contains(t, res.body, "Msg frequency varies. Msg &amp; data rates may apply.")
	require.NotContains(t, res.body, "SMS terms (opens in a new tab)</a>")
}

func TestUnknownProgramIsNotFound(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		b := setup(t, d)
		for _, path := range []string{"/enroll/prg_01jd0000000000000000000000", "/enroll/nonsense", "/enroll/" + b.program.ID + "/nope"} {
			res := b.get(path)
			require.Equal(t, http.StatusNotFound, res.status, path)
			require.Contains(t, res.body, "This sign-up page doesn't exist", path)
		}
		res := b.postJSON("/enroll/prg_01jd0000000000000000000000", map[string]any{"name": "Ava", "phone": "(415) 555-0134"})
		require.Equal(t, http.StatusNotFound, res.status)
		require.Equal(t, "not_found", res.errorCode(t))
		require.Zero(t, b.contactCount())
	})
}

func TestTickedBoxRecordsConsentWithItsEvidence(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		b := setup(t, d)
		b.settings(account.EnrollSettings{MessageFrequency: "Up to 4 msgs/month.", TermsURL: "https://acme.example/sms-terms"})
		page := b.get(b.page())
		version := regexp.MustCompile(`name="disclosure_version" value="([0-9a-f]{64})"`).FindStringSubmatch(page.body)
		require.Len(t, version, 2)

		res := b.postForm(b.page(), url.Values{"name": {"Ava Lopez"}, "email": {"ava@example.com"}, "phone": {"(415) 555-0134"},
			"sms_opt_in": {"yes"}, "disclosure_version": {version[1]}},
			"Referer", b.http.URL+b.page()+"?utm_source=flyer", "User-Agent", "Mozilla/5.0 (test phone)",
			"X-Forwarded-For", "203.0.113.9")
		require.Equal(t, http.StatusOK, res.status, res.body)
		require.Contains(t, res.body, "You&#39;re subscribed to texts from Acme")
		require.Contains(t, res.body, `role="status"`)

		c := b.contactByPhone("+14155550134")
		require.Equal(t, "Ava", c.FirstName)
		require.Equal(t, "Lopez", c.LastName)
		require.Equal(t, "ava@example.com", c.Email)
		require.Equal(t, consent.OptedIn, c.Preference(consent.Marketing))
		records := b.consents(c.ID)
		require.NotEmpty(t, records)
		var marketing *consent.Record
		for i := range records {
			require.Equal(t, consent.SourceWidget, records[i].Source)
			require.Equal(t, consent.OptedIn, records[i].To)
			if records[i].Kind == consent.Marketing {
				marketing = &records[i]
			}
		}
		require.NotNil(t, marketing)
		ev := evidenceOf(t, *marketing)
		text := ev["disclosure"].(string)
		for _, part := range []string{"Yes, text me about Acme Rewards from Acme.", "Up to 4 msgs/month.",
			"Msg & data rates may apply.", "Reply STOP to opt out, HELP for help.", "Terms: https://acme.example/sms-terms"} {
			require.Contains(t, text, part)
		}
		label, body, ok := strings.Cut(strings.TrimSuffix(text, " Terms: https://acme.example/sms-terms"), " By checking")
		require.True(t, ok, text)
		shown := html.UnescapeString(page.body)
		require.Contains(t, shown, ">"+label+"</label>", "the recorded text is the text the page showed")
		require.Contains(t, shown, ">By checking"+body+` <a href="https://acme.example/sms-terms" target="_blank" rel="noopener">SMS terms (opens in a new tab)</a>`)
		sum := sha256.Sum256([]byte(text))
		require.Equal(t, hex.EncodeToString(sum[:]), ev["disclosure_version"])
		require.Equal(t, version[1], ev["disclosure_version"], "the version the page showed")
		require.Equal(t, "127.0.0.1", ev["ip"], "the connection's address, not a header anyone can write")
		require.Equal(t, "Mozilla/5.0 (test phone)", ev["user_agent"])
		require.Equal(t, b.http.URL+b.page()+"?utm_source=flyer", ev["page"])
		require.Equal(t, b.clock.Now().Format(time.RFC3339Nano), ev["time"])
		require.Equal(t, b.program.ID, ev["program_id"])
		require.Equal(t, false, ev["double_opt_in"])
	})
}

func TestWidgetPostNamesItsPageAndGetsJSON(t *testing.T) {
	t.Parallel()
	b := setup(t, dbtest.New(t, db.SQLite))
	res := b.postForm(b.page(), url.Values{"name": {"Ava"}, "phone": {"4155550134"}, "sms_opt_in": {"on"},
		"page": {"https://shop.example/rewards#join"}},
		"Accept", "application/json", "Origin", "https://shop.example", "Referer", "https://shop.example/")
	require.Equal(t, http.StatusOK, res.status, res.body)
	require.Equal(t, "*", res.header.Get("Access-Control-Allow-Origin"))
	require.Equal(t, "subscribed", res.json(t)["status"])
	c := b.contactByPhone("+14155550134")
	records := b.consents(c.ID)
	require.Equal(t, "https://shop.example/rewards#join", evidenceOf(t, records[len(records)-1])["page"],
		"the page field wins over a Referer cut to the origin")
}

func TestUntickedBoxSavesTheContactWithoutConsent(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		b := setup(t, d)
		res := b.postJSON(b.page(), map[string]any{"name": "Ava", "phone": "(415) 555-0134", "sms_opt_in": false})
		require.Equal(t, http.StatusOK, res.status, res.body)
		require.Equal(t, "saved", res.json(t)["status"])
		c := b.contactByPhone("+14155550134")
		require.Equal(t, consent.Unknown, c.Preference(consent.Marketing))
		require.Equal(t, consent.Unknown, c.Preference(consent.Transactional))
		require.Empty(t, b.consents(c.ID))

		// The same phone again updates that contact rather than making another.
		res = b.postJSON(b.page(), map[string]any{"name": "Ava Lopez", "phone": "415.555.0134"})
		require.Equal(t, http.StatusOK, res.status, res.body)
		require.Equal(t, 1, b.contactCount())
		require.Equal(t, "Lopez", b.contactByPhone("+14155550134").LastName)
	})
}

func TestBadInputIsRefusedInWordsAPersonCanActOn(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		b := setup(t, d)
		cases := []struct {
			name, form, field, code, message string
			in                               map[string]any
		}{
			{"no phone", "", "phone", "required", "Enter your mobile number, like (415) 555-0134.",
				map[string]any{"name": "Ava", "phone": ""}},
			{"too short", "", "phone", "invalid_phone", "Enter a mobile number with area code, like (415) 555-0134.",
				map[string]any{"name": "Ava", "phone": "555-0134"}},
			{"letters", "", "phone", "invalid_phone", "Use digits only. Enter a mobile number with area code, like (415) 555-0134.",
				map[string]any{"name": "Ava", "phone": "415-CALL-NOW"}},
			{"toll free", "", "phone", "not_mobile", "This number can't receive texts",
				map[string]any{"name": "Ava", "phone": "(800) 555-0199"}},
			{"extension", "", "phone", "not_mobile", "Enter a mobile number without an extension",
				map[string]any{"name": "Ava", "phone": "(415) 555-0134 x12"}},
			{"other country", "", "phone", "country_not_allowed", "We can only text mobile numbers in the United States or Canada.",
				map[string]any{"name": "Ava", "phone": "+44 7400 123456"}},
			{"bad email", "", "email", "invalid_email", "Enter an email address like name@example.com, or leave it empty.",
				map[string]any{"name": "Ava", "phone": "(415) 555-0134", "email": "ava@"}},
			{"no name", "", "name", "required", "Enter your name.",
				map[string]any{"name": "  ", "phone": "(415) 555-0134"}},
		}
		for _, tc := range cases {
			tc.in["sms_opt_in"] = true
			res := b.postJSON(b.page(), tc.in)
			require.Equal(t, http.StatusUnprocessableEntity, res.status, "%s: %s", tc.name, res.body)
			require.Equal(t, tc.code, res.errorCode(t), tc.name)
			env := res.json(t)["error"].(map[string]any)
			require.Equal(t, tc.field, env["field"], tc.name)
			require.Contains(t, env["message"], tc.message, tc.name)
		}
		require.Zero(t, b.contactCount(), "nothing is written for a refused form")

		// Without scripts, the page comes back with every problem next to
		// its field, linked for screen readers, and the answers kept.
		res := b.postForm(b.page(), url.Values{"name": {""}, "email": {"ava@"}, "phone": {"555"}, "sms_opt_in": {"yes"}})
		require.Equal(t, http.StatusUnprocessableEntity, res.status)
		require.Contains(t, res.body, `aria-describedby="he-phone-hint he-phone-error"`)
		require.Contains(t, res.body, `aria-invalid="true"`)
		require.Contains(t, res.body, `<p class="he-error" id="he-phone-error">Enter a mobile number with area code, like (415) 555-0134.</p>`)
		require.Contains(t, res.body, `<p class="he-error" id="he-name-error">Enter your name.</p>`)
		require.Contains(t, res.body, `<a href="#he-email">`)
		require.Contains(t, res.body, `value="555"`)
		require.Regexp(t, `<input type="checkbox"[^>]* checked`, res.body, "a ticked box stays ticked")
		require.Zero(t, b.contactCount())
	})
}

func TestMalformedBodies(t *testing.T) {
	t.Parallel()
	b := setup(t, dbtest.New(t, db.SQLite))
	for _, body := range []any{"not an object", map[string]any{"name": "Ava", "phone": "4155550134", "admin": true}} {
		res := b.postJSON(b.page(), body)
		require.Equal(t, http.StatusBadRequest, res.status, res.body)
		require.Equal(t, "malformed_json", res.errorCode(t))
	}
	require.Zero(t, b.contactCount())
}

func TestChangedDisclosureIsNotRecordedAsAgreed(t *testing.T) {
	t.Parallel()
	b := setup(t, dbtest.New(t, db.SQLite))
	page := b.get(b.page())
	old := regexp.MustCompile(`name="disclosure_version" value="([0-9a-f]{64})"`).FindStringSubmatch(page.body)[1]
	b.settings(account.EnrollSettings{MessageFrequency: "Up to 30 msgs/month."})
	res := b.postForm(b.page(), url.Values{"name": {"Ava"}, "phone": {"4155550134"}, "sms_opt_in": {"yes"}, "disclosure_version": {old}})
	require.Equal(t, http.StatusConflict, res.status, res.body)
	require.Contains(t, res.body, "The text message terms on this form have changed.")
	require.Contains(t, res.body, "Up to 30 msgs/month.", "the page shows the new terms")
	require.Zero(t, b.contactCount())
}

func TestSubmissionsAreRateLimitedPerAddress(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		b := setup(t, d, enroll.Limits{Burst: 3, Every: time.Minute})
		for i := 0; i < 3; i++ {
			res := b.postJSON(b.page(), map[string]any{"name": "Ava", "phone": "4155550134"})
			require.Equal(t, http.StatusOK, res.status, res.body)
		}
		res := b.postJSON(b.page(), map[string]any{"name": "Ava", "phone": "4155550134"})
		require.Equal(t, http.StatusTooManyRequests, res.status)
		require.Equal(t, "rate_limited", res.errorCode(t))
		require.Equal(t, "60", res.header.Get("Retry-After"))
		require.Contains(t, res.json(t)["error"].(map[string]any)["message"], "Please wait a minute and try again.")
		form := b.postForm(b.page(), url.Values{"name": {"Ava"}, "phone": {"4155550134"}})
		require.Equal(t, http.StatusTooManyRequests, form.status)
		require.Contains(t, form.body, "Too many sign-ups from your network.")

		b.clock.Advance(time.Minute)
		res = b.postJSON(b.page(), map[string]any{"name": "Ava", "phone": "4155550134"})
		require.Equal(t, http.StatusOK, res.status, "the allowance comes back with time")
	})
}

// Behind a trusted reverse proxy every visitor arrives from the proxy's
// address: the limit and the evidence go by the visitor the proxy names.
func TestBehindATrustedProxyEachVisitorHasTheirOwnLimit(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		b := setup(t, d, enroll.Limits{Burst: 1, Every: time.Minute,
			TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}})
		submit := func(phone, forwardedFor string) response {
			return b.postForm(b.page(), url.Values{"name": {"Ava"}, "phone": {phone}, "sms_opt_in": {"yes"}},
				"X-Forwarded-For", forwardedFor)
		}
		require.Equal(t, http.StatusOK, submit("4155550134", "198.51.100.1").status)
		require.Equal(t, http.StatusOK, submit("4155550135", "198.51.100.2").status, "another visitor behind the same proxy")
		require.Equal(t, http.StatusTooManyRequests, submit("4155550136", "198.51.100.1").status)
		require.Equal(t, http.StatusTooManyRequests, submit("4155550137", "198.51.100.9, 198.51.100.1").status,
			"an address the visitor wrote left of the proxy's entry is not taken")

		records := b.consents(b.contactByPhone("+14155550135").ID)
		require.NotEmpty(t, records)
		require.Equal(t, "198.51.100.2", evidenceOf(t, records[0])["ip"])
	})
}

func TestDoubleOptInWaitsForY(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		b := setup(t, d)
		ctx := context.Background()
		b.enableSMS()
		b.settings(account.EnrollSettings{DoubleOptIn: true})
		res := b.postForm(b.page(), url.Values{"name": {"Ava"}, "phone": {"(415) 555-0134"}, "sms_opt_in": {"yes"}},
			"Referer", "https://shop.example/join", "User-Agent", "phone browser")
		require.Equal(t, http.StatusOK, res.status, res.body)
		require.Contains(t, res.body, "Reply Y to that text to confirm")
		c := b.contactByPhone("+14155550134")
		require.Equal(t, consent.Unknown, c.Preference(consent.Marketing), "no opt-in before the Y")
		require.Empty(t, b.consents(c.ID))

		// The confirmation goes out through the send queue, as a transactional text.
		page, err := b.messages.List(ctx, b.acct.ID, message.Filter{Limit: 10})
		require.NoError(t, err)
		require.Len(t, page.Data, 1)
		m := page.Data[0]
		require.Equal(t, message.Transactional, m.Kind)
		require.Equal(t, message.Queued, m.Status)
		require.Equal(t, "+14155550134", m.To)
		require.Equal(t, senderNumber, m.From)
		require.Equal(t, "Acme: Reply Y to confirm you want texts about Acme Rewards. Msg frequency varies. "+
			"Msg & data rates may apply. Reply HELP for help, STOP to opt out.", m.Body)

		b.clock.Advance(3 * time.Minute)
		in := b.reply("+14155550134", "Y")
		require.Equal(t, inbound.ActionConfirmed, in.Action)
		require.Equal(t, account.DefaultOptIn("Acme"), in.Reply)
		c = b.contactByPhone("+14155550134")
		require.Equal(t, consent.OptedIn, c.Preference(consent.Marketing))
		records := b.consents(c.ID)
		require.NotEmpty(t, records)
		for _, r := range records {
			require.Equal(t, consent.SourceWidget, r.Source)
			ev := evidenceOf(t, r)
			require.Equal(t, "127.0.0.1", ev["ip"])
			require.Equal(t, "phone browser", ev["user_agent"])
			require.Equal(t, "https://shop.example/join", ev["page"])
			require.Equal(t, b.clock.Now().Add(-3*time.Minute).Format(time.RFC3339Nano), ev["time"], "the time of the form, not of the Y")
			require.Contains(t, ev["disclosure"], "Reply STOP to opt out, HELP for help.")
			sum := sha256.Sum256([]byte(ev["disclosure"].(string)))
			require.Equal(t, hex.EncodeToString(sum[:]), ev["disclosure_version"])
			require.Equal(t, true, ev["double_opt_in"])
			conf := ev["confirmation"].(map[string]any)
			require.Equal(t, m.ID, conf["message_id"])
			require.Equal(t, in.ID, conf["inbound_id"])
			require.Equal(t, "Y", conf["reply"])
		}

		again := b.reply("+14155550134", "Y")
		require.Equal(t, inbound.ActionNone, again.Action, "a second Y is an ordinary reply")
		require.Empty(t, again.Reply)
		require.Len(t, b.consents(c.ID), len(records), "and changes nothing")
	})
}

func TestYWithoutAnEnrollmentIsAnOrdinaryReply(t *testing.T) {
	t.Parallel()
	b := setup(t, dbtest.New(t, db.SQLite))
	b.enableSMS()
	res := b.postJSON(b.page(), map[string]any{"name": "Ava", "phone": "4155550134"})
	require.Equal(t, http.StatusOK, res.status, res.body)
	in := b.reply("+14155550134", "y")
	require.Equal(t, inbound.ActionNone, in.Action)
	require.Empty(t, b.consents(b.contactByPhone("+14155550134").ID))
}

func TestAConfirmationExpires(t *testing.T) {
	t.Parallel()
	b := setup(t, dbtest.New(t, db.SQLite))
	b.enableSMS()
	b.settings(account.EnrollSettings{DoubleOptIn: true})
	res := b.postJSON(b.page(), map[string]any{"name": "Ava", "phone": "4155550134", "sms_opt_in": true})
	require.Equal(t, http.StatusOK, res.status, res.body)
	require.Equal(t, "confirmation_sent", res.json(t)["status"])
	b.clock.Advance(8 * 24 * time.Hour)
	require.Equal(t, inbound.ActionNone, b.reply("+14155550134", "Y").Action)
	require.Empty(t, b.consents(b.contactByPhone("+14155550134").ID))
}

func TestDoubleOptInWithoutSMSRefusesBeforeWriting(t *testing.T) {
	t.Parallel()
	b := setup(t, dbtest.New(t, db.SQLite))
	b.settings(account.EnrollSettings{DoubleOptIn: true})
	res := b.postJSON(b.page(), map[string]any{"name": "Ava", "phone": "4155550134", "sms_opt_in": true})
	require.Equal(t, http.StatusServiceUnavailable, res.status, res.body)
	require.Equal(t, "texts_unavailable", res.errorCode(t))
	require.Zero(t, b.contactCount())
}

func TestWidgetScriptAndFragment(t *testing.T) {
	t.Parallel()
	b := setup(t, dbtest.New(t, db.SQLite))
	js := b.get("/enroll/widget.js")
	require.Equal(t, http.StatusOK, js.status)
	require.Equal(t, "text/javascript; charset=utf-8", js.header.Get("Content-Type"))
	require.Equal(t, "nosniff", js.header.Get("X-Content-Type-Options"))
	require.Contains(t, js.body, `getAttribute("data-program")`)

	frag := b.get(b.page() + "/form")
	require.Equal(t, http.StatusOK, frag.status)
	require.Equal(t, "*", frag.header.Get("Access-Control-Allow-Origin"))
	require.NotContains(t, frag.body, "<html", "a fragment to place in the customer's page")
	require.Contains(t, frag.body, `<form class="he-form"`)
	require.Contains(t, frag.body, "Msg &amp; data rates may apply.")

	req, err := http.NewRequest("OPTIONS", b.http.URL+b.page(), nil)
	require.NoError(t, err)
	req.Header.Set("Origin", "https://shop.example")
	req.Header.Set("Access-Control-Request-Method", "POST")
	req.Header.Set("Access-Control-Request-Headers", "content-type")
	pre := b.request(req)
	require.Equal(t, http.StatusNoContent, pre.status)
	require.Equal(t, "*", pre.header.Get("Access-Control-Allow-Origin"))
	require.Contains(t, pre.header.Get("Access-Control-Allow-Headers"), "Content-Type")
}

func TestNamesAreShownEscaped(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		b := setup(t, d)
		evil := "<script>alert(1)</script>"
		res := b.postForm(b.page(), url.Values{"name": {evil}, "phone": {"4155550134"}})
		require.Equal(t, http.StatusOK, res.status, res.body)
		require.NotContains(t, res.body, evil)
		require.Contains(t, res.body, "Thanks, &lt;script&gt;alert(1)&lt;/script&gt;!")
		require.Equal(t, evil, b.contactByPhone("+14155550134").FirstName, "kept as typed, escaped when shown")

		res = b.postForm(b.page(), url.Values{"name": {`"><script>alert(1)</script>`}, "phone": {"555"}})
		require.Equal(t, http.StatusUnprocessableEntity, res.status)
		require.NotContains(t, res.body, "<script>alert(1)")
		require.Contains(t, res.body, `value="&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"`)

		js := b.postJSON(b.page(), map[string]any{"name": evil, "phone": "4155550134"})
		require.NotContains(t, js.body, "<script>")
	})
}
