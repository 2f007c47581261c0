package twilio

import (
	"errors"
	"net/url"
	"strconv"
	"strings"
)

// Errors a FieldError wraps, so handlers can tell "absent" from "garbled"
// with errors.Is.
var (
	ErrMissingField   = errors.New("missing")
	ErrMalformedField = errors.New("malformed")
)

// FieldError names the webhook parameter that was missing or malformed, so
// the HTTP handler can answer with the field in Herald's error envelope.
type FieldError struct {
	Field string
	Err   error // ErrMissingField or ErrMalformedField
}

func (e *FieldError) Error() string {
	return "twilio: webhook parameter " + e.Field + ": " + e.Err.Error()
}

// Unwrap lets errors.Is see ErrMissingField or ErrMalformedField.
func (e *FieldError) Unwrap() error { return e.Err }

// StatusCallback is a delivery-status webhook: Twilio posts one each time a
// message it accepted changes status.
type StatusCallback struct {
	MessageSid     string // Twilio's id for the message, as returned by Send
	MessageStatus  string // one of the statuses StatusRank knows, or a newer one
	ErrorCode      string // set on failed and undelivered messages; a code as IsCode says
	AccountSid     string // the sub-account the message belongs to
	From, To       string // present on real callbacks; not required
	RawDlrDoneDate string // the carrier's delivery-receipt time (YYMMDDhhmm), when it sent one
}

// ParseStatusCallback reads a status callback's form. MessageSid,
// MessageStatus and AccountSid are required: without them the callback cannot
// be matched to a message and its account. MessageStatus is lower-cased (and
// may be a status newer than this package; StatusRank ranks those 0).
// MessageSid must be a carrier's id (IsSID) and an ErrorCode a code
// (IsCode).
// The signature is not checked here; call Validate first.
func ParseStatusCallback(form url.Values) (StatusCallback, error) {
	sc := StatusCallback{
		MessageSid:     strings.TrimSpace(form.Get("MessageSid")),
		MessageStatus:  strings.ToLower(strings.TrimSpace(form.Get("MessageStatus"))),
		ErrorCode:      strings.TrimSpace(form.Get("ErrorCode")),
		AccountSid:     strings.TrimSpace(form.Get("AccountSid")),
		From:           strings.TrimSpace(form.Get("From")),
		To:             strings.TrimSpace(form.Get("To")),
		RawDlrDoneDate: form.Get("RawDlrDoneDate"),
	}
	if err := requireFields(
		field{"MessageSid", sc.MessageSid},
		field{"MessageStatus", sc.MessageStatus},
		field{"AccountSid", sc.AccountSid},
	); err != nil {
		return StatusCallback{}, err
	}
	if !IsSID(sc.MessageSid) {
		return StatusCallback{}, &FieldError{Field: "MessageSid", Err: ErrMalformedField}
	}
	if sc.ErrorCode != "" && !IsCode(sc.ErrorCode) {
		return StatusCallback{}, &FieldError{Field: "ErrorCode", Err: ErrMalformedField}
	}
	return sc, nil
}

// OptOutType values. Twilio sets OptOutType on an inbound message only when
// its Advanced Opt-Out feature recognised the text as a keyword and already
// acted on it (recorded the opt-out, sent the reply). Herald must then update
// consent without answering a second time.
const (
	OptOutStop  = "STOP"
	OptOutStart = "START"
	OptOutHelp  = "HELP"
)

// Inbound is a text a contact sent to one of the account's numbers.
type Inbound struct {
	MessageSid string
	AccountSid string
	From, To   string
	Body       string // may be empty: a picture with no words
	NumMedia   int
	OptOutType string // "", OptOutStop, OptOutStart or OptOutHelp (upper-cased as received)
}

// ParseInbound reads an inbound-message webhook's form. MessageSid,
// AccountSid, From and To are required; Body is not, since an MMS can carry
// no text. MessageSid must be a carrier's id (IsSID), From and To
// addresses (isAddress); NumMedia, when present, a non-negative integer. The
// signature is not checked here; call Validate first.
func ParseInbound(form url.Values) (Inbound, error) {
	in := Inbound{
		MessageSid: strings.TrimSpace(form.Get("MessageSid")),
		AccountSid: strings.TrimSpace(form.Get("AccountSid")),
		From:       strings.TrimSpace(form.Get("From")),
		To:         strings.TrimSpace(form.Get("To")),
		Body:       form.Get("Body"),
		OptOutType: strings.ToUpper(strings.TrimSpace(form.Get("OptOutType"))),
	}
	if err := requireFields(
		field{"MessageSid", in.MessageSid},
		field{"AccountSid", in.AccountSid},
		field{"From", in.From},
		field{"To", in.To},
	); err != nil {
		return Inbound{}, err
	}
	if !IsSID(in.MessageSid) {
		return Inbound{}, &FieldError{Field: "MessageSid", Err: ErrMalformedField}
	}
	for _, f := range []field{{"From", in.From}, {"To", in.To}} {
		if !isAddress(f.value) {
			return Inbound{}, &FieldError{Field: f.name, Err: ErrMalformedField}
		}
	}
	if raw := strings.TrimSpace(form.Get("NumMedia")); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 0 {
			return Inbound{}, &FieldError{Field: "NumMedia", Err: ErrMalformedField}
		}
		in.NumMedia = n
	}
	return in, nil
}

type field struct{ name, value string }

// requireFields returns a FieldError for the first empty field, in the order given.
func requireFields(fields ...field) error {
	for _, f := range fields {
		if f.value == "" {
			return &FieldError{Field: f.name, Err: ErrMissingField}
		}
	}
	return nil
}
