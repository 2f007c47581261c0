package message

import "sync"

// recentCapacity is how many sends recentSends remembers: over a second
// of sends at 3,000 a second, more at lower rates. A carrier posts its
// "sent" report soon after it answers the send (the simulator at once,
// Twilio usually within a second or two). A report for a send already
// forgotten takes the database's path, so the number bounds memory, never
// correctness; each entry kept also costs the collector's multiple of it
// in heap (16,384 added up to 20 MB of peak RSS in a paced run).
const recentCapacity = 1 << 12

// recentSends remembers the latest sends whose "sent" result this process
// has committed, with the carrier id each was given. The carrier's "sent"
// report for such a send would move nothing: statuses only move forward,
// and such a report keeps no token (see applyReports). Every send brings
// one, so answering it from here spares the writer a look-up and the
// carrier a wait for a commit on half of its callbacks.
type recentSends struct {
	mu    sync.Mutex
	byID  map[string]sentAs // message id → how it was sent
	order []string          // byID's keys as a ring; the oldest is at next
	next  int
}

type sentAs struct{ accountID, carrierID string }

// add remembers the account's messages just recorded as sent, forgetting
// the oldest beyond recentCapacity.
func (r *recentSends) add(accountID string, msgs []*Message) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.byID == nil {
		r.byID = make(map[string]sentAs, recentCapacity)
		r.order = make([]string, recentCapacity)
	}
	for _, m := range msgs {
		if m.CarrierID == nil || m.AccountID != accountID {
			continue
		}
		if _, ok := r.byID[m.ID]; !ok {
			delete(r.byID, r.order[r.next]) // "" is never a key
			r.order[r.next] = m.ID
			r.next = (r.next + 1) % len(r.order)
		}
		r.byID[m.ID] = sentAs{accountID, *m.CarrierID}
	}
}

// sent reports whether this process recorded the account's message as
// sent with this carrier id, and still remembers it.
func (r *recentSends) sent(accountID, messageID, carrierID string) bool {
	if messageID == "" {
		return false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	s, ok := r.byID[messageID]
	return ok && s == sentAs{accountID, carrierID}
}
