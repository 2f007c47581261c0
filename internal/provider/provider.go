// Package provider is the contract between Herald's delivery workers and a
// carrier API: send one message, and when that fails, say what kind of
// failure it was.
//
// The classification is the point of the package. A delivery worker must not
// know carrier error codes; it needs to know what to do next: try again later
// (Retryable), back off the sender number (RateLimited), opt the contact out
// (Unsubscribed), mark the number invalid (InvalidNumber), hold the
// account's sends until its credentials are fixed (Unauthorized), or give
// up on this message (Permanent). Each carrier package maps its own codes onto these
// classes and keeps the carrier's code for the transaction log.
package provider

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// Provider sends one message through a carrier. Implementations must be safe
// for concurrent use: a dispatcher keeps many sends in flight at once.
type Provider interface {
	// Send makes one attempt and never retries by itself, so the caller's
	// durable queue stays the only place where attempts are counted. A failed
	// send returns an *Error, or the context's own error when ctx ended first.
	// An HTTP provider makes its request with ctx, so that an
	// httptrace.ClientTrace in it sees the request written: the dispatcher
	// starts a number's next send only then (or once Send returns).
	Send(ctx context.Context, m Message) (Result, error)
}

// Message is one outbound text, already rendered, with the credentials of the
// carrier sub-account that sends it. Credentials travel with the message
// rather than living in the provider because each Herald account has its own
// carrier sub-account, and one provider value serves them all.
type Message struct {
	ID             string // Herald's message id, for logs and correlation only
	To, From       string // E.164 numbers; a carrier may accept a sender-pool id in From
	Body           string
	StatusCallback string // where the carrier posts delivery statuses; empty for none
	Credentials    Credentials
}

// Credentials authenticate one carrier sub-account.
type Credentials struct {
	AccountSID string
	AuthToken  string
	BaseURL    string // API root; empty means the carrier's production API
}

const redacted = "********"

// String keeps the auth token out of fmt output, so that printing a Message
// by mistake (in a test failure, a panic, a %+v log line) leaks nothing.
func (c Credentials) String() string {
	return fmt.Sprintf("{AccountSID:%s AuthToken:%s BaseURL:%s}", c.AccountSID, redactedIfSet(c.AuthToken), c.BaseURL)
}

// GoString is String for %#v, which would otherwise bypass String.
func (c Credentials) GoString() string { return "provider.Credentials" + c.String() }

// LogValue keeps the auth token out of structured logs.
func (c Credentials) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("account_sid", c.AccountSID),
		slog.String("auth_token", redactedIfSet(c.AuthToken)),
		slog.String("base_url", c.BaseURL),
	)
}

func redactedIfSet(s string) string {
	if s == "" {
		return ""
	}
	return redacted
}

// Result is what the carrier said when it accepted a message.
type Result struct {
	CarrierID string // the carrier's message id; status callbacks refer to it
	Status    string // the carrier's first status, e.g. "queued" or "accepted"
	Segments  int    // segments the carrier counted, when it said; 0 when unknown
}

// Class is what a caller should do about a failed send.
type Class int

const (
	// Unknown is the class of nil, of context.Canceled, and of errors no
	// provider made. After a cancelled context the caller knows best (usually:
	// put the message back without spending an attempt).
	Unknown Class = iota
	// Retryable failures are transient: server errors, network errors,
	// timeouts. Try again with backoff; the attempt counts.
	Retryable
	// RateLimited means the carrier refused because of request rate. Back off
	// the sender number (for RetryAfter when set) without spending an attempt.
	RateLimited
	// Unsubscribed means the recipient opted out at the carrier (for example
	// replied STOP there). Opt the contact out; never retry.
	Unsubscribed
	// InvalidNumber means the recipient number cannot receive texts: not a
	// valid number, or not a mobile one. Mark the number invalid; never retry.
	InvalidNumber
	// Permanent covers every other refusal: retrying the same request would
	// fail the same way. The carrier's code is kept on the error.
	Permanent
	// Unauthorized means the carrier refused the sub-account's credentials:
	// nothing about this message, and every send of the account would fail
	// alike until an operator sets them right. Hold the account's sends;
	// the attempt does not count.
	Unauthorized
)

// String returns a stable snake_case name, fit for logs and database columns.
func (c Class) String() string {
	switch c {
	case Retryable:
		return "retryable"
	case RateLimited:
		return "rate_limited"
	case Unsubscribed:
		return "unsubscribed"
	case InvalidNumber:
		return "invalid_number"
	case Permanent:
		return "permanent"
	case Unauthorized:
		return "unauthorized"
	default:
		return "unknown"
	}
}

// Error is a classified send failure.
type Error struct {
	Class      Class
	Code       string        // carrier error code, e.g. "21610"; empty when the carrier gave none
	Status     int           // HTTP status; 0 when no response arrived
	Message    string        // the carrier's words, or ours when it said nothing
	RetryAfter time.Duration // how long the carrier asked us to wait; 0 when it did not say
	Err        error         // the underlying cause (a network error, say), if any
}

func (e *Error) Error() string {
	s := e.Class.String()
	switch {
	case e.Status != 0 && e.Code != "":
		s += fmt.Sprintf(" (http %d, code %s)", e.Status, e.Code)
	case e.Status != 0:
		s += fmt.Sprintf(" (http %d)", e.Status)
	case e.Code != "":
		s += fmt.Sprintf(" (code %s)", e.Code)
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap exposes the cause to errors.Is and errors.As.
func (e *Error) Unwrap() error { return e.Err }

// ClassOf reports what kind of failure err is. A context deadline counts as
// Retryable, because it is a timeout: the carrier may simply have been slow.
// A cancelled context is Unknown, because cancellation is the caller's own
// decision and retrying it in a loop would never end.
func ClassOf(err error) Class {
	if err == nil {
		return Unknown
	}
	if e, ok := errors.AsType[*Error](err); ok {
		return e.Class
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return Retryable
	}
	return Unknown
}
