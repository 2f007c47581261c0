package web

import (
	"net/http"
	"strings"

	"github.com/heraldsms/herald/internal/problem"
)

// settingsPages are an admin's settings, one section a page under
// /settings: the account's rules (settings_account.go), its webhooks
// (settings_webhooks.go), API keys and users (settings_access.go).
// Secrets (webhook secrets, API keys, first passwords) appear once, in the
// answer to the form that made them, and never again.
func (s *Server) settingsPages() []page {
	return []page{
		{"GET", "/settings", admin, s.settingsHome},
		{"GET", "/settings/numbers", admin, s.settingsNumbers},
		{"GET", "/settings/sending", admin, s.settingsSending},
		{"POST", "/settings/sending", admin, s.settingsSaveSending},
		{"GET", "/settings/countries", admin, s.settingsCountries},
		{"POST", "/settings/countries", admin, s.settingsSaveCountries},
		{"GET", "/settings/keywords", admin, s.settingsKeywords},
		{"POST", "/settings/keywords", admin, s.settingsSaveKeywords},
		{"GET", "/settings/brand", admin, s.settingsBrand},
		{"POST", "/settings/brand", admin, s.settingsSaveBrand},
		{"GET", "/settings/enrollment", admin, s.settingsEnrollment},
		{"POST", "/settings/enrollment", admin, s.settingsSaveEnrollment},
		{"GET", "/settings/webhooks", admin, s.settingsWebhooks},
		{"POST", "/settings/webhooks", admin, s.settingsCreateWebhook},
		{"GET", "/settings/webhooks/{id}", admin, s.settingsWebhook},
		{"POST", "/settings/webhooks/{id}", admin, s.settingsUpdateWebhook},
		{"POST", "/settings/webhooks/{id}/rotate-secret", admin, s.settingsRotateWebhookSecret},
		{"POST", "/settings/webhooks/{id}/delete", admin, s.settingsDeleteWebhook},
		{"POST", "/settings/webhooks/{id}/deliveries/{delivery_id}/redeliver", admin, s.settingsRedeliver},
		{"GET", "/settings/api-keys", admin, s.settingsAPIKeys},
		{"POST", "/settings/api-keys", admin, s.settingsCreateAPIKey},
		{"POST", "/settings/api-keys/{id}/revoke", admin, s.settingsRevokeAPIKey},
		{"GET", "/settings/users", admin, s.settingsUsers},
		{"POST", "/settings/users", admin, s.settingsCreateUser},
		{"POST", "/settings/users/{id}/role", admin, s.settingsSetUserRole},
		{"POST", "/settings/users/{id}/delete", admin, s.settingsDeleteUser},
	}
}

// settingsTab is one entry of the settings navigation.
type settingsTab struct {
	Path, Label string
	Current     bool
}

var settingsSections = []settingsTab{
	{Path: "/settings/numbers", Label: "Numbers"},
	{Path: "/settings/sending", Label: "Sending rules"},
	{Path: "/settings/countries", Label: "Countries"},
	{Path: "/settings/keywords", Label: "Keywords & replies"},
	{Path: "/settings/brand", Label: "Brand & help"},
	{Path: "/settings/enrollment", Label: "Enrollment"},
	{Path: "/settings/webhooks", Label: "Webhooks"},
	{Path: "/settings/api-keys", Label: "API keys"},
	{Path: "/settings/users", Label: "Users"},
}

// settingsTabs is the navigation with the section of path marked; a
// webhook's own page belongs to Webhooks.
func settingsTabs(path string) []settingsTab {
	out := make([]settingsTab, len(settingsSections))
	for i, t := range settingsSections {
		t.Current = path == t.Path || strings.HasPrefix(path, t.Path+"/")
		out[i] = t
	}
	return out
}

// settingsView sets what every settings page shares and returns its tabs.
func settingsView(v *view, title string) []settingsTab {
	v.Section, v.Title = "settings", title
	return settingsTabs(v.Path)
}

func (s *Server) settingsHome(w http.ResponseWriter, r *http.Request, _ *view) error {
	http.Redirect(w, r, settingsSections[0].Path, http.StatusSeeOther)
	return nil
}

// settingsErrors are a form's messages by the id of the input at fault;
// the key "form" holds one about the form as a whole.
type settingsErrors map[string]string

// settingsFieldError is one message and the input it belongs to.
type settingsFieldError struct{ ID, Msg string }

// Has reports whether the input has a message, for aria-invalid.
func (e settingsErrors) Has(id string) bool { _, ok := e[id]; return ok }

// For is the input's message, for the "settings-error" partial.
func (e settingsErrors) For(id string) settingsFieldError {
	return settingsFieldError{ID: id, Msg: e[id]}
}

// settingsInvalid turns a domain's refusal of a form's input into a
// message beside the field at fault, and the status to answer with. fields
// maps the domain's field names to the form's input ids; a refusal about
// another field is shown for the whole form. Any other error is returned as
// it is, for the error page.
func settingsInvalid(err error, fields map[string]string) (settingsErrors, int, error) {
	p, ok := problem.As(err)
	if !ok || (p.Kind != problem.Invalid && p.Kind != problem.Conflict && p.Kind != problem.Malformed) {
		return nil, 0, err
	}
	id, ok := fields[p.Field]
	if !ok {
		id = "form"
	}
	return settingsErrors{id: p.Message}, p.Kind.HTTPStatus(), nil
}

// settingsIDs maps domain field names to inputs of the same names.
func settingsIDs(names ...string) map[string]string {
	m := make(map[string]string, len(names))
	for _, n := range names {
		m[n] = n
	}
	return m
}

// settingsSplitCountries reads country codes typed into one box,
// separated by commas, spaces or new lines.
func settingsSplitCountries(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\r' || r == '\t' })
}

// settingsSplitKeywords reads keywords separated by commas or new lines;
// a keyword may be a phrase of several words.
func settingsSplitKeywords(s string) []string {
	out := []string{}
	for _, w := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == '\n' || r == '\r' }) {
		if w = strings.TrimSpace(w); w != "" {
			out = append(out, w)
		}
	}
	return out
}
