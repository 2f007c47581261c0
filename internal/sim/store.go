package sim

import (
	"slices"
	"strings"
	"time"

	"github.com/heraldsms/herald/internal/provider/twilio"
)

// Directions of a received message, in Twilio's words.
const (
	DirectionAPI   = "outbound-api"   // sent through the Messages API
	DirectionReply = "outbound-reply" // sent as a TwiML answer to the handset's own text
)

// Received is one message a handset received, as the carrier saw it.
type Received struct {
	SID        string `json:"sid"`
	AccountSID string `json:"account_sid"`
	From       string `json:"from"`
	To         string `json:"to"`
	Body       string `json:"body"`
	Segments   int    `json:"segments"`
	Direction  string `json:"direction"`
	// Status is the latest status the carrier reported: queued or accepted,
	// then sent, then delivered, undelivered or failed.
	Status    string `json:"status"`
	ErrorCode string `json:"error_code,omitempty"`
	// ReceivedAt is when the send request arrived (before any added
	// latency), by Config.Clock; rates are measured from it.
	ReceivedAt time.Time `json:"received_at"`
}

// fifo is a queue of messages, oldest first. Its backing array is reused as
// the front advances and reallocated as it grows, so its memory stays within
// a small factor of what it holds.
type fifo struct{ items []*Received }

func (q *fifo) push(m *Received) { q.items = append(q.items, m) }
func (q *fifo) len() int         { return len(q.items) }

func (q *fifo) front() *Received {
	if len(q.items) == 0 {
		return nil
	}
	return q.items[0]
}

func (q *fifo) popFront() {
	q.items[0] = nil
	q.items = q.items[1:]
	if len(q.items) == 0 {
		q.items = nil
	}
}

func (q *fifo) snapshot() []Received {
	out := make([]Received, len(q.items))
	for i, m := range q.items {
		out[i] = *m
	}
	return out
}

// flags is what a handset told its carrier.
type flags struct{ unsubscribed, landline bool }

// account is a sub-account's credentials.
type account struct{ sid, token string }

// store is the simulator's memory. Every method needs Sim.mu held. Messages
// are bounded by the inbox limits; senders grows with the distinct sender
// numbers Herald sends from, which a deployment has few of.
type store struct {
	perHandset, total int
	all               fifo             // every kept message, oldest first
	inboxes           map[string]*fifo // per handset; a handset with none kept has no entry
	flags             map[string]flags
	senders           map[string]sender // by number
}

// sender is a number Herald sends from: the store's own copy of the number,
// which its messages share, and the sub-account that last sent from it.
type sender struct {
	number string
	acct   account
}

func newStore(perHandset, total int) store {
	return store{
		perHandset: perHandset, total: total,
		inboxes: make(map[string]*fifo),
		flags:   make(map[string]flags),
		senders: make(map[string]sender),
	}
}

func (st *store) reset() {
	st.all = fifo{}
	st.inboxes = make(map[string]*fifo)
	st.flags = make(map[string]flags)
}

// sentFrom records that acct sent from number and returns the store's copy
// of the number, for the message to keep instead of its request's.
func (st *store) sentFrom(number string, acct account) string {
	s, ok := st.senders[number]
	if !ok {
		s.number = strings.Clone(number)
	}
	s.acct = acct
	st.senders[s.number] = s
	return s.number
}

func (st *store) setFlag(handset string, set func(*flags)) {
	f := st.flags[handset]
	set(&f)
	if f == (flags{}) {
		delete(st.flags, handset)
		return
	}
	st.flags[handset] = f
}

// add keeps m in its handset's inbox and in the overall record, dropping the
// oldest messages beyond the limits. Both queues are in arrival order, so the
// message the overall record drops is its handset's oldest, unless the
// handset's own limit dropped it already.
func (st *store) add(m *Received) {
	in := st.inboxes[m.To]
	if in == nil {
		in = &fifo{}
		st.inboxes[m.To] = in
	}
	in.push(m)
	if in.len() > st.perHandset {
		in.popFront()
	}
	st.all.push(m)
	if st.all.len() > st.total {
		old := st.all.front()
		st.all.popFront()
		if oldIn := st.inboxes[old.To]; oldIn != nil && oldIn.front() == old {
			oldIn.popFront()
			if oldIn.len() == 0 {
				delete(st.inboxes, old.To)
			}
		}
	}
}

func (st *store) inbox(handset string) []Received {
	if in := st.inboxes[handset]; in != nil {
		return in.snapshot()
	}
	return []Received{}
}

// handsets lists every handset with a message kept or a state set, sorted.
func (st *store) handsets() []string {
	out := make([]string, 0, len(st.inboxes)+len(st.flags))
	for h := range st.inboxes {
		out = append(out, h)
	}
	for h := range st.flags {
		if st.inboxes[h] == nil {
			out = append(out, h)
		}
	}
	slices.Sort(out)
	return out
}

// Inbox returns what a handset received, oldest first (newest last). A
// handset keeps its newest Config.InboxPerHandset messages.
func (s *Sim) Inbox(handset string) []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st.inbox(handset)
}

// Handsets lists, sorted, every handset that has a message kept or a state
// set with SetUnsubscribed or SetLandline.
func (s *Sim) Handsets() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st.handsets()
}

// Received returns every message kept, across handsets, oldest first. The
// newest Config.InboxTotal are kept.
func (s *Sim) Received() []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st.all.snapshot()
}

// MostInWindow is the most of msgs that arrived within any span of w: what a
// carrier that counts requests as they arrive sees of a sender's rate.
func MostInWindow(msgs []Received, w time.Duration) int {
	at := make([]time.Time, len(msgs))
	for i, m := range msgs {
		at[i] = m.ReceivedAt
	}
	slices.SortFunc(at, time.Time.Compare)
	most, lo := 0, 0
	for hi := range at {
		for at[hi].Sub(at[lo]) >= w {
			lo++
		}
		most = max(most, hi-lo+1)
	}
	return most
}

// markStatus moves a message's status forward. Callbacks may be reported out
// of order (ShuffleCallbacks), so a status replaces the current one only if
// Twilio's ordering ranks it later.
func (s *Sim) markStatus(m *Received, status, errorCode string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if twilio.StatusRank(status) > twilio.StatusRank(m.Status) {
		m.Status, m.ErrorCode = status, errorCode
	}
}
