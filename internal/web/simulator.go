package web

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/heraldsms/herald/internal/account"
	"github.com/heraldsms/herald/internal/phone"
	"github.com/heraldsms/herald/internal/problem"
	"github.com/heraldsms/herald/internal/sim"
)

// The simulator inbox: when the built-in simulator is the carrier, each
// handset's texts can be read here and answered (STOP, HELP, JOIN…), the
// answer reaching Herald as a signed Twilio inbound webhook, as a real
// reply would.
//
// Account members see the handsets their account's carrier sub-account
// sent to, as the API's /sim/inbox does; the operator sees every account's,
// or picks one: the reads are open to any signed-in user; the replies have
// a route per audience.
func (s *Server) simulatorPages() []page {
	return []page{
		{"GET", "/simulator", signedIn, s.simOn(s.simIndex)},
		{"GET", "/simulator/open", signedIn, s.simOn(s.simOpen)},
		{"GET", "/simulator/handsets/{handset}", signedIn, s.simOn(s.simThreadPage)},
		{"GET", "/simulator/handsets/{handset}/thread", signedIn, s.simOn(s.simThreadFragment)},
		{"POST", "/simulator/handsets/{handset}/reply", editor, s.simReply},
		{"POST", "/operator/simulator/handsets/{handset}/reply", operator, s.simReply},
	}
}

var errSimOff = problem.New(problem.NotFound, "simulator_off", "",
	"the built-in carrier simulator is not running; start Herald with HERALD_SIMULATOR on to use this inbox")

// maxSimText is the longest text a handset may send, as the API's sim
// reply allows.
const maxSimText = 1600

// simOn answers "not found" when the simulator is not the carrier.
func (s *Server) simOn(next pageFunc) pageFunc {
	return func(w http.ResponseWriter, r *http.Request, v *view) error {
		if s.Sim == nil {
			return errSimOff
		}
		v.Section, v.Title = "simulator", "Simulator inbox"
		return next(w, r, v)
	}
}

// simScope is whose texts a user sees: one account's (a member's, or the
// one the operator picked), or every account's (the operator's default).
type simScope struct {
	Account *account.Account // nil: every account
	// Accounts are the operator's choices; empty for a member.
	Accounts []account.Account
	// Query keeps the operator's pick in links ("?account=…"), or is "".
	Query string
}

func (sc simScope) sees(m sim.Received) bool {
	if sc.Account == nil {
		return true
	}
	return sc.Account.Twilio != nil && m.AccountSID == sc.Account.Twilio.AccountSID
}

// replyPath is where this user's reply form posts.
func (sc simScope) replyPath(v *view, handset string) string {
	base := "/simulator/handsets/"
	if v.Principal.IsOperator() {
		base = "/operator/simulator/handsets/"
	}
	return base + url.PathEscape(handset) + "/reply" + sc.Query
}

// simScopeOf reads the scope of a request. The operator's ?account=
// names the account to look at; links and the reply form's address keep
// it.
func (s *Server) simScopeOf(r *http.Request, v *view) (simScope, error) {
	if !v.Principal.IsOperator() {
		return simScope{Account: v.Account}, nil
	}
	accounts, err := s.Accounts.List(r.Context())
	if err != nil {
		return simScope{}, err
	}
	sc := simScope{Accounts: accounts}
	id := r.URL.Query().Get("account")
	if id == "" {
		return sc, nil
	}
	a, err := s.Accounts.Get(r.Context(), id)
	if err != nil {
		return simScope{}, err
	}
	sc.Account, sc.Query = &a, "?"+url.Values{"account": {a.ID}}.Encode()
	return sc, nil
}

// simHandset is one line of the inbox: a handset and its newest text.
type simHandset struct {
	Number string
	Count  int
	Last   sim.Received
}

type simIndexData struct {
	Scope    simScope
	Handsets []simHandset
	// Open is the "open a handset" form's number and error.
	Open, OpenError string
}

func (s *Server) simIndex(w http.ResponseWriter, r *http.Request, v *view) error {
	sc, err := s.simScopeOf(r, v)
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "simulator", v, simIndexData{Scope: sc, Handsets: s.simHandsets(sc)})
}

// simHandsets lists the handsets in scope, the one texted last first.
func (s *Server) simHandsets(sc simScope) []simHandset {
	byNumber := map[string]*simHandset{}
	for _, m := range s.Sim.Received() {
		if !sc.sees(m) {
			continue
		}
		h := byNumber[m.To]
		if h == nil {
			h = &simHandset{Number: m.To}
			byNumber[m.To] = h
		}
		h.Count++
		h.Last = m // Received is oldest first
	}
	out := make([]simHandset, 0, len(byNumber))
	for _, h := range byNumber {
		out = append(out, *h)
	}
	slices.SortFunc(out, func(a, b simHandset) int {
		if c := b.Last.ReceivedAt.Compare(a.Last.ReceivedAt); c != 0 {
			return c
		}
		return strings.Compare(a.Number, b.Number)
	})
	return out
}

// simOpen goes to a handset's thread by its number, so a handset that has
// received nothing yet can text Herald (JOIN from a new phone).
func (s *Server) simOpen(w http.ResponseWriter, r *http.Request, v *view) error {
	sc, err := s.simScopeOf(r, v)
	if err != nil {
		return err
	}
	raw := strings.TrimSpace(r.URL.Query().Get("handset"))
	n, err := phone.ParseStrict(raw)
	if err != nil {
		return s.render(w, r, http.StatusUnprocessableEntity, "simulator", v, simIndexData{Scope: sc,
			Handsets: s.simHandsets(sc), Open: raw, OpenError: "Type the handset's number in +[country code][number] form, such as +17346263333."})
	}
	http.Redirect(w, r, "/simulator/handsets/"+url.PathEscape(n.E164)+sc.Query, http.StatusSeeOther)
	return nil
}

// simHandsetOf reads the {handset} of a path: a handset is a +E.164
// number, and anything else names no handset.
func simHandsetOf(r *http.Request) (string, error) {
	n, err := phone.ParseStrict(r.PathValue("handset"))
	if err != nil {
		return "", problem.NotFoundf("there is no handset %q; a handset is a number in +[country code][number] form", r.PathValue("handset"))
	}
	return n.E164, nil
}

func (s *Server) simThreadPage(w http.ResponseWriter, r *http.Request, v *view) error {
	d, err := s.simThreadData(r, v)
	if err != nil {
		return err
	}
	d.Form.To = d.DefaultTo
	return s.render(w, r, http.StatusOK, "simulator_thread", v, d)
}

// simThreadFragment is the thread alone, for the page's polling. When
// nothing changed since the version the page holds, it answers 204 and
// htmx leaves the page (and a screen reader) alone.
func (s *Server) simThreadFragment(w http.ResponseWriter, r *http.Request, v *view) error {
	d, err := s.simThreadData(r, v)
	if err != nil {
		return err
	}
	if r.URL.Query().Get("seen") == d.Version {
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	return s.fragment(w, http.StatusOK, "simulator_thread", "sim-thread", v, d)
}

// simReplyForm is the reply form as typed, and what is wrong with it.
type simReplyForm struct {
	To, Body string
	Errors   map[string]string
	// Failed says why Herald did not take a well-formed text.
	Failed string
}

// simReply has the handset text Herald. The simulator posts the text to
// Herald's inbound webhook, signed with the sub-account's token, and puts
// Herald's TwiML answer (a STOP confirmation, the HELP text) in the
// handset's inbox before it returns, so the thread shows it at once.
func (s *Server) simReply(w http.ResponseWriter, r *http.Request, v *view) error {
	if s.Sim == nil {
		return errSimOff
	}
	v.Section, v.Title = "simulator", "Simulator inbox"
	d, err := s.simThreadData(r, v)
	if err != nil {
		return err
	}
	f := simReplyForm{To: r.PostFormValue("to"), Body: r.PostFormValue("body"), Errors: map[string]string{}}
	switch {
	case strings.TrimSpace(f.Body) == "":
		f.Errors["body"] = "Type the text the handset sends, such as STOP, HELP or JOIN."
	case !utf8.ValidString(f.Body):
		f.Errors["body"] = "The text is not valid UTF-8."
	case utf8.RuneCountInString(f.Body) > maxSimText:
		f.Errors["body"] = "A text is at most 1,600 characters."
	}
	if !slices.Contains(d.Numbers, f.To) {
		f.Errors["to"] = "Pick one of the numbers Herald sends from."
	}
	if len(f.Errors) == 0 {
		err := s.Sim.Reply(r.Context(), d.Handset, f.To, f.Body)
		if err == nil {
			redirect(w, r, "/simulator/handsets/"+url.PathEscape(d.Handset)+d.Scope.Query)
			return nil
		}
		if errors.Is(err, sim.ErrUnknownSender) {
			f.Errors["to"] = "The simulator has not seen Herald send from " + f.To + " yet, so it cannot tell whose webhook to call. Send a message from it first (a template's Send Test will do)."
		} else {
			s.Logger.Warn("web: simulator reply", "handset", d.Handset, "to", f.To, "err", err)
			f.Failed = "Herald did not take the text: " + err.Error()
		}
	}
	d.Form = f
	status := http.StatusUnprocessableEntity
	if f.Failed != "" {
		status = http.StatusBadGateway
	}
	return s.render(w, r, status, "simulator_thread", v, d)
}
