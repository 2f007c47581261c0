package web

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/heraldsms/herald/internal/account"
	"github.com/heraldsms/herald/internal/guard"
	"github.com/heraldsms/herald/internal/problem"
)

// The account's own rules: what an admin sees of its numbers, and the
// sending rules, countries, keyword replies, brand and enrollment settings
// it may change. Each form calls the account store exactly as the REST
// API's settings routes do, so both refuse the same input the same way.

type settingsNumbersData struct {
	Tabs    []settingsTab
	Numbers []account.Number
}

// settingsNumbers lists the sender numbers. They are the operator's to
// set: a number is bought and registered with the carrier outside Herald.
func (s *Server) settingsNumbers(w http.ResponseWriter, r *http.Request, v *view) error {
	tabs := settingsView(v, "Numbers · Settings")
	nums, err := s.Accounts.Numbers(r.Context(), v.Principal.AccountID)
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "settings_numbers", v, settingsNumbersData{Tabs: tabs, Numbers: nums})
}

// settingsSendingData is the sending rules form: the hours marketing may
// go out and the per-contact frequency cap, as typed.
type settingsSendingData struct {
	Tabs                   []settingsTab
	Start, End             string
	CapMax, CapPeriodHours string
	Errors                 settingsErrors
	// The defaults, which an account may only tighten.
	DefaultStart, DefaultEnd string
	DefaultCapMax            int
	DefaultCapHours          int
}

func newSettingsSendingData(v *view) settingsSendingData {
	def := guard.Cap{}.Effective()
	return settingsSendingData{
		Tabs:         settingsView(v, "Sending rules · Settings"),
		DefaultStart: guard.FormatClock(guard.DefaultStart), DefaultEnd: guard.FormatClock(guard.DefaultEnd),
		DefaultCapMax: def.Max, DefaultCapHours: int(def.Period / time.Hour),
	}
}

func (s *Server) settingsSending(w http.ResponseWriter, r *http.Request, v *view) error {
	a, err := s.Accounts.Get(r.Context(), v.Principal.AccountID)
	if err != nil {
		return err
	}
	d := newSettingsSendingData(v)
	win, c := a.SendingWindow.Effective(), a.FrequencyCap.Effective()
	d.Start, d.End = guard.FormatClock(win.Start), guard.FormatClock(win.End)
	d.CapMax, d.CapPeriodHours = strconv.Itoa(c.Max), strconv.Itoa(int(c.Period/time.Hour))
	return s.render(w, r, http.StatusOK, "settings_sending", v, d)
}

var settingsSendingFields = map[string]string{
	"sending_window.start": "window_start", "sending_window.end": "window_end",
	"frequency_cap.max": "cap_max", "frequency_cap.period_hours": "cap_period_hours",
}

// settingsSaveSending changes both guards at once, as PUT
// /api/v1/settings/marketing does; the store checks both before writing.
func (s *Server) settingsSaveSending(w http.ResponseWriter, r *http.Request, v *view) error {
	d := newSettingsSendingData(v)
	d.Start, d.End = strings.TrimSpace(r.PostFormValue("window_start")), strings.TrimSpace(r.PostFormValue("window_end"))
	d.CapMax, d.CapPeriodHours = strings.TrimSpace(r.PostFormValue("cap_max")), strings.TrimSpace(r.PostFormValue("cap_period_hours"))
	err := s.settingsStoreSending(r, v, d)
	if err == nil {
		s.notice(w, r, "Sending rules saved.")
		redirect(w, r, "/settings/sending")
		return nil
	}
	errs, status, err := settingsInvalid(err, settingsSendingFields)
	if err != nil {
		return err
	}
	d.Errors = errs
	return s.render(w, r, status, "settings_sending", v, d)
}

func (s *Server) settingsStoreSending(r *http.Request, v *view, d settingsSendingData) error {
	win, err := guard.ParseWindow(d.Start, d.End)
	if err != nil {
		return err
	}
	capMax, err := strconv.Atoi(d.CapMax)
	if err != nil {
		return problem.Invalidf("invalid_number", "frequency_cap.max", "enter a whole number of messages, such as %d", guard.DefaultCapMax)
	}
	hours, err := strconv.Atoi(d.CapPeriodHours)
	if err != nil {
		return problem.Invalidf("invalid_number", "frequency_cap.period_hours", "enter a whole number of hours, such as 24")
	}
	c := guard.Cap{Max: capMax, Period: time.Duration(hours) * time.Hour}
	_, err = s.Accounts.SetGuards(r.Context(), v.Principal.AccountID, account.Guards{SendingWindow: &win, FrequencyCap: &c})
	return err
}

type settingsCountriesData struct {
	Tabs      []settingsTab
	Countries string
	// Saved is what is stored, for the warning when it is empty.
	Saved  []string
	Errors settingsErrors
}

func (s *Server) settingsCountries(w http.ResponseWriter, r *http.Request, v *view) error {
	a, err := s.Accounts.Get(r.Context(), v.Principal.AccountID)
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "settings_countries", v, settingsCountriesData{
		Tabs: settingsView(v, "Countries · Settings"), Countries: strings.Join(a.AllowedCountries, ", "), Saved: a.AllowedCountries})
}

// settingsSaveCountries sets the countries messages may go to. It changes
// that one setting of the account's set-up and nothing else.
func (s *Server) settingsSaveCountries(w http.ResponseWriter, r *http.Request, v *view) error {
	typed := r.PostFormValue("allowed_countries")
	list := settingsSplitCountries(typed)
	_, err := s.Accounts.Configure(r.Context(), v.Principal.AccountID, account.Setup{AllowedCountries: &list})
	if err == nil {
		s.notice(w, r, "Allowed countries saved.")
		redirect(w, r, "/settings/countries")
		return nil
	}
	errs, status, err := settingsInvalid(err, settingsIDs("allowed_countries"))
	if err != nil {
		return err
	}
	a, err := s.Accounts.Get(r.Context(), v.Principal.AccountID)
	if err != nil {
		return err
	}
	return s.render(w, r, status, "settings_countries", v, settingsCountriesData{
		Tabs: settingsView(v, "Countries · Settings"), Countries: typed, Saved: a.AllowedCountries, Errors: errs})
}

// settingsRepliesData is the keywords and replies form and the brand and
// help form: both change the account's replies, each its own fields.
type settingsRepliesData struct {
	Tabs []settingsTab
	// Form is what the inputs show; Default the texts that apply when a
	// box is left empty.
	Form    settingsRepliesForm
	Default account.Replies
	Errors  settingsErrors
}

type settingsRepliesForm struct {
	BrandName, HelpText                         string
	OptOutText, OptInText                       string
	OptOutKeywords, OptInKeywords, HelpKeywords string
}

func settingsFormOfReplies(rep account.Replies) settingsRepliesForm {
	return settingsRepliesForm{
		BrandName: rep.BrandName, HelpText: rep.HelpText, OptOutText: rep.OptOutText, OptInText: rep.OptInText,
		OptOutKeywords: strings.Join(rep.OptOutKeywords, ", "), OptInKeywords: strings.Join(rep.OptInKeywords, ", "),
		HelpKeywords: strings.Join(rep.HelpKeywords, ", "),
	}
}

// settingsReplies loads the stored replies and the texts that apply in
// place of an empty one, which name the account's brand.
func (s *Server) settingsReplies(r *http.Request, v *view) (account.Replies, account.Replies, error) {
	rep, err := s.Accounts.Replies(r.Context(), v.Principal.AccountID)
	if err != nil {
		return rep, rep, err
	}
	return rep, account.Replies{}.Effective(v.Account.Brand()), nil
}

func (s *Server) settingsKeywords(w http.ResponseWriter, r *http.Request, v *view) error {
	return s.settingsShowReplies(w, r, v, "settings_keywords", "Keywords & replies · Settings")
}

func (s *Server) settingsBrand(w http.ResponseWriter, r *http.Request, v *view) error {
	return s.settingsShowReplies(w, r, v, "settings_brand", "Brand & help · Settings")
}

func (s *Server) settingsShowReplies(w http.ResponseWriter, r *http.Request, v *view, name, title string) error {
	rep, def, err := s.settingsReplies(r, v)
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, name, v,
		settingsRepliesData{Tabs: settingsView(v, title), Form: settingsFormOfReplies(rep), Default: def})
}

var settingsKeywordFields = settingsIDs("opt_out_keywords", "opt_in_keywords", "help_keywords", "opt_out_text", "opt_in_text")

// settingsSaveKeywords changes the account's own keywords and the opt-out
// and opt-in confirmations, keeping the brand and help text.
func (s *Server) settingsSaveKeywords(w http.ResponseWriter, r *http.Request, v *view) error {
	return s.settingsStoreReplies(w, r, v, "keywords", "Keywords & replies · Settings", settingsKeywordFields,
		func(rep *account.Replies, f *settingsRepliesForm) {
			f.OptOutKeywords, f.OptInKeywords = r.PostFormValue("opt_out_keywords"), r.PostFormValue("opt_in_keywords")
			f.HelpKeywords = r.PostFormValue("help_keywords")
			f.OptOutText = strings.TrimSpace(r.PostFormValue("opt_out_text"))
			f.OptInText = strings.TrimSpace(r.PostFormValue("opt_in_text"))
			rep.OptOutKeywords, rep.OptInKeywords = settingsSplitKeywords(f.OptOutKeywords), settingsSplitKeywords(f.OptInKeywords)
			rep.HelpKeywords = settingsSplitKeywords(f.HelpKeywords)
			rep.OptOutText, rep.OptInText = f.OptOutText, f.OptInText
		})
}

// settingsSaveBrand changes the brand name and help reply, keeping the
// keywords and confirmations.
func (s *Server) settingsSaveBrand(w http.ResponseWriter, r *http.Request, v *view) error {
	return s.settingsStoreReplies(w, r, v, "brand", "Brand & help · Settings", settingsIDs("brand_name", "help_text"),
		func(rep *account.Replies, f *settingsRepliesForm) {
			f.BrandName = strings.TrimSpace(r.PostFormValue("brand_name"))
			f.HelpText = strings.TrimSpace(r.PostFormValue("help_text"))
			rep.BrandName, rep.HelpText = f.BrandName, f.HelpText
		})
}

// settingsStoreReplies reads the stored replies, lets read apply the
// form's fields to them, and saves the whole, as PUT
// /api/v1/settings/replies does. section is the page, keywords or brand.
func (s *Server) settingsStoreReplies(w http.ResponseWriter, r *http.Request, v *view, section, title string,
	fields map[string]string, read func(*account.Replies, *settingsRepliesForm)) error {
	name := "settings_" + section
	rep, def, err := s.settingsReplies(r, v)
	if err != nil {
		return err
	}
	form := settingsFormOfReplies(rep)
	read(&rep, &form)
	_, err = s.Accounts.SetReplies(r.Context(), v.Principal.AccountID, rep)
	if err == nil {
		s.notice(w, r, "Saved.")
		redirect(w, r, "/settings/"+section)
		return nil
	}
	errs, status, err := settingsInvalid(err, fields)
	if err != nil {
		return err
	}
	return s.render(w, r, status, name, v,
		settingsRepliesData{Tabs: settingsView(v, title), Form: form, Default: def, Errors: errs})
}

type settingsEnrollmentData struct {
	Tabs             []settingsTab
	MessageFrequency string
	TermsURL         string
	DoubleOptIn      bool
	DefaultFrequency string
	Errors           settingsErrors
}

func (s *Server) settingsEnrollment(w http.ResponseWriter, r *http.Request, v *view) error {
	e, err := s.Accounts.EnrollSettings(r.Context(), v.Principal.AccountID)
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "settings_enrollment", v, settingsEnrollmentData{
		Tabs:             settingsView(v, "Enrollment · Settings"),
		MessageFrequency: e.MessageFrequency, TermsURL: e.TermsURL, DoubleOptIn: e.DoubleOptIn,
		DefaultFrequency: account.DefaultFrequency})
}

// settingsSaveEnrollment changes what the enrollment form discloses and
// whether a ticked box waits for a "Y" reply, as PUT
// /api/v1/settings/enrollment does.
func (s *Server) settingsSaveEnrollment(w http.ResponseWriter, r *http.Request, v *view) error {
	in := account.EnrollSettings{MessageFrequency: r.PostFormValue("message_frequency"), TermsURL: r.PostFormValue("terms_url"),
		DoubleOptIn: r.PostFormValue("double_opt_in") == "on"}
	_, err := s.Accounts.SetEnrollSettings(r.Context(), v.Principal.AccountID, in)
	if err == nil {
		s.notice(w, r, "Enrollment settings saved.")
		redirect(w, r, "/settings/enrollment")
		return nil
	}
	errs, status, err := settingsInvalid(err, settingsIDs("message_frequency", "terms_url"))
	if err != nil {
		return err
	}
	return s.render(w, r, status, "settings_enrollment", v, settingsEnrollmentData{
		Tabs:             settingsView(v, "Enrollment · Settings"),
		MessageFrequency: in.MessageFrequency, TermsURL: in.TermsURL, DoubleOptIn: in.DoubleOptIn,
		DefaultFrequency: account.DefaultFrequency, Errors: errs})
}
