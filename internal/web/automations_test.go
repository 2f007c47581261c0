package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/stretchr/testify/require"

	"github.com/heraldsms/herald/internal/account"
	"github.com/heraldsms/herald/internal/automation"
	"github.com/heraldsms/herald/internal/consent"
	"github.com/heraldsms/herald/internal/db"
	"github.com/heraldsms/herald/internal/db/dbtest"
)

// aoFormValues reads a form as a browser would submit it: every named
// field, checked boxes only, each select's chosen option.
func aoFormValues(t *testing.T, p *page, form string) url.Values {
	t.Helper()
	f := p.doc.Find(form)
	require.Equal(t, 1, f.Length(), "no form %s in %s", form, p.text())
	v := url.Values{}
	f.Find("input, select, textarea").Each(func(_ int, el *goquery.Selection) {
		name, ok := el.Attr("name")
		if !ok {
			return
		}
		switch goquery.NodeName(el) {
		case "select":
			opt := el.Find("option[selected]")
			if opt.Length() == 0 {
				opt = el.Find("option").First()
			}
			v.Add(name, opt.AttrOr("value", opt.Text()))
		case "textarea":
			v.Add(name, el.Text())
		default:
			switch el.AttrOr("type", "text") {
			case "submit", "button", "file":
			case "checkbox", "radio":
				if _, checked := el.Attr("checked"); checked {
					v.Add(name, el.AttrOr("value", "on"))
				}
			default:
				v.Add(name, el.AttrOr("value", ""))
			}
		}
	})
	return v
}

// aoEditor posts the automation editor with one of its buttons.
func aoEditor(b *browser, path string, v url.Values, op string) *page {
	b.t.Helper()
	v.Set("op", op)
	return b.post(path, v)
}

func TestBuildAndPublishAnAutomationInTheEditor(t *testing.T) {
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		s := newSite(t, d.Engine)
		ctx := context.Background()
		reward := aoTemplate(t, s, "Reward approved", "transactional", "Hi {{first_name}}, your {{reward_amount}} reward is approved!", true)
		offer := aoTemplate(t, s, "Come back", "marketing", "{{brand}}: Hi {{first_name}}, spend your reward this week. Reply STOP to opt out.", true)
		draft := aoTemplate(t, s, "Not approved", "transactional", "Draft text", false)
		b := s.as(account.RoleEditor)

		p := b.get("/automations/new")
		require.Equal(t, http.StatusOK, p.status, p.text())
		// The picker offers approved templates only.
		var offered []string
		p.doc.Find("#auto-step-0-template-id option").Each(func(_ int, o *goquery.Selection) {
			offered = append(offered, o.AttrOr("value", ""))
		})
		require.ElementsMatch(t, []string{"", reward, offer}, offered)
		require.NotContains(t, offered, draft)

		// Rows are added by a button that re-renders the form, keeping
		// what was typed.
		v := aoFormValues(t, p, "#automation-form")
		v.Set("name", aoXSS)
		p = aoEditor(b, "/automations", v, "add_condition")
		require.Equal(t, http.StatusOK, p.status, p.text())
		require.Equal(t, aoXSS, p.doc.Find("#auto-name").AttrOr("value", ""))
		require.Equal(t, 1, p.doc.Find("#auto-cond-0-field").Length())
		// The same through htmx answers with the form alone, for a swap.
		v = aoFormValues(t, p, "#automation-form")
		v.Set("op", "add_wait")
		frag := b.htmx(http.MethodPost, "/automations", v)
		require.Equal(t, http.StatusOK, frag.status)
		require.True(t, strings.HasPrefix(strings.TrimSpace(frag.body), "<form"), frag.body)
		require.Equal(t, 1, frag.doc.Find("#auto-step-1-duration").Length())
		p = aoEditor(b, "/automations", aoFormValues(t, frag, "#automation-form"), "add_send")
		require.Equal(t, 3, p.doc.Find(".ao-step").Length())
		aoRequireEscaped(t, p)

		v = aoFormValues(t, p, "#automation-form")
		v.Set("event", automation.EventRewardApproved)
		v["cond_field"], v["cond_op"], v["cond_value"] = []string{"event.data.amount"}, []string{"gte"}, []string{"10"}
		v["step_template"] = []string{reward, "", offer}
		v["step_kind"] = []string{"", "", "marketing"}
		v["step_duration"] = []string{"", "3d", ""}
		v.Set("test_numbers", "+17345550199\n")
		p = aoEditor(b, "/automations", v, "publish")
		require.Equal(t, http.StatusOK, p.status, p.text())
		require.Contains(t, p.text(), "Saved and published")
		aoRequireEscaped(t, p)

		list, err := s.app.Automations.List(ctx, s.acct)
		require.NoError(t, err)
		require.Len(t, list, 1)
		a := list[0]
		require.Equal(t, "/automations/"+a.ID, p.url.Path)
		require.Equal(t, automation.StatusPublished, a.Status)
		require.Equal(t, automation.Definition{
			Name:       aoXSS,
			Trigger:    automation.Trigger{Type: automation.TriggerEvent, Event: automation.EventRewardApproved},
			Conditions: automation.Conditions{All: []automation.Condition{{Field: "event.data.amount", Op: "gte", Value: float64(10)}}},
			Steps: []automation.Step{{Type: automation.StepSendSMS, TemplateID: reward}, {Type: automation.StepWait, Duration: "3d"},
				{Type: automation.StepSendSMS, TemplateID: offer, Kind: consent.Marketing}},
			TestNumbers: []string{"+17345550199"},
		}, a.Definition)

		// Its page says what it does; it runs once turned on.
		require.Equal(t, "published", strings.TrimSpace(p.doc.Find("#automation-status").Text()))
		require.Contains(t, p.doc.Find("#automation-trigger").Text(), "reward.approved")
		require.Contains(t, p.doc.Find("#automation-steps").Text(), "Reward approved")
		require.Contains(t, p.doc.Find("#automation-steps").Text(), "Wait 3d")
		require.Zero(t, p.doc.Find("#automation-publish").Length(), "nothing left to publish")
		p = b.post("/automations/"+a.ID+"/enable", nil)
		require.Equal(t, http.StatusOK, p.status, p.text())
		require.Equal(t, "on", strings.TrimSpace(p.doc.Find("#automation-enabled").Text()))
		got, err := s.app.Automations.Get(ctx, s.acct, a.ID)
		require.NoError(t, err)
		require.True(t, got.Enabled)

		// Editing makes a draft; the published version keeps running.
		p = b.get("/automations/" + a.ID + "/edit")
		v = aoFormValues(t, p, "#automation-form")
		require.Equal(t, []string{"event.data.amount"}, v["cond_field"])
		require.Equal(t, []string{"10"}, v["cond_value"])
		require.Equal(t, "+17345550199", strings.TrimSpace(v.Get("test_numbers")))
		v.Set("join", "any")
		p = aoEditor(b, "/automations/"+a.ID, v, "save")
		require.Equal(t, http.StatusOK, p.status, p.text())
		got, err = s.app.Automations.Get(ctx, s.acct, a.ID)
		require.NoError(t, err)
		require.True(t, got.HasDraft)
		require.Equal(t, 1, *got.PublishedVersion)
		require.Len(t, got.Definition.Conditions.Any, 1)
		require.Equal(t, 1, p.doc.Find("#automation-publish").Length())
		p = b.post("/automations/"+a.ID+"/publish", nil)
		require.Equal(t, http.StatusOK, p.status, p.text())
		got, err = s.app.Automations.Get(ctx, s.acct, a.ID)
		require.NoError(t, err)
		require.False(t, got.HasDraft)

		p = b.post("/automations/"+a.ID+"/disable", nil)
		require.Equal(t, http.StatusOK, p.status, p.text())
		got, err = s.app.Automations.Get(ctx, s.acct, a.ID)
		require.NoError(t, err)
		require.False(t, got.Enabled)

		// The list names it, escaped.
		p = s.as(account.RoleViewer).get("/automations")
		require.Equal(t, 1, p.doc.Find("#automations-list tbody tr").Length())
		aoRequireEscaped(t, p)
		require.Zero(t, p.doc.Find("#automation-new").Length(), "a viewer cannot build one")
	})
}

// TestEditorShowsEachRefusalBesideItsField breaks a valid form one field
// at a time: each refusal is shown on the field it is about, the form
// keeps what was typed, and nothing is stored.
func TestEditorShowsEachRefusalBesideItsField(t *testing.T) {
	s := newSite(t, db.SQLite)
	tpl := aoTemplate(t, s, "Reward approved", "transactional", "Hi {{first_name}}, your reward is approved!", true)
	otherAcct, _ := dqsOtherAccount(t, s)
	theirs, err := s.app.Accounts.CreateProgram(context.Background(), otherAcct, account.NewProgram{Name: "Theirs"})
	require.NoError(t, err)
	b := s.as(account.RoleEditor)
	base := func() url.Values {
		p := b.get("/automations/new")
		v := aoFormValues(t, p, "#automation-form")
		v.Set("name", "Thank advocates")
		v["step_template"] = []string{tpl}
		return v
	}
	schedule := func(v url.Values) {
		v.Set("trigger_type", "schedule")
		v.Set("schedule_mode", "once")
		v.Set("at", "2031-03-01T10:00")
		v.Set("time_zone", "America/Chicago")
	}
	for _, c := range []struct {
		name  string
		edit  func(v url.Values)
		field string // the id of the field that shows the refusal
		want  string
	}{
		{"no name", func(v url.Values) { v.Set("name", " ") }, "auto-name", "give the automation a name"},
		{"custom event type", func(v url.Values) { v.Set("event", "custom"); v.Set("custom_event", "Order Shipped") },
			"auto-trigger-custom-event", "is not an event type"},
		{"unknown condition field", func(v url.Values) {
			v["cond_group"], v["cond_field"], v["cond_op"], v["cond_value"] = []string{""}, []string{"event.amount"}, []string{"eq"}, []string{"1"}
		}, "auto-cond-0-field", "is not a field"},
		{"empty in list", func(v url.Values) {
			v["cond_group"], v["cond_field"], v["cond_op"], v["cond_value"] = []string{"", ""}, []string{"", "contact.attributes.tier"},
				[]string{"eq", "in"}, []string{"", " , "}
		}, "auto-cond-1-value", "in takes a list"},
		{"no template", func(v url.Values) { v["step_template"] = []string{""} }, "auto-step-0-template-id", "name the template"},
		{"wait in words", func(v url.Values) {
			v["step_type"], v["step_template"], v["step_kind"], v["step_duration"] = []string{"wait", "send_sms"},
				[]string{"", tpl}, []string{"", ""}, []string{"3 days", ""}
		}, "auto-step-0-duration", "is not a duration"},
		{"wait last", func(v url.Values) {
			v["step_type"], v["step_template"], v["step_kind"], v["step_duration"] = []string{"send_sms", "wait"},
				[]string{tpl, ""}, []string{"", ""}, []string{"", "1d"}
		}, "auto-step-1", "a wait must be followed"},
		{"bad test number", func(v url.Values) { v.Set("test_numbers", "+1734555\n") }, "auto-test-numbers", "is not a valid number"},
		{"test mode alone", func(v url.Values) { v.Set("test_mode", "on") }, "auto-test-numbers", "add one"},
		{"unknown zone", func(v url.Values) { schedule(v); v.Set("time_zone", "Mars/Olympus") }, "auto-trigger-time-zone", "IANA time zone"},
		{"no time", func(v url.Values) { schedule(v); v.Set("at", "") }, "auto-trigger-at", "needs at (once) or cron"},
		{"bad cron", func(v url.Values) { schedule(v); v.Set("schedule_mode", "repeat"); v.Set("cron", "61 * * * *") },
			"auto-trigger-cron", "minute"},
		{"event field on a schedule", func(v url.Values) {
			schedule(v)
			v["cond_group"], v["cond_field"], v["cond_op"], v["cond_value"] = []string{""}, []string{"event.data.amount"}, []string{"gt"}, []string{"5"}
		}, "auto-cond-0-field", "has no event"},
		{"bad audience attribute", func(v url.Values) {
			schedule(v)
			v["attr_group"], v["attr_field"], v["attr_op"], v["attr_value"] = []string{""}, []string{"tier"}, []string{"exists"}, []string{"maybe"}
		}, "auto-attr-0-value", "exists takes true or false"},
		{"another account's program", func(v url.Values) { v.Set("program_id", theirs.ID) }, "", "no program"},
	} {
		t.Run(c.name, func(t *testing.T) {
			v := base()
			c.edit(v)
			p := aoEditor(b, "/automations", v, "save")
			require.Equal(t, http.StatusUnprocessableEntity, p.status, p.text())
			summary := p.doc.Find("#automation-errors")
			require.Contains(t, strings.ToLower(summary.Text()), strings.ToLower(c.want))
			if c.field != "" {
				require.Equal(t, 1, summary.Find(`a[href="#`+c.field+`"]`).Length(), summary.Text())
				field := p.doc.Find("#" + c.field)
				require.Equal(t, 1, field.Length())
				if goquery.NodeName(field) != "li" {
					require.Equal(t, "true", field.AttrOr("aria-invalid", ""))
					require.Contains(t, field.AttrOr("aria-describedby", ""), c.field+"-error")
					require.Contains(t, strings.ToLower(p.doc.Find("#"+c.field+"-error").Text()), strings.ToLower(c.want))
				}
			}
			// What was typed is still there.
			require.Equal(t, strings.TrimSpace(v.Get("name")), strings.TrimSpace(p.doc.Find("#auto-name").AttrOr("value", "")))
		})
	}
	list, err := s.app.Automations.List(context.Background(), s.acct)
	require.NoError(t, err)
	require.Empty(t, list)
}

func TestScheduleTriggerRoundTrips(t *testing.T) {
	s := newSite(t, db.SQLite)
	ctx := context.Background()
	tpl := aoTemplate(t, s, "Weekend offer", "marketing", "{{brand}}: double points this weekend! Reply STOP to opt out.", true)
	b := s.as(account.RoleEditor)
	p := b.get("/automations/new")
	v := aoFormValues(t, p, "#automation-form")
	v.Set("name", "Weekend promo")
	v.Set("trigger_type", "schedule")
	v.Set("schedule_mode", "once")
	v.Set("at", "2031-01-15T09:30")
	v.Set("time_zone", "America/Chicago")
	v["attr_group"], v["attr_field"], v["attr_op"], v["attr_value"] = []string{""}, []string{"tier"}, []string{"in"}, []string{"gold, silver"}
	v["step_template"] = []string{tpl}
	p = aoEditor(b, "/automations", v, "publish")
	require.Equal(t, http.StatusOK, p.status, p.text())
	list, err := s.app.Automations.List(ctx, s.acct)
	require.NoError(t, err)
	require.Len(t, list, 1)
	def := list[0].Definition
	require.Equal(t, automation.Trigger{Type: automation.TriggerSchedule, At: "2031-01-15T09:30:00-06:00"}, def.Trigger)
	require.Equal(t, &automation.Audience{Attributes: []automation.Condition{{Field: "tier", Op: "in", Value: []any{"gold", "silver"}}}}, def.Audience)
	require.Contains(t, p.doc.Find("#automation-audience").Text(), "tier is one of gold, silver")

	// The editor shows it back: the time in UTC, the same instant.
	p = b.get("/automations/" + list[0].ID + "/edit")
	v = aoFormValues(t, p, "#automation-form")
	require.Equal(t, "schedule", v.Get("trigger_type"))
	require.Equal(t, "2031-01-15T15:30", v.Get("at"))
	require.Equal(t, "UTC", v.Get("time_zone"))
	require.Equal(t, []string{"gold, silver"}, v["attr_value"])

	// A repeating schedule keeps its zone.
	v.Set("schedule_mode", "repeat")
	v.Set("cron", "0 10 * * 1")
	v.Set("time_zone", "America/New_York")
	p = aoEditor(b, "/automations/"+list[0].ID, v, "save")
	require.Equal(t, http.StatusOK, p.status, p.text())
	got, err := s.app.Automations.Get(ctx, s.acct, list[0].ID)
	require.NoError(t, err)
	require.Equal(t, automation.Trigger{Type: automation.TriggerSchedule, Cron: "0 10 * * 1", TimeZone: "America/New_York"}, got.Definition.Trigger)
}

func TestPublishRefusalsAreShownOnTheStep(t *testing.T) {
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		s := newSite(t, d.Engine)
		ctx := context.Background()
		draft := aoTemplate(t, s, "Not approved yet", "transactional", "Thanks for joining!", false)
		points := aoTemplate(t, s, "Points", "marketing", "{{brand}}: you have {{points}} points to spend. Reply STOP to opt out.", true)
		b := s.as(account.RoleEditor)

		a, err := s.app.Automations.Create(ctx, s.acct, automation.Definition{Name: "Welcome",
			Trigger: automation.Trigger{Type: automation.TriggerEvent, Event: automation.EventAdvocateEnrolled},
			Steps:   []automation.Step{{Type: automation.StepSendSMS, TemplateID: draft}}}, "test")
		require.NoError(t, err)
		p := b.get("/automations/" + a.ID)
		require.Equal(t, 1, p.doc.Find("#automation-publish").Length())
		p = b.post("/automations/"+a.ID+"/publish", nil)
		require.Equal(t, http.StatusUnprocessableEntity, p.status, p.text())
		field := p.doc.Find("#auto-step-0-template-id")
		require.Equal(t, "true", field.AttrOr("aria-invalid", ""))
		require.Contains(t, p.doc.Find("#auto-step-0-template-id-error").Text(), "has no approved version")
		// The unapproved template stays chosen, so the form can be saved as it is.
		require.Equal(t, draft, field.Find("option[selected]").AttrOr("value", ""))
		require.Contains(t, field.Find("option[selected]").Text(), "not approved yet")
		require.Equal(t, "/automations/"+a.ID, p.doc.Find("#automation-form").AttrOr("action", ""))
		got, err := s.app.Automations.Get(ctx, s.acct, a.ID)
		require.NoError(t, err)
		require.Equal(t, automation.StatusDraft, got.Status)

		// Turning on an automation never published says so.
		p = b.post("/automations/"+a.ID+"/enable", nil)
		require.Equal(t, http.StatusConflict, p.status)
		require.Contains(t, p.doc.Find("#automation-action-error").Text(), "publish the automation before enabling it")

		// A scheduled send has no event: an event merge tag cannot be filled.
		at := time.Now().Add(48 * time.Hour).UTC().Format(time.RFC3339)
		promo, err := s.app.Automations.Create(ctx, s.acct, automation.Definition{Name: "Promo",
			Trigger: automation.Trigger{Type: automation.TriggerSchedule, At: at}, Audience: &automation.Audience{},
			Steps: []automation.Step{{Type: automation.StepSendSMS, TemplateID: points}}}, "test")
		require.NoError(t, err)
		p = b.post("/automations/"+promo.ID+"/publish", nil)
		require.Equal(t, http.StatusUnprocessableEntity, p.status, p.text())
		require.Contains(t, p.doc.Find("#auto-step-0-template-id-error").Text(), "nothing can fill {{points}}")

		// Save and publish from the editor keeps the draft and shows the refusal.
		p = b.get("/automations/new")
		v := aoFormValues(t, p, "#automation-form")
		v.Set("name", "Second welcome")
		v["step_template"] = []string{draft}
		p = aoEditor(b, "/automations", v, "publish")
		require.Equal(t, http.StatusUnprocessableEntity, p.status, p.text())
		require.Contains(t, p.doc.Find("#auto-step-0-template-id-error").Text(), "has no approved version")
		list, err := s.app.Automations.List(ctx, s.acct)
		require.NoError(t, err)
		require.Len(t, list, 3)
		require.Equal(t, "/automations/"+list[0].ID, p.doc.Find("#automation-form").AttrOr("action", ""))
	})
}

func TestAutomationRunsAreListed(t *testing.T) {
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		s := newSite(t, d.Engine)
		ctx := context.Background()
		tpl := aoTemplate(t, s, "Welcome", "transactional", "Welcome to Acme Rewards, {{first_name}}!", true)
		c := aoContact(t, s, "+17345550101", "Ava", consent.OptedIn)
		a, err := s.app.Automations.Create(ctx, s.acct, automation.Definition{Name: "Welcome",
			Trigger: automation.Trigger{Type: automation.TriggerEvent, Event: automation.EventAdvocateEnrolled},
			Steps:   []automation.Step{{Type: automation.StepSendSMS, TemplateID: tpl}}}, "test")
		require.NoError(t, err)
		_, err = s.app.Automations.Publish(ctx, s.acct, a.ID)
		require.NoError(t, err)
		_, err = s.app.Automations.SetEnabled(ctx, s.acct, a.ID, true)
		require.NoError(t, err)
		phone := "+17345550101"
		_, err = s.app.Automations.Ingest(ctx, s.acct, automation.Event{ID: "evt_enrolled_1", Type: automation.EventAdvocateEnrolled,
			Contact: automation.EventContact{Phone: &phone}})
		require.NoError(t, err)
		require.Eventually(t, func() bool {
			runs, err := s.app.Automations.Runs(ctx, s.acct, a.ID)
			return err == nil && len(runs) == 1 && len(runs[0].Steps) == 1 && runs[0].Steps[0].MessageID != nil
		}, 20*time.Second, 50*time.Millisecond)

		p := s.as(account.RoleViewer).get("/automations/" + a.ID)
		require.Equal(t, http.StatusOK, p.status, p.text())
		rows := p.doc.Find("#automation-runs tbody tr")
		require.Equal(t, 1, rows.Length())
		require.Contains(t, rows.Text(), "evt_enrolled_1")
		require.Equal(t, "/audience/contacts/"+c.ID, rows.Find(`a[href^="/audience/contacts/"]`).AttrOr("href", ""))
		msg := rows.Find(`a[href^="/outcomes/sms/messages/"]`).AttrOr("href", "")
		require.NotEmpty(t, msg)
		require.Equal(t, "/outcomes/sms?automation_id="+a.ID, p.doc.Find("#automation-outcomes").AttrOr("href", ""))
		// A viewer reads; the buttons are not there.
		require.Zero(t, p.doc.Find("#automation-edit, #automation-disable, #automation-delete").Length())
		require.Equal(t, http.StatusOK, s.as(account.RoleViewer).get(msg).status)
	})
}

func TestAutomationsKeepToTheirAccount(t *testing.T) {
	s := newSite(t, db.SQLite)
	ctx := context.Background()
	tpl := aoTemplate(t, s, "Welcome", "transactional", "Welcome!", true)
	a, err := s.app.Automations.Create(ctx, s.acct, automation.Definition{Name: "Welcome",
		Trigger: automation.Trigger{Type: automation.TriggerEvent, Event: automation.EventAdvocateEnrolled},
		Steps:   []automation.Step{{Type: automation.StepSendSMS, TemplateID: tpl}}}, "test")
	require.NoError(t, err)
	_, other := dqsOtherAccount(t, s)
	for _, path := range []string{"/automations/" + a.ID, "/automations/" + a.ID + "/edit"} {
		require.Equal(t, http.StatusNotFound, other.get(path).status, path)
	}
	other.get("/automations")
	for _, path := range []string{"/automations/" + a.ID, "/automations/" + a.ID + "/publish", "/automations/" + a.ID + "/enable",
		"/automations/" + a.ID + "/disable", "/automations/" + a.ID + "/delete"} {
		require.Equal(t, http.StatusNotFound, other.post(path, url.Values{"name": {"stolen"}}).status, path)
	}
	// Another account's template cannot be picked either.
	p := other.get("/automations/new")
	v := aoFormValues(t, p, "#automation-form")
	v.Set("name", "Borrowed")
	v["step_template"] = []string{tpl}
	p = aoEditor(other, "/automations", v, "save")
	require.Equal(t, http.StatusUnprocessableEntity, p.status)
	got, err := s.app.Automations.Get(ctx, s.acct, a.ID)
	require.NoError(t, err)
	require.Equal(t, "Welcome", got.Name)
	require.Equal(t, 1, got.Version)

	// Delete removes it from the list.
	b := s.as(account.RoleEditor)
	b.get("/automations/" + a.ID)
	p = b.post("/automations/"+a.ID+"/delete", nil)
	require.Equal(t, "/automations", p.url.Path)
	require.Zero(t, p.doc.Find("#automations-list").Length())
}
