// Package message keeps Herald's messages: one row per message, written
// once with its rendered body and status, which is both the source of truth
// and the send queue. It owns the message life (which status may follow
// which), the audience rules, the monthly limit and its queue, and the
// transaction log of every status a message has had.
package message

import (
	"time"
)

// Status is where a message is in its life.
type Status string

// The statuses. See DESIGN.md, "Message life".
const (
	Skipped     Status = "skipped"      // an audience rule said no; the reason is kept
	LimitQueued Status = "limit_queued" // past the monthly limit; waits for an admin
	Scheduled   Status = "scheduled"    // marketing outside the recipient's sending window; waits for it to open
	Queued      Status = "queued"       // waits for its sender number
	RateLimited Status = "rate_limited" // the carrier asked the number to slow down
	Sending     Status = "sending"      // claimed by a dispatcher
	Sent        Status = "sent"         // the carrier accepted it
	Delivered   Status = "delivered"
	Undelivered Status = "undelivered"
	Failed      Status = "failed"
	Cancelled   Status = "cancelled"
)

// transitions lists the statuses each status may move to. Anything else is
// refused, so a late or repeated event cannot move a message backwards.
//
// A new message starts (as "processing" in the outcomes log) in skipped,
// limit_queued, scheduled or queued. A scheduled message moves to queued
// when its window opens; one claimed outside its window (the window changed,
// or a backlog ran past the evening) goes back to scheduled.
var transitions = map[Status][]Status{
	LimitQueued: {Queued, Scheduled, Cancelled, Skipped},
	Queued:      {Sending, Skipped, Failed, LimitQueued}, // limit_queued: a transactional message took its allowance
	Scheduled:   {Queued, Cancelled, Skipped, LimitQueued},
	RateLimited: {Sending, Skipped, Failed},
	Sending:     {Sent, Failed, Queued, RateLimited, Skipped, Sending, Scheduled},
	Sent:        {Delivered, Undelivered, Failed},
}

// CanMove reports whether a message in status from may move to status to.
func CanMove(from, to Status) bool {
	for _, s := range transitions[from] {
		if s == to {
			return true
		}
	}
	return false
}

// Terminal reports whether nothing more will happen to a message.
func (s Status) Terminal() bool {
	switch s {
	case Skipped, Delivered, Undelivered, Failed, Cancelled:
		return true
	}
	return false
}

// Kind says what a message is for; it picks the sender number and which
// consent applies.
type Kind string

// The kinds.
const (
	Transactional Kind = "transactional"
	Marketing     Kind = "marketing"
	Test          Kind = "test"  // a template's Send Test, to a number typed by a person
	Reply         Kind = "reply" // an answer to an inbound message (HELP, a STOP confirmation)
)

// priority orders the send queue: everything before marketing.
func (k Kind) priority() int {
	if k == Marketing {
		return 1
	}
	return 0
}

// Skip and failure reasons.
const (
	ReasonNotOptedIn        = "not_opted_in"
	ReasonInvalidPhone      = "invalid_phone"
	ReasonCountryNotAllowed = "country_not_allowed"
	ReasonSMSNotEnabled     = "sms_not_enabled"
	ReasonNoSenderNumber    = "no_sender_number"
	ReasonContactDeleted    = "contact_deleted"
	ReasonMissingValue      = "missing_merge_value"
	ReasonRetriesExhausted  = "retries_exhausted"
	ReasonClaimsExpired     = "claims_expired" // claimed as often as a message may be, its result never written
	ReasonCarrierRejected   = "carrier_rejected"
	ReasonCarrierAuthFailed = "carrier_auth_failed" // queued: the carrier refused the account's credentials
	ReasonUnsubscribed      = "recipient_unsubscribed"
	ReasonCancelledByAdmin  = "cancelled_by_admin"
	ReasonFrequencyCap      = "frequency_cap"  // the contact had their marketing for the period
	ReasonSendingWindow     = "sending_window" // scheduled: outside the recipient's local window
	ReasonWindowOpen        = "window_open"    // queued: the window it waited for opened
)

// Message is one text to one phone.
type Message struct {
	ID           string    `json:"id"`
	AccountID    string    `json:"-"`
	ProgramID    *string   `json:"program_id"`
	ContactID    *string   `json:"contact_id"`
	NumberID     *string   `json:"-"`
	To           string    `json:"to"`
	From         string    `json:"from"`
	Kind         Kind      `json:"kind"`
	TemplateID   *string   `json:"template_id"`
	VersionID    *string   `json:"template_version_id"`
	AutomationID *string   `json:"automation_id"`
	Step         *int      `json:"step"`
	EventID      *string   `json:"event_id"`
	DedupeKey    *string   `json:"-"`
	Body         string    `json:"body"`
	Encoding     string    `json:"encoding"`
	Segments     int       `json:"segments"`
	Status       Status    `json:"status"`
	Reason       string    `json:"reason"`
	ErrorCode    string    `json:"error_code"`
	Carrier      string    `json:"carrier"`
	CarrierID    *string   `json:"carrier_id"`
	Attempts     int       `json:"attempts"`
	NextAttempt  time.Time `json:"next_attempt_at"`
	Reserved     bool      `json:"-"`
	// ClaimedUntil is when the claim that returned the message runs out,
	// as Claim set it; zero on a message read any other way.
	ClaimedUntil time.Time `json:"-"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
	History      []Event   `json:"history,omitempty"`
}

// Event is one entry of a message's transaction log.
type Event struct {
	Status     Status    `json:"status"`
	Reason     string    `json:"reason,omitempty"`
	ErrorCode  string    `json:"error_code,omitempty"`
	OccurredAt time.Time `json:"occurred_at"`
}
