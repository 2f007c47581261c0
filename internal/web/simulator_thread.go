package web

import (
	"context"
	"fmt"
	"hash/fnv"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/heraldsms/herald/internal/contact"
	"github.com/heraldsms/herald/internal/inbound"
	"github.com/heraldsms/herald/internal/problem"
	"github.com/heraldsms/herald/internal/sim"
)

// simTurn is one text of a handset's thread: from Herald to the handset,
// or from the handset to Herald.
type simTurn struct {
	Key      string
	FromSelf bool // the handset sent it
	From, To string
	Body     string
	At       time.Time
	// Status is the carrier's for a text to the handset; Action is what
	// Herald did with a text from it (opted_out, help_sent…).
	Status, Action string
	// Answer marks Herald's TwiML answer to the handset's own text.
	Answer bool
}

// simThreadData is a handset's page: its thread, the reply form, and the
// contact the number belongs to in the account, if any.
type simThreadData struct {
	Scope   simScope
	Handset string
	Turns   []simTurn
	// Version changes whenever the thread does; the polling sends it back
	// so an unchanged thread is not swapped in again.
	Version string
	Poll    string // the fragment's URL, with the version
	// Numbers are the sender numbers the handset may text; DefaultTo is
	// the one that texted it last.
	Numbers   []string
	DefaultTo string
	Reply     string // where the reply form posts
	Form      simReplyForm
	Contact   *contact.Contact
}

// simThreadData reads the {handset} of the request's path in the user's
// scope.
func (s *Server) simThreadData(r *http.Request, v *view) (simThreadData, error) {
	handset, err := simHandsetOf(r)
	if err != nil {
		return simThreadData{}, err
	}
	ctx := r.Context()
	sc, err := s.simScopeOf(r, v)
	if err != nil {
		return simThreadData{}, err
	}
	d := simThreadData{Scope: sc, Handset: handset, Reply: sc.replyPath(v, handset)}
	var senders []string
	if d.Turns, senders, err = s.simThread(ctx, sc, handset); err != nil {
		return d, err
	}
	if d.Numbers, err = s.simNumbers(ctx, sc, senders); err != nil {
		return d, err
	}
	for _, n := range senders {
		if slices.Contains(d.Numbers, n) {
			d.DefaultTo = n // the last to text the handset wins
		}
	}
	if sc.Account != nil {
		c, err := s.Contacts.FindByPhone(ctx, sc.Account.ID, handset)
		switch {
		case err == nil:
			d.Contact = &c
		case !problem.Is(err, problem.NotFound):
			return d, err
		}
	}
	d.Version = simVersion(d.Turns)
	d.Poll = simPollURL(handset, sc, d.Version)
	return d, nil
}

// simThread builds a handset's thread in scope: what the simulator
// delivered to it, and what it sent, as Herald stored the texts, oldest
// first.
func (s *Server) simThread(ctx context.Context, sc simScope, handset string) ([]simTurn, []string, error) {
	var turns []simTurn
	var senders []string
	sids := map[string]bool{}
	for _, m := range s.Sim.Inbox(handset) {
		if !sc.sees(m) {
			continue
		}
		turns = append(turns, simTurn{Key: m.SID, From: m.From, To: m.To, Body: m.Body, At: m.ReceivedAt,
			Status: m.Status, Answer: m.Direction == sim.DirectionReply})
		sids[m.AccountSID] = true
		if i := slices.Index(senders, m.From); i >= 0 {
			senders = slices.Delete(senders, i, i+1)
		}
		senders = append(senders, m.From) // the last texted last
	}
	accountIDs, err := s.simAccountsOf(ctx, sc, sids)
	if err != nil {
		return nil, nil, err
	}
	for _, id := range accountIDs {
		texts, err := s.simHandsetTexts(ctx, id, handset)
		if err != nil {
			return nil, nil, err
		}
		for _, m := range texts {
			turns = append(turns, simTurn{Key: m.ID, FromSelf: true, From: m.From, To: m.To, Body: m.Body,
				At: m.ReceivedAt, Action: m.Action})
		}
	}
	slices.SortStableFunc(turns, func(a, b simTurn) int { return a.At.Compare(b.At) })
	return turns, senders, nil
}

// simAccountsOf is the accounts whose stored texts belong in a thread: the
// scope's account, or for the operator's every-account view, the accounts
// of the sub-accounts that texted the handset.
func (s *Server) simAccountsOf(ctx context.Context, sc simScope, sids map[string]bool) ([]string, error) {
	if sc.Account != nil {
		return []string{sc.Account.ID}, nil
	}
	var ids []string
	for sid := range sids {
		accounts, err := s.Accounts.ByTwilioSID(ctx, sid)
		if err != nil {
			return nil, err
		}
		for _, a := range accounts {
			ids = append(ids, a.ID)
		}
	}
	slices.Sort(ids)
	return slices.Compact(ids), nil
}

// simHandsetTexts is what a handset texted an account, newest first. A
// contact's texts are found by contact; a number with no contact (a
// stranger's JOIN) among the account's latest texts.
func (s *Server) simHandsetTexts(ctx context.Context, accountID, handset string) ([]inbound.Message, error) {
	f := inbound.Filter{Limit: 200}
	c, err := s.Contacts.FindByPhone(ctx, accountID, handset)
	switch {
	case err == nil:
		f.ContactID = c.ID
	case !problem.Is(err, problem.NotFound):
		return nil, err
	}
	page, err := s.Inbound.List(ctx, accountID, f)
	if err != nil {
		return nil, err
	}
	out := page.Data[:0]
	for _, m := range page.Data {
		if m.From == handset {
			out = append(out, m)
		}
	}
	return out, nil
}

// simVersion fingerprints a thread: its texts and their statuses.
func simVersion(turns []simTurn) string {
	h := fnv.New64a()
	for _, t := range turns {
		fmt.Fprintf(h, "%s\x00%s\x00%s\n", t.Key, t.Status, t.Action)
	}
	return fmt.Sprintf("%016x", h.Sum64())
}

// simNumbers is what a handset may text: the account's sender numbers,
// or for the operator's every-account view, the numbers that texted it.
func (s *Server) simNumbers(ctx context.Context, sc simScope, senders []string) ([]string, error) {
	if sc.Account == nil {
		return senders, nil
	}
	nums, err := s.Accounts.Numbers(ctx, sc.Account.ID)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(nums))
	for _, n := range nums {
		out = append(out, n.Phone)
	}
	return out, nil
}

// simPollURL is the thread fragment's address for the page's polling.
func simPollURL(handset string, sc simScope, version string) string {
	q := url.Values{"seen": {version}}
	if sc.Account != nil && sc.Query != "" {
		q.Set("account", sc.Account.ID)
	}
	return "/simulator/handsets/" + url.PathEscape(handset) + "/thread?" + q.Encode()
}
