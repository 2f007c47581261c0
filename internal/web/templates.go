package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/heraldsms/herald/internal/account"
	"github.com/heraldsms/herald/internal/msgtemplate"
	"github.com/heraldsms/herald/internal/problem"
	"github.com/heraldsms/herald/internal/segment"
)

// templatePages are Communication Channels → SMS: the template list, the
// editor with its live counter, review, Send Test and the gallery. Every
// rule (what an edit does to an approved or pending version, who may
// approve) is msgtemplate's; these pages only show it and ask for it.
func (s *Server) templatePages() []page {
	return []page{
		{"GET", "/channels/sms", viewer, s.templateList},
		{"POST", "/channels/sms", editor, s.templateCreate},
		{"GET", "/channels/sms/new", editor, s.templateNew},
		{"GET", "/channels/sms/gallery", viewer, s.templateGallery},
		{"POST", "/channels/sms/counter", editor, s.templateCounter},
		{"GET", "/channels/sms/{id}", viewer, s.templateShow},
		{"POST", "/channels/sms/{id}", editor, s.templateSave},
		{"POST", "/channels/sms/{id}/submit", editor, s.templateSubmit},
		{"POST", "/channels/sms/{id}/test", editor, s.templateTest},
		{"POST", "/channels/sms/{id}/approve", admin, s.templateApprove},
		{"POST", "/channels/sms/{id}/reject", admin, s.templateReject},
		{"POST", "/channels/sms/{id}/delete", editor, s.templateDelete},
	}
}

// tplPager is what the shared "pager" partial reads.
type tplPager struct {
	Next  string
	Path  string
	Query url.Values
}

type templateListData struct {
	Templates []msgtemplate.Template
	Status    string
	Kind      string
	Pager     tplPager
}

func (s *Server) templateList(w http.ResponseWriter, r *http.Request, v *view) error {
	q := r.URL.Query()
	f, err := msgtemplate.ParseFilter(q.Get("status"), q.Get("kind"), q.Get("cursor"), "")
	if err != nil {
		return err
	}
	pg, err := s.Templates.List(r.Context(), v.Principal.AccountID, f)
	if err != nil {
		return err
	}
	v.Section, v.Title = "templates", "SMS templates"
	return s.render(w, r, http.StatusOK, "templates", v, templateListData{Templates: pg.Data,
		Status: q.Get("status"), Kind: q.Get("kind"), Pager: tplPager{Next: pg.NextCursor, Path: v.Path, Query: v.Query}})
}

// templateForm is the editor's fields as the user typed them, kept when a
// save is tplRefused.
type templateForm struct {
	Name, Kind, Body string
}

// tplErrors maps a form control's id to the message shown next to it.
type tplErrors map[string]string

// Has reports whether a control has a message; templates ask it for
// aria-invalid.
func (e tplErrors) Has(id string) bool { return e[id] != "" }

type templateNewData struct {
	Form   templateForm
	Live   tplLive
	Tags   []tplTag
	Errors tplErrors
}

func (s *Server) templateNew(w http.ResponseWriter, r *http.Request, v *view) error {
	return s.templateRenderNew(w, r, v, http.StatusOK, templateForm{Kind: string(msgtemplate.KindTransactional)}, nil)
}

func (s *Server) templateRenderNew(w http.ResponseWriter, r *http.Request, v *view, status int, f templateForm, errs tplErrors) error {
	v.Section, v.Title = "templates", "New SMS template"
	return s.render(w, r, status, "template_new", v, templateNewData{Form: f, Errors: errs, Tags: tplTags(v),
		Live: s.templateLive(r, v, f.Kind, f.Body)})
}

// templateCreate makes a template from the editor or from a gallery entry.
func (s *Server) templateCreate(w http.ResponseWriter, r *http.Request, v *view) error {
	f := templateForm{Name: r.PostFormValue("name"), Kind: r.PostFormValue("kind"), Body: r.PostFormValue("body")}
	in := msgtemplate.NewTemplate{Name: f.Name, Kind: f.Kind, Body: f.Body, FromGallery: r.PostFormValue("from_gallery")}
	t, err := s.Templates.Create(r.Context(), v.Principal.AccountID, in, v.Principal.Actor())
	if p, ok := problem.As(err); ok && p.Kind == problem.Invalid && in.FromGallery == "" {
		return s.templateRenderNew(w, r, v, p.Kind.HTTPStatus(), f, tplErrors{tplFieldID(p.Field, "body"): p.Message})
	}
	if err != nil {
		return err
	}
	s.notice(w, r, fmt.Sprintf("Created %q as a draft. Submit it for approval when it is ready.", t.Name))
	redirect(w, r, "/channels/sms/"+t.ID)
	return nil
}

// tplFieldID is the id of the control a problem's field names, or fallback
// when it names none of the editor's.
func tplFieldID(field, fallback string) string {
	switch field {
	case "name", "kind", "body":
		return field
	}
	return fallback
}

type tplGalleryData struct{ Items []msgtemplate.GalleryItem }

func (s *Server) templateGallery(w http.ResponseWriter, r *http.Request, v *view) error {
	items, err := s.Templates.Gallery(r.Context(), v.Principal.AccountID)
	if err != nil {
		return err
	}
	v.Section, v.Title = "templates", "SMS template gallery"
	return s.render(w, r, http.StatusOK, "template_gallery", v, tplGalleryData{Items: items})
}

// templateCounter is the live counter: htmx posts the editor's form as the
// user types, and this answers with the counter and preview, measured by
// the same Preview the API's editor uses.
func (s *Server) templateCounter(w http.ResponseWriter, r *http.Request, v *view) error {
	live := s.templateLive(r, v, r.PostFormValue("kind"), r.PostFormValue("body"))
	return s.fragment(w, http.StatusOK, "template_new", "template-live-fragment", v, live)
}

// tplLive is the counter and the preview of a body with sample values.
type tplLive struct {
	msgtemplate.Preview
	// Error is set when the body cannot be measured at all (no kind, bad
	// UTF-8); the panel says so instead of counting.
	Error   string
	Forcing []tplForcing
}

// Summary is the counter's one line, e.g. "UCS-2 · 12 characters · 1 segment".
func (l tplLive) Summary() string {
	seg := "segments"
	if l.Segments == 1 {
		seg = "segment"
	}
	return fmt.Sprintf("%s · %d characters · %d %s", l.Encoding, l.Characters, l.Segments, seg)
}

// LookAlikes maps each forcing character that has a GSM-7 look-alike to
// it, as JSON, for the editor's "replace" button.
func (l tplLive) LookAlikes() (string, error) {
	m := map[string]string{}
	for _, f := range l.Forcing {
		if f.LookAlike != "" {
			m[f.Char] = f.LookAlike
		}
	}
	if len(m) == 0 {
		return "", nil
	}
	b, err := json.Marshal(m)
	return string(b), err
}

// tplForcing is one character that forced UCS-2, however often it occurs.
type tplForcing struct {
	Char, Code, LookAlike string
	Count                 int
}

func (s *Server) templateLive(r *http.Request, v *view, kind, body string) tplLive {
	if kind == "" {
		kind = string(msgtemplate.KindTransactional)
	}
	p, err := s.Templates.Preview(r.Context(), v.Principal.AccountID, msgtemplate.PreviewInput{Kind: kind, Body: body})
	if err != nil {
		msg := "The counter could not measure this text."
		if pe, ok := problem.As(err); ok {
			msg = pe.Message
		}
		return tplLive{Error: msg}
	}
	return tplLive{Preview: p, Forcing: tplForcingChars(p.Culprits)}
}

// forcing groups the culprits by character, in order of first appearance.
func tplForcingChars(cs []segment.Culprit) []tplForcing {
	var out []tplForcing
	seen := map[string]int{}
	for _, c := range cs {
		if i, ok := seen[c.Char]; ok {
			out[i].Count++
			continue
		}
		seen[c.Char] = len(out)
		code := ""
		for _, r := range c.Char {
			code += fmt.Sprintf("U+%04X ", r)
		}
		out = append(out, tplForcing{Char: c.Char, Code: strings.TrimSpace(code), LookAlike: c.Replacement, Count: 1})
	}
	return out
}

// tplTag is one entry of the editor's merge-tag picker.
type tplTag struct {
	Tag, About, Sample string
}

// tplTags are the tags msgtemplate knows, with the samples the preview
// fills them with; the open families (contact attributes, event data) are
// shown by an example.
func tplTags(v *view) []tplTag {
	brand := msgtemplate.SampleBrand
	if v.Account != nil {
		brand = v.Account.Brand()
	}
	return []tplTag{
		{"{{first_name}}", "Contact's first name", msgtemplate.SampleFirstName},
		{`{{first_name | default: "friend"}}`, "First name, or a fallback when it is missing", msgtemplate.SampleFirstName},
		{"{{last_name}}", "Contact's last name", msgtemplate.SampleLastName},
		{"{{brand}}", "Your brand name, as the sender", brand},
		{"{{program_name}}", "Program name", msgtemplate.SampleProgramName},
		{"{{reward_amount}}", "Reward amount from the event", msgtemplate.SampleRewardAmount},
		{"{{referral_link}}", "Advocate's referral link", msgtemplate.SampleReferralLink},
		{"{{points}}", "Points earned", msgtemplate.SamplePoints},
		{"{{tier}}", "Tier reached", msgtemplate.SampleTier},
		{"{{contact.attributes.city}}", "A contact attribute (any key)", "city"},
		{"{{event.data.order.id}}", "A value from the event's data (any path)", "id"},
	}
}

// templatePage is the editor of one template, with its review, Send Test
// and history.
type templatePage struct {
	T      msgtemplate.Template
	Form   templateForm
	Live   tplLive
	Tags   []tplTag
	Errors tplErrors
	TestTo string
	Reason string
	// Changes is the current body against the version that is sent, when
	// a newer version exists.
	Changes []wordDiffPart
	// Versions are newest first, their actors named.
	Versions []tplVersion
	// SelfApproval says whether this account's admins decide its reviews.
	SelfApproval bool
	TestLimit    int
}

// Archived reports whether the template was deleted.
func (p templatePage) Archived() bool { return p.T.ArchivedAt != nil }

type tplVersion struct {
	msgtemplate.Version
	By        string
	Decisions []tplDecision
}

type tplDecision struct {
	msgtemplate.Decision
	By string
}

func (s *Server) templateShow(w http.ResponseWriter, r *http.Request, v *view) error {
	return s.templateRender(w, r, v, http.StatusOK, nil, nil)
}

// templateRender shows a template; after a tplRefused action, edit keeps what
// the user typed in the editor and errs says what went wrong where.
func (s *Server) templateRender(w http.ResponseWriter, r *http.Request, v *view, status int, edit *templateForm, errs tplErrors) error {
	t, err := s.Templates.Get(r.Context(), v.Principal.AccountID, r.PathValue("id"))
	if err != nil {
		return err
	}
	d := templatePage{T: t, Form: templateForm{Name: t.Name, Kind: string(t.Kind), Body: t.Body}, Tags: tplTags(v),
		Errors: errs, TestTo: r.PostFormValue("to"), Reason: r.PostFormValue("reason"),
		SelfApproval: v.Account != nil && v.Account.SelfApproval, TestLimit: msgtemplate.MaxTestSendsPerHour}
	if edit != nil {
		d.Form = *edit
	}
	d.Live = s.templateLive(r, v, d.Form.Kind, d.Form.Body)
	if t.ApprovedVersionID != "" && t.ApprovedVersionID != t.VersionID {
		d.Changes = wordDiff(t.ApprovedBody, t.Body)
	}
	names := tplActors{s: s, r: r, accountID: v.Principal.AccountID, cache: map[string]string{}}
	for i := len(t.Versions) - 1; i >= 0; i-- {
		ver := t.Versions[i]
		row := tplVersion{Version: ver, By: names.of(ver.CreatedBy)}
		for _, dec := range ver.Decisions {
			row.Decisions = append(row.Decisions, tplDecision{Decision: dec, By: names.of(dec.Actor)})
		}
		d.Versions = append(d.Versions, row)
	}
	v.Section, v.Title = "templates", t.Name
	return s.render(w, r, status, "template", v, d)
}

// tplActors turns audit actors ("user:usr_…") into what people recognise:
// the email of a user of this account, or "Herald operator".
type tplActors struct {
	s         *Server
	r         *http.Request
	accountID string
	cache     map[string]string
}

func (n tplActors) of(actor string) string {
	if name, ok := n.cache[actor]; ok {
		return name
	}
	name := actor
	if id, ok := strings.CutPrefix(actor, "user:"); ok {
		if u, err := n.s.Users.Get(n.r.Context(), id); err == nil {
			switch {
			case u.Role == account.RoleOperator:
				name = "Herald operator"
			case u.AccountID == n.accountID:
				name = u.Email
			}
		}
	} else if actor == string(account.RoleOperator) {
		name = "Herald operator"
	}
	n.cache[actor] = name
	return name
}

// tplRefused re-renders the template page when a domain problem a user can
// fix (bad input, a clash, a rate limit, no carrier) refuses an action,
// with the message next to the control it concerns; other errors go on to
// the error page.
func (s *Server) tplRefused(w http.ResponseWriter, r *http.Request, v *view, err error, edit *templateForm, at func(field string) string) error {
	p, ok := problem.As(err)
	if !ok {
		return err
	}
	switch p.Kind {
	case problem.Invalid, problem.Conflict, problem.TooMany, problem.Unavailable:
		return s.templateRender(w, r, v, p.Kind.HTTPStatus(), edit, tplErrors{at(p.Field): p.Message})
	}
	return err
}

// templateID is the request's template after checking that the account
// has it, so another account's id is "not found" whatever the form holds.
func (s *Server) templateID(r *http.Request, v *view) (string, error) {
	id := r.PathValue("id")
	return id, s.Templates.Exists(r.Context(), v.Principal.AccountID, id)
}

// templateSave renames and edits. A changed body or kind makes a new draft
// version; the approved one stays the one sent until the new one is
// approved, and a version awaiting review is withdrawn (msgtemplate.Update).
func (s *Server) templateSave(w http.ResponseWriter, r *http.Request, v *view) error {
	id, err := s.templateID(r, v)
	if err != nil {
		return err
	}
	f := templateForm{Name: r.PostFormValue("name"), Kind: r.PostFormValue("kind"), Body: r.PostFormValue("body")}
	before, err := s.Templates.Get(r.Context(), v.Principal.AccountID, id)
	if err != nil {
		return err
	}
	t, err := s.Templates.Update(r.Context(), v.Principal.AccountID, id,
		msgtemplate.Change{Name: &f.Name, Kind: &f.Kind, Body: &f.Body}, v.Principal.Actor())
	if err != nil {
		return s.tplRefused(w, r, v, err, &f, func(field string) string { return tplFieldID(field, "body") })
	}
	msg := "Saved."
	if t.VersionID != before.VersionID {
		msg = fmt.Sprintf("Saved as version %d, a draft. Submit it for approval when it is ready.", t.Version)
		if before.ApprovedVersionID != "" {
			msg += fmt.Sprintf(" Until then, the approved version %d is the one sent.", tplApprovedNumber(before))
		}
	}
	s.notice(w, r, msg)
	redirect(w, r, "/channels/sms/"+id)
	return nil
}

// tplApprovedNumber is the number of the version that is sent.
func tplApprovedNumber(t msgtemplate.Template) int {
	for _, ver := range t.Versions {
		if ver.ID == t.ApprovedVersionID {
			return ver.Number
		}
	}
	return 0
}

func (s *Server) templateSubmit(w http.ResponseWriter, r *http.Request, v *view) error {
	id, err := s.templateID(r, v)
	if err != nil {
		return err
	}
	t, err := s.Templates.Submit(r.Context(), v.Principal.AccountID, id, v.Principal.Actor())
	if err != nil {
		return s.tplRefused(w, r, v, err, nil, func(string) string { return "submit" })
	}
	msg := fmt.Sprintf("Version %d submitted for approval.", t.Version)
	for _, f := range t.Warnings {
		msg += " Warning: " + f.Message + "."
	}
	s.notice(w, r, msg)
	redirect(w, r, "/channels/sms/"+id)
	return nil
}

// templateTest is "Send Test": the current version, approved or not, to one
// number in +[country code][number] form, with sample values.
func (s *Server) templateTest(w http.ResponseWriter, r *http.Request, v *view) error {
	id, err := s.templateID(r, v)
	if err != nil {
		return err
	}
	rec, err := s.Templates.SendTest(r.Context(), v.Principal.AccountID, id,
		msgtemplate.TestInput{To: strings.TrimSpace(r.PostFormValue("to"))}, v.Principal.Actor())
	if err != nil {
		return s.tplRefused(w, r, v, err, nil, func(field string) string {
			if field == "to" {
				return "test-to"
			}
			return "test"
		})
	}
	s.notice(w, r, fmt.Sprintf("Test message sent to %s (%s, %d %s).", rec.To, rec.Encoding, rec.Segments, tplPlural(rec.Segments, "segment")))
	redirect(w, r, "/channels/sms/"+id)
	return nil
}

func tplPlural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

func (s *Server) templateApprove(w http.ResponseWriter, r *http.Request, v *view) error {
	return s.templateDecide(w, r, v, true)
}

func (s *Server) templateReject(w http.ResponseWriter, r *http.Request, v *view) error {
	return s.templateDecide(w, r, v, false)
}

// templateDecide is an admin's own review, which the account's
// self-approval setting must allow (msgtemplate.Service.Decide checks).
func (s *Server) templateDecide(w http.ResponseWriter, r *http.Request, v *view, approve bool) error {
	id, err := s.templateID(r, v)
	if err != nil {
		return err
	}
	t, err := s.Templates.Decide(r.Context(), v.Principal.AccountID, id, msgtemplate.Review{Approve: approve,
		Reason: r.PostFormValue("reason"), Actor: v.Principal.Actor(), Self: true})
	if err != nil {
		return s.tplRefused(w, r, v, err, nil, func(field string) string {
			if field == "reason" {
				return "reason"
			}
			return "review"
		})
	}
	if approve {
		s.notice(w, r, fmt.Sprintf("Version %d approved: it is the one sent from now on.", t.Version))
	} else {
		s.notice(w, r, fmt.Sprintf("Version %d rejected. Edit the template to make a new version.", t.Version))
	}
	redirect(w, r, "/channels/sms/"+id)
	return nil
}

// templateDelete archives: it leaves the list and is never sent again, and
// past messages keep naming it.
func (s *Server) templateDelete(w http.ResponseWriter, r *http.Request, v *view) error {
	id, err := s.templateID(r, v)
	if err != nil {
		return err
	}
	if err := s.Templates.Archive(r.Context(), v.Principal.AccountID, id, v.Principal.Actor()); err != nil {
		return s.tplRefused(w, r, v, err, nil, func(string) string { return "delete" })
	}
	s.notice(w, r, "Template deleted. Messages already sent still show it.")
	redirect(w, r, "/channels/sms")
	return nil
}
