package web

import (
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/heraldsms/herald/internal/account"
	"github.com/heraldsms/herald/internal/message"
	"github.com/heraldsms/herald/internal/msgtemplate"
	"github.com/heraldsms/herald/internal/problem"
	"github.com/heraldsms/herald/internal/user"
)

// operatorPages are the operator console: accounts, their SMS setup and
// usage, and the template approval queue. They make the same domain calls
// as the operator routes of the REST API.
func (s *Server) operatorPages() []page {
	return []page{
		{"GET", "/operator", operator, s.operatorAccounts},
		{"GET", "/operator/accounts/new", operator, s.operatorNewAccount},
		{"POST", "/operator/accounts", operator, s.operatorCreateAccount},
		{"GET", "/operator/accounts/{id}", operator, s.operatorAccount},
		{"POST", "/operator/accounts/{id}", operator, s.operatorConfigure},
		{"POST", "/operator/accounts/{id}/users", operator, s.operatorAddAdmin},
		{"GET", "/operator/templates", operator, s.operatorQueue},
		{"POST", "/operator/templates/{id}/approve", operator, s.operatorApprove},
		{"POST", "/operator/templates/{id}/reject", operator, s.operatorReject},
	}
}

type opAccountRow struct {
	account.Account
	Usage message.Usage
}

func (s *Server) operatorAccounts(w http.ResponseWriter, r *http.Request, v *view) error {
	accts, err := s.Accounts.List(r.Context())
	if err != nil {
		return err
	}
	rows := make([]opAccountRow, 0, len(accts))
	for _, a := range accts {
		u, err := s.Messages.UsageOf(r.Context(), a)
		if err != nil {
			return err
		}
		rows = append(rows, opAccountRow{Account: a, Usage: u})
	}
	v.Section, v.Title = "operator", "Accounts"
	return s.render(w, r, http.StatusOK, "operator", v, rows)
}

type opNewAccountForm struct {
	Name, BrandName, DefaultCountry, TimeZone string
}

type opNewAccountData struct {
	Form   opNewAccountForm
	Errors tplErrors
}

func (s *Server) operatorNewAccount(w http.ResponseWriter, r *http.Request, v *view) error {
	v.Section, v.Title = "operator", "New account"
	return s.render(w, r, http.StatusOK, "operator_new", v,
		opNewAccountData{Form: opNewAccountForm{DefaultCountry: "US", TimeZone: "America/New_York"}})
}

// operatorCreateAccount makes an account and its first admin API key. The
// key's secret is shown on the answer itself, once: it is kept only as a
// hash, so it cannot go through a redirect.
func (s *Server) operatorCreateAccount(w http.ResponseWriter, r *http.Request, v *view) error {
	f := opNewAccountForm{Name: r.PostFormValue("name"), BrandName: strings.TrimSpace(r.PostFormValue("brand_name")),
		DefaultCountry: strings.TrimSpace(r.PostFormValue("default_country")), TimeZone: strings.TrimSpace(r.PostFormValue("time_zone"))}
	a, secret, err := s.Accounts.CreateAccount(r.Context(), account.NewAccount(f))
	if p, ok := problem.As(err); ok && p.Kind == problem.Invalid {
		v.Section, v.Title = "operator", "New account"
		return s.render(w, r, p.Kind.HTTPStatus(), "operator_new", v,
			opNewAccountData{Form: f, Errors: tplErrors{p.Field: p.Message}})
	}
	if err != nil {
		return err
	}
	return s.opRenderAccount(w, r, v, http.StatusCreated, a.ID, opAccountExtras{APIKey: secret})
}

// opSetupForm is the SMS setup as the form holds it, strings as typed, so a
// tplRefused save shows exactly what was entered.
type opSetupForm struct {
	SMSEnabled, SelfApproval, AutoRelease bool
	MonthlyLimit, AllowedCountries        string
	AccountSID, BaseURL                   string
	Numbers                               [2]opNumberForm
}

type opNumberForm struct{ Phone, Kind, MPS string }

type opAccountExtras struct {
	Setup  *opSetupForm
	Errors tplErrors
	// APIKey is the first admin key's secret, on the page that created it.
	APIKey    string
	UserEmail string
}

type opAccountData struct {
	opAccountExtras
	A       account.Account
	Usage   message.Usage
	Numbers []account.Number
	Users   []user.User
	Form    opSetupForm
}

func (s *Server) operatorAccount(w http.ResponseWriter, r *http.Request, v *view) error {
	return s.opRenderAccount(w, r, v, http.StatusOK, r.PathValue("id"), opAccountExtras{})
}

func (s *Server) opRenderAccount(w http.ResponseWriter, r *http.Request, v *view, status int, id string, x opAccountExtras) error {
	a, err := s.Accounts.Get(r.Context(), id)
	if err != nil {
		return err
	}
	d := opAccountData{opAccountExtras: x, A: a}
	if d.Usage, err = s.Messages.UsageOf(r.Context(), a); err != nil {
		return err
	}
	if d.Numbers, err = s.Accounts.Numbers(r.Context(), a.ID); err != nil {
		return err
	}
	if d.Users, err = s.Users.List(r.Context(), a.ID); err != nil {
		return err
	}
	d.Form = opCurrentSetup(a, d.Numbers)
	if x.Setup != nil {
		d.Form = *x.Setup
	}
	v.Section, v.Title = "operator", a.Name
	return s.render(w, r, status, "operator_account", v, d)
}

func opCurrentSetup(a account.Account, nums []account.Number) opSetupForm {
	f := opSetupForm{SMSEnabled: a.SMSEnabled, SelfApproval: a.SelfApproval, AutoRelease: a.AutoReleaseQueue,
		MonthlyLimit: strconv.FormatInt(a.MonthlyLimit, 10), AllowedCountries: strings.Join(a.AllowedCountries, ", ")}
	if a.Twilio != nil {
		f.AccountSID, f.BaseURL = a.Twilio.AccountSID, a.Twilio.BaseURL
	}
	for i, n := range nums {
		if i < len(f.Numbers) {
			f.Numbers[i] = opNumberForm{Phone: n.Phone, Kind: string(n.Kind), MPS: strconv.FormatFloat(n.MPS, 'f', -1, 64)}
		}
	}
	return f
}

// operatorConfigure applies the SMS setup, the same account.Setup as PUT
// /api/v1/operator/accounts/{id}. Only what changed is sent: numbers are
// replaced only when they differ, and the carrier sub-account only with its
// auth token, which is write-only and never shown back.
func (s *Server) operatorConfigure(w http.ResponseWriter, r *http.Request, v *view) error {
	a, err := s.Accounts.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	nums, err := s.Accounts.Numbers(r.Context(), a.ID)
	if err != nil {
		return err
	}
	f := opReadSetup(r)
	setup, err := f.setup(a, nums, r.PostFormValue("twilio_auth_token"))
	if err == nil {
		_, err = s.Accounts.Configure(r.Context(), a.ID, setup)
	}
	if p, ok := problem.As(err); ok && (p.Kind == problem.Invalid || p.Kind == problem.Conflict) {
		return s.opRenderAccount(w, r, v, p.Kind.HTTPStatus(), a.ID,
			opAccountExtras{Setup: &f, Errors: tplErrors{opSetupFieldID(p.Field): p.Message}})
	}
	if err != nil {
		return err
	}
	s.notice(w, r, "Saved the SMS setup of "+a.Name+".")
	redirect(w, r, "/operator/accounts/"+a.ID)
	return nil
}

func opReadSetup(r *http.Request) opSetupForm {
	f := opSetupForm{SMSEnabled: r.PostFormValue("sms_enabled") != "", SelfApproval: r.PostFormValue("self_approval") != "",
		AutoRelease: r.PostFormValue("auto_release_queue") != "", MonthlyLimit: strings.TrimSpace(r.PostFormValue("monthly_limit")),
		AllowedCountries: r.PostFormValue("allowed_countries"), AccountSID: strings.TrimSpace(r.PostFormValue("twilio_account_sid")),
		BaseURL: strings.TrimSpace(r.PostFormValue("twilio_base_url"))}
	for i := range f.Numbers {
		p := fmt.Sprintf("number_%d_", i)
		f.Numbers[i] = opNumberForm{Phone: strings.TrimSpace(r.PostFormValue(p + "phone")),
			Kind: r.PostFormValue(p + "kind"), MPS: strings.TrimSpace(r.PostFormValue(p + "mps"))}
	}
	return f
}

// setup turns the form into an account.Setup, refusing what cannot be
// read before anything is written.
func (f opSetupForm) setup(a account.Account, cur []account.Number, token string) (account.Setup, error) {
	limit, err := strconv.ParseInt(f.MonthlyLimit, 10, 64)
	if err != nil {
		return account.Setup{}, problem.Invalidf("invalid_monthly_limit", "monthly_limit", "the monthly limit must be a whole number of messages, e.g. 1000")
	}
	countries := strings.FieldsFunc(f.AllowedCountries, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\t' })
	setup := account.Setup{SMSEnabled: &f.SMSEnabled, SelfApproval: &f.SelfApproval, AutoReleaseQueue: &f.AutoRelease,
		MonthlyLimit: &limit, AllowedCountries: &countries}
	var sub [2]string
	if a.Twilio != nil {
		sub = [2]string{a.Twilio.AccountSID, a.Twilio.BaseURL}
	}
	switch {
	case token != "":
		setup.Twilio = &account.TwilioSetup{AccountSID: f.AccountSID, AuthToken: token, BaseURL: f.BaseURL}
	case [2]string{f.AccountSID, strings.TrimRight(f.BaseURL, "/")} != sub:
		return account.Setup{}, problem.Invalidf("invalid_auth_token", "twilio.auth_token",
			"enter the sub-account's auth token to change its SID or base URL; the stored token is never shown")
	}
	var in []account.NumberInput
	for i, n := range f.Numbers {
		if n.Phone == "" {
			continue
		}
		mps := 0.0
		if n.MPS != "" {
			if mps, err = strconv.ParseFloat(n.MPS, 64); err != nil {
				return account.Setup{}, problem.Invalidf("invalid_mps", fmt.Sprintf("numbers[%d].mps", i), "messages per second must be a number, e.g. 1 or 0.5")
			}
		}
		in = append(in, account.NumberInput{Phone: n.Phone, Kind: account.NumberKind(n.Kind), MPS: mps})
	}
	if !opSameNumbers(in, cur) {
		setup.Numbers = &in
	}
	return setup, nil
}

// opSameNumbers reports whether the form's numbers are the stored ones, so
// saving other settings does not replace the number rows.
func opSameNumbers(in []account.NumberInput, cur []account.Number) bool {
	key := func(phone string, kind account.NumberKind, mps float64) string {
		if mps == 0 {
			mps = 1
		}
		return fmt.Sprintf("%s|%s|%g", phone, kind, mps)
	}
	var a, b []string
	for _, n := range in {
		a = append(a, key(n.Phone, n.Kind, n.MPS))
	}
	for _, n := range cur {
		b = append(b, key(n.Phone, n.Kind, n.MPS))
	}
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

var opNumberField = regexp.MustCompile(`^numbers\[(\d)\]\.(phone|kind|mps)$`)

// opSetupFieldID is the form control a Setup problem's field names.
func opSetupFieldID(field string) string {
	if m := opNumberField.FindStringSubmatch(field); m != nil {
		return "number_" + m[1] + "_" + m[2]
	}
	switch field {
	case "twilio", "":
		return "sms_enabled"
	case "numbers":
		return "numbers"
	}
	return strings.ReplaceAll(field, ".", "_")
}

// operatorAddAdmin gives an account an admin who can sign in to the web,
// which a new account otherwise lacks.
func (s *Server) operatorAddAdmin(w http.ResponseWriter, r *http.Request, v *view) error {
	id := r.PathValue("id")
	if _, err := s.Accounts.Get(r.Context(), id); err != nil {
		return err
	}
	email := r.PostFormValue("user_email")
	_, err := s.Users.Create(r.Context(), user.New{AccountID: id, Email: email, Name: r.PostFormValue("user_name"),
		Role: account.RoleAdmin, Password: r.PostFormValue("user_password")})
	if p, ok := problem.As(err); ok && (p.Kind == problem.Invalid || p.Kind == problem.Conflict) {
		return s.opRenderAccount(w, r, v, p.Kind.HTTPStatus(), id,
			opAccountExtras{UserEmail: email, Errors: tplErrors{"user_" + p.Field: p.Message}})
	}
	if err != nil {
		return err
	}
	s.notice(w, r, "Added "+strings.ToLower(strings.TrimSpace(email))+" as an admin.")
	redirect(w, r, "/operator/accounts/"+id)
	return nil
}

// opQueueItem is one template awaiting approval, with what changed since
// the version that is sent now.
type opQueueItem struct {
	T           msgtemplate.Template
	Account     account.Account
	Submitted   msgtemplate.Decision
	Approved    *msgtemplate.Version
	Changes     []wordDiffPart
	Check       msgtemplate.Result
	Error       string
	Reason      string
	SubmittedBy string
}

type opQueueData struct {
	Items []opQueueItem
	Pager tplPager
	// Error is a refused decision on a template this page does not show
	// (decided meanwhile, or on another page).
	Error string
}

func (s *Server) operatorQueue(w http.ResponseWriter, r *http.Request, v *view) error {
	return s.opRenderQueue(w, r, v, http.StatusOK, "", "")
}

// opRenderQueue shows the templates awaiting approval; after a tplRefused
// decision, failed names the template and msg says why.
func (s *Server) opRenderQueue(w http.ResponseWriter, r *http.Request, v *view, status int, failed, msg string) error {
	f, err := msgtemplate.ParseFilter("", "", r.URL.Query().Get("cursor"), "")
	if err != nil {
		return err
	}
	pg, err := s.Templates.Queue(r.Context(), f)
	if err != nil {
		return err
	}
	accts, names := map[string]account.Account{}, map[string]string{}
	d := opQueueData{Pager: tplPager{Next: pg.NextCursor, Path: v.Path, Query: v.Query}}
	for _, t := range pg.Data {
		a, ok := accts[t.AccountID]
		if !ok {
			if a, err = s.Accounts.Get(r.Context(), t.AccountID); err != nil {
				return err
			}
			accts[t.AccountID] = a
		}
		full, err := s.Templates.Get(r.Context(), t.AccountID, t.ID)
		if err != nil {
			return err
		}
		it := opQueueItemOf(full, a, tplActors{s: s, r: r, accountID: t.AccountID, cache: names})
		if full.ID == failed {
			it.Error, it.Reason = msg, r.PostFormValue("reason")
		}
		d.Items = append(d.Items, it)
	}
	if failed != "" && !slices.ContainsFunc(d.Items, func(it opQueueItem) bool { return it.T.ID == failed }) {
		d.Error = msg
	}
	v.Section, v.Title = "approvals", "Template approvals"
	return s.render(w, r, status, "operator_templates", v, d)
}

// opQueueItemOf finds, in a template's history, when its current version
// was submitted and which version is sent now, and compares the two.
func opQueueItemOf(t msgtemplate.Template, a account.Account, names tplActors) opQueueItem {
	it := opQueueItem{T: t, Account: a, Check: msgtemplate.Check(t.Kind, t.Body, a.Brand())}
	for i := range t.Versions {
		ver := &t.Versions[i]
		if ver.ID == t.ApprovedVersionID {
			it.Approved = ver
		}
		if ver.ID != t.VersionID {
			continue
		}
		for _, dec := range ver.Decisions {
			if dec.Outcome == msgtemplate.OutcomeSubmitted {
				it.Submitted, it.SubmittedBy = dec, names.of(dec.Actor)
			}
		}
	}
	if it.Approved != nil {
		it.Changes = wordDiff(it.Approved.Body, t.Body)
	}
	return it
}

func (s *Server) operatorApprove(w http.ResponseWriter, r *http.Request, v *view) error {
	return s.operatorDecide(w, r, v, true)
}

func (s *Server) operatorReject(w http.ResponseWriter, r *http.Request, v *view) error {
	return s.operatorDecide(w, r, v, false)
}

// operatorDecide approves or rejects any account's template, as the
// operator's REST routes do.
func (s *Server) operatorDecide(w http.ResponseWriter, r *http.Request, v *view, approve bool) error {
	id := r.PathValue("id")
	accountID, err := s.Templates.AccountOf(r.Context(), id)
	if err != nil {
		return err
	}
	t, err := s.Templates.Decide(r.Context(), accountID, id, msgtemplate.Review{Approve: approve,
		Reason: r.PostFormValue("reason"), Actor: v.Principal.Actor()})
	if p, ok := problem.As(err); ok && (p.Kind == problem.Invalid || p.Kind == problem.Conflict) {
		return s.opRenderQueue(w, r, v, p.Kind.HTTPStatus(), id, p.Message)
	}
	if err != nil {
		return err
	}
	verb := "Approved"
	if !approve {
		verb = "Rejected"
	}
	s.notice(w, r, fmt.Sprintf("%s %q version %d.", verb, t.Name, t.Version))
	redirect(w, r, "/operator/templates")
	return nil
}

// wordDiffPart is a run of words the same in both texts, added or removed.
type wordDiffPart struct {
	Op   string // "same", "add" or "del"
	Text string
}

// wordDiff compares two bodies word by word (whitespace kept with the word
// before it) by their longest common subsequence. Bodies are at most 1,600
// characters, so the quadratic table stays small.
func wordDiff(from, to string) []wordDiffPart {
	a, b := diffWords(from), diffWords(to)
	if len(a)*len(b) > 1<<20 {
		return []wordDiffPart{{"del", from}, {"add", to}}
	}
	lcs := make([][]int, len(a)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(b)+1)
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var out []wordDiffPart
	push := func(op, text string) {
		if n := len(out); n > 0 && out[n-1].Op == op {
			out[n-1].Text += text
			return
		}
		out = append(out, wordDiffPart{op, text})
	}
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case i < len(a) && j < len(b) && a[i] == b[j]:
			push("same", a[i])
			i, j = i+1, j+1
		case i < len(a) && (j == len(b) || lcs[i+1][j] >= lcs[i][j+1]):
			push("del", a[i])
			i++
		default:
			push("add", b[j])
			j++
		}
	}
	return out
}

// words splits text into words, each with the whitespace that follows it.
func diffWords(s string) []string {
	var out []string
	for s != "" {
		end := strings.IndexAny(s, " \t\r\n")
		if end < 0 {
			return append(out, s)
		}
		for end < len(s) && strings.ContainsRune(" \t\r\n", rune(s[end])) {
			end++
		}
		out = append(out, s[:end])
		s = s[end:]
	}
	return out
}
