package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/heraldsms/herald/internal/consent"
	"github.com/heraldsms/herald/internal/contact"
	"github.com/heraldsms/herald/internal/inbound"
	"github.com/heraldsms/herald/internal/message"
	"github.com/heraldsms/herald/internal/problem"
)

// contactPages are Audience → Contacts: search and filter, a contact's
// consent ledger and conversation, a change of preference, and CSV import
// and export.
func (s *Server) contactPages() []page {
	return []page{
		{"GET", "/audience/contacts", viewer, s.contacts},
		{"GET", "/audience/contacts/export.csv", viewer, s.exportContacts},
		{"GET", "/audience/contacts/import", editor, s.importContactsPage},
		{"POST", "/audience/contacts/import", editor, s.importContacts},
		{"GET", "/audience/contacts/{id}", viewer, s.contactDetail},
		{"POST", "/audience/contacts/{id}/preference", editor, s.setContactPreference},
	}
}

// contactFilter is the list's filter form, as typed.
type contactFilter struct{ Q, Preference, Country string }

type contactsData struct {
	Filter      contactFilter
	Errors      map[string]string
	Contacts    []contact.Contact
	Pager       listPager
	Preferences []consent.Preference
	// Export is the query of the export link: the filter, no cursor.
	Export string
}

var contactPreferences = []consent.Preference{consent.Unknown, consent.OptedIn, consent.OptedOut}

// contacts is the searchable, filterable list.
func (s *Server) contacts(w http.ResponseWriter, r *http.Request, v *view) error {
	v.Section, v.Title = "contacts", "Contacts"
	q := r.URL.Query()
	in := contactFilter{Q: q.Get("q"), Preference: q.Get("sms_preference"), Country: q.Get("country")}
	d := contactsData{Filter: in, Errors: map[string]string{}, Pager: listPager{Path: v.Path, Query: q},
		Preferences: contactPreferences}
	f, err := contact.ParseFilter(in.Preference, in.Country, in.Q, q.Get("cursor"), "")
	if p, ok := problem.As(err); ok && p.Kind == problem.Invalid {
		d.Errors[p.Field] = p.Message
		return s.render(w, r, http.StatusUnprocessableEntity, "contacts", v, d)
	}
	if err != nil {
		return err
	}
	page, err := s.Contacts.List(r.Context(), v.Principal.AccountID, f)
	if err != nil {
		return err
	}
	d.Contacts, d.Pager.Next = page.Data, page.NextCursor
	export := url.Values{"q": {in.Q}, "sms_preference": {in.Preference}, "country": {in.Country}}
	for k, vs := range export {
		if vs[0] == "" {
			delete(export, k)
		}
	}
	if len(export) > 0 {
		d.Export = "?" + export.Encode()
	}
	return s.render(w, r, http.StatusOK, "contacts", v, d)
}

// exportContacts streams the filtered list as CSV, in contact's own export
// format, which import reads back.
func (s *Server) exportContacts(w http.ResponseWriter, r *http.Request, v *view) error {
	q := r.URL.Query()
	f, err := contact.ParseFilter(q.Get("sms_preference"), q.Get("country"), q.Get("q"), "", "")
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="contacts.csv"`)
	if err := s.Contacts.Export(r.Context(), v.Principal.AccountID, f, w); err != nil {
		// The status line is gone; all that is left is to stop and log.
		s.Logger.ErrorContext(r.Context(), "web: contact export", "err", err, "account_id", v.Principal.AccountID)
	}
	return nil
}

// contactData is a contact's page.
type contactData struct {
	C     contact.Contact
	Split bool
	// Transactional and Marketing are the preference of each kind.
	Transactional, Marketing consent.Preference
	Ledger                   []ledgerEntry
	Turns                    []contactTurn
	Form                     preferenceForm
	Errors                   map[string]string
	Attrs                    []evidenceItem
	Kinds                    []consent.Kind
	Prefs                    []consent.Preference
	MoreSent                 bool
}

// ledgerEntry is a consent record with its evidence laid out for reading.
type ledgerEntry struct {
	consent.Record
	Evidence []evidenceItem
}

// evidenceItem is one field of a record's evidence (or a contact's
// attributes): a label and the value as text.
type evidenceItem struct{ Key, Value string }

// contactTurn is one line of a conversation: a message out or a reply in.
type contactTurn struct {
	Out       bool
	MessageID string // messages out made by Herald's pipeline, which have a page
	Body      string
	Status    string
	Intent    string
	Action    string
	At        time.Time
}

// preferenceForm is the change-of-preference form, as typed.
type preferenceForm struct{ Kind, Preference, Reason string }

// maxPreferenceReason bounds the reason a person gives for a change.
const maxPreferenceReason = 500

// conversationLimit is how many messages, and how many replies, the
// conversation shows.
const conversationLimit = 100

func (s *Server) contactDetail(w http.ResponseWriter, r *http.Request, v *view) error {
	return s.renderContact(w, r, v, http.StatusOK, preferenceForm{}, nil)
}

// renderContact shows a contact's page, with the preference form as typed
// and its errors when a change was refused.
func (s *Server) renderContact(w http.ResponseWriter, r *http.Request, v *view, status int, form preferenceForm, errs map[string]string) error {
	ctx, acct := r.Context(), v.Principal.AccountID
	c, err := s.Contacts.Get(ctx, acct, r.PathValue("id"))
	if err != nil {
		return err
	}
	split, err := s.Accounts.SplitConsent(ctx, acct)
	if err != nil {
		return err
	}
	records, err := s.Contacts.Consents(ctx, acct, c.ID)
	if err != nil {
		return err
	}
	d := contactData{C: c, Split: split, Form: form, Errors: errs, Kinds: consent.Kinds, Prefs: contactPreferences,
		Attrs: readableFields(c.Attributes), Transactional: c.Preference(consent.Transactional),
		Marketing: c.Preference(consent.Marketing)}
	if d.Errors == nil {
		d.Errors = map[string]string{}
	}
	// Newest first: the latest change is what a person looks for.
	for i := len(records) - 1; i >= 0; i-- {
		d.Ledger = append(d.Ledger, ledgerEntry{Record: records[i], Evidence: evidenceOf(records[i].Evidence)})
	}
	if d.Turns, d.MoreSent, err = s.contactConversation(r, acct, &c); err != nil {
		return err
	}
	v.Section, v.Title = "contacts", contactName(c)
	return s.render(w, r, status, "contact", v, d)
}

// contactConversation merges a contact's latest messages and replies, oldest
// first, with Herald's answers to replies (HELP, STOP) shown as messages
// out, as the API's conversation does.
func (s *Server) contactConversation(r *http.Request, accountID string, c *contact.Contact) ([]contactTurn, bool, error) {
	out, err := s.Messages.List(r.Context(), accountID, message.Filter{ContactID: c.ID, NoticesTo: c.E164(), Limit: conversationLimit})
	if err != nil {
		return nil, false, err
	}
	in, err := s.Inbound.List(r.Context(), accountID, inbound.Filter{ContactID: c.ID, Limit: conversationLimit})
	if err != nil {
		return nil, false, err
	}
	turns := make([]contactTurn, 0, len(out.Data)+2*len(in.Data))
	for _, m := range out.Data {
		turns = append(turns, contactTurn{Out: true, MessageID: m.ID, Body: m.Body, Status: string(m.Status), At: m.CreatedAt})
	}
	for _, m := range in.Data {
		turns = append(turns, contactTurn{Body: m.Body, Intent: m.Intent, Action: m.Action, At: m.ReceivedAt})
		if m.Reply != "" {
			turns = append(turns, contactTurn{Out: true, Body: m.Reply, Status: "sent", At: m.ReceivedAt})
		}
	}
	sort.SliceStable(turns, func(i, j int) bool { return turns[i].At.Before(turns[j].At) })
	return turns, out.NextCursor != "" || in.NextCursor != "", nil
}

// setContactPreference changes a contact's SMS preference as an admin
// change, with the reason kept as the record's evidence.
func (s *Server) setContactPreference(w http.ResponseWriter, r *http.Request, v *view) error {
	form := preferenceForm{Kind: r.PostFormValue("kind"), Preference: r.PostFormValue("preference"),
		Reason: strings.TrimSpace(r.PostFormValue("reason"))}
	pc, errs := form.parse()
	if len(errs) > 0 {
		return s.renderContact(w, r, v, http.StatusUnprocessableEntity, form, errs)
	}
	pc.Change = contact.Change{Source: consent.SourceAdmin, Actor: v.Principal.Actor()}
	ev, err := json.Marshal(map[string]string{"reason": form.Reason, "changed_in": "admin web"})
	if err != nil {
		return err
	}
	pc.Evidence = ev
	c, err := s.Contacts.SetPreference(r.Context(), v.Principal.AccountID, r.PathValue("id"), pc)
	if err != nil {
		return err
	}
	s.notice(w, r, fmt.Sprintf("%s is now %s.", contactName(c), c.SMSPreference))
	redirect(w, r, "/audience/contacts/"+c.ID)
	return nil
}

func (f preferenceForm) parse() (contact.PreferenceChange, map[string]string) {
	var pc contact.PreferenceChange
	errs := map[string]string{}
	p, err := consent.ParsePreference(f.Preference)
	if err != nil {
		errs["preference"] = "Choose unknown, opted in or opted out."
	}
	pc.Preference = p
	if f.Kind != "" {
		k, err := consent.ParseKind(f.Kind)
		if err != nil {
			errs["kind"] = "Choose transactional, marketing or both."
		}
		pc.Kind = k
	}
	switch {
	case f.Reason == "":
		errs["reason"] = "Say why the preference changes; it is kept in the consent ledger."
	case utf8.RuneCountInString(f.Reason) > maxPreferenceReason:
		errs["reason"] = fmt.Sprintf("Keep the reason under %d characters.", maxPreferenceReason)
	}
	return pc, errs
}

// importData is the import page: the form, and what the last file did.
type importData struct {
	Result   *contact.ImportResult
	FileName string
	Error    string
}

// maxImportFile is the largest CSV the page takes, the API's limit.
const maxImportFile = 64 << 20

func (s *Server) importContactsPage(w http.ResponseWriter, r *http.Request, v *view) error {
	v.Section, v.Title = "contacts", "Import contacts"
	return s.render(w, r, http.StatusOK, "contact_import", v, importData{})
}

// importContacts reads an uploaded CSV and shows the summary with every
// refused row. A file that cannot be read at all is shown beside the file
// field, and nothing is imported.
func (s *Server) importContacts(w http.ResponseWriter, r *http.Request, v *view) error {
	v.Section, v.Title = "contacts", "Import contacts"
	fail := func(status int, d importData) error { return s.render(w, r, status, "contact_import", v, d) }
	if err := r.ParseMultipartForm(1 << 20); err != nil && !errors.Is(err, http.ErrNotMultipart) {
		return fail(http.StatusBadRequest, importData{Error: "The upload did not arrive whole; choose the file and try again."})
	}
	file, hdr, err := r.FormFile("file")
	if err != nil {
		return fail(http.StatusUnprocessableEntity, importData{Error: "Choose a CSV file to import."})
	}
	defer file.Close()
	d := importData{FileName: hdr.Filename}
	if hdr.Size > maxImportFile {
		d.Error = fmt.Sprintf("An import takes at most %d MiB; split the file.", maxImportFile>>20)
		return fail(http.StatusRequestEntityTooLarge, d)
	}
	res, err := s.Contacts.Import(r.Context(), v.Principal.AccountID, file,
		contact.Change{Source: consent.SourceImport, Actor: v.Principal.Actor()})
	if p, ok := problem.As(err); ok && p.Kind == problem.Invalid {
		d.Error = p.Message
		return fail(http.StatusUnprocessableEntity, d)
	}
	if err != nil {
		return err
	}
	d.Result = &res
	return s.render(w, r, http.StatusOK, "contact_import", v, d)
}

// contactName is how a contact is named on a page: the name, else the
// phone, else the id.
func contactName(c contact.Contact) string {
	if n := strings.TrimSpace(c.FirstName + " " + c.LastName); n != "" {
		return n
	}
	if c.Phone != "" {
		return c.Phone
	}
	return c.ID
}

// evidenceOf lays a record's evidence out for reading: each field of the
// JSON object as a line, in a fixed order with the widget's fields first.
func evidenceOf(raw json.RawMessage) []evidenceItem {
	var obj map[string]any
	if len(raw) == 0 || json.Unmarshal(raw, &obj) != nil {
		if s := strings.TrimSpace(string(raw)); s != "" && s != "{}" && s != "null" {
			return []evidenceItem{{"evidence", s}}
		}
		return nil
	}
	return readableFields(obj)
}

// evidenceOrder puts the fields a person checks first at the top; the
// rest follow alphabetically.
var evidenceOrder = map[string]int{"reason": 1, "disclosure": 2, "disclosure_version": 3, "time": 4, "ip": 5,
	"page": 6, "user_agent": 7, "program_id": 8, "double_opt_in": 9}

// readable turns a JSON object into labelled lines: strings as they are,
// other values as compact JSON.
func readableFields(obj map[string]any) []evidenceItem {
	out := make([]evidenceItem, 0, len(obj))
	for k, val := range obj {
		text := ""
		switch x := val.(type) {
		case string:
			text = x
		case nil:
			text = "—"
		default:
			b, err := json.Marshal(x)
			if err != nil {
				continue
			}
			text = string(b)
		}
		out = append(out, evidenceItem{Key: k, Value: text})
	}
	sort.Slice(out, func(i, j int) bool {
		oi, oj := evidenceOrder[out[i].Key], evidenceOrder[out[j].Key]
		switch {
		case oi != oj && oi != 0 && oj != 0:
			return oi < oj
		case oi != oj:
			return oi != 0
		}
		return out[i].Key < out[j].Key
	})
	return out
}
