package twilio

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/heraldsms/herald/internal/provider"
)

// codeClasses lists the Twilio error codes that mean something more specific
// than "this request failed". Every other code falls back to its HTTP status.
//
//   - 21610: the recipient replied STOP (or another opt-out word) to this
//     sender, so Twilio refuses to text them. Opt the contact out.
//   - 21211: the To number is not a valid phone number.
//   - 21614: the To number is not a valid mobile number (a landline, or
//     invalid).
//   - 21635: the To number is a landline; Twilio split this case out of 21614
//     in 2024.
//   - 20429: too many requests; arrives with HTTP 429.
//   - 20003: authentication failed; arrives with HTTP 401, as does any
//     refusal of the sub-account's SID or token.
//
// 21612 ("the To number is not currently reachable via SMS") is deliberately
// not InvalidNumber. Twilio raises it when it cannot route between this From
// and this To: a toll-free or short-code sender that cannot reach that
// destination, a carrier that sender cannot reach. The same number may well
// be reachable from another sender, so marking the contact's number invalid
// would be wrong; it stays Permanent, with its code kept for the log.
var codeClasses = map[string]provider.Class{
	"21610": provider.Unsubscribed,
	"21211": provider.InvalidNumber,
	"21614": provider.InvalidNumber,
	"21635": provider.InvalidNumber,
	"20429": provider.RateLimited,
	"20003": provider.Unauthorized,
}

// callbackCodeClasses adds the delivery-time codes a status callback can
// carry that say the number itself is bad.
//
//   - 30005: unknown destination handset; the number may no longer exist.
//   - 30006: landline or unreachable carrier.
var callbackCodeClasses = map[string]provider.Class{
	"30005": provider.InvalidNumber,
	"30006": provider.InvalidNumber,
}

// ClassifyCallbackError classifies the ErrorCode of a status callback, so the
// delivery side can act on a failure that happened after Twilio accepted the
// message (an undelivered text to a landline, say). An empty code is Unknown;
// a code with no specific meaning is Permanent, because the message it
// belongs to has already failed at the carrier.
func ClassifyCallbackError(code string) provider.Class {
	if code == "" {
		return provider.Unknown
	}
	if c, ok := codeClasses[code]; ok && c != provider.RateLimited && c != provider.Unauthorized {
		return c
	}
	if c, ok := callbackCodeClasses[code]; ok {
		return c
	}
	return provider.Permanent
}

// classify maps a refused request onto a class: a specific code first, then
// the HTTP status.
func classify(status int, code string) provider.Class {
	if c, ok := codeClasses[code]; ok {
		return c
	}
	switch {
	case status == http.StatusUnauthorized:
		return provider.Unauthorized
	case status == http.StatusTooManyRequests:
		return provider.RateLimited
	case status == http.StatusRequestTimeout || status >= 500:
		return provider.Retryable
	default:
		return provider.Permanent
	}
}

// apiError is Twilio's REST error body:
// {"code": 21211, "message": "…", "more_info": "https://…", "status": 400}.
type apiError struct {
	Code     json.RawMessage `json:"code"`
	Message  string          `json:"message"`
	MoreInfo string          `json:"more_info"`
}

// errorFrom classifies a non-2xx answer. A body that is not Twilio's JSON (an
// HTML page from a proxy, say) is classified by status alone.
func (c *Client) errorFrom(resp *http.Response, body []byte) *provider.Error {
	var ae apiError
	_ = json.Unmarshal(body, &ae) // best effort: the status still classifies
	code := strings.Trim(string(ae.Code), `"`)
	if code == "0" || !IsCode(code) {
		code = "" // none, or not one Herald can keep: the status classifies
	}
	msg := ae.Message
	if msg == "" {
		msg = http.StatusText(resp.StatusCode)
	}
	e := &provider.Error{
		Class:   classify(resp.StatusCode, code),
		Code:    code,
		Status:  resp.StatusCode,
		Message: msg,
	}
	if e.Class == provider.RateLimited {
		e.RetryAfter = retryAfter(resp.Header.Get("Retry-After"), c.now())
	}
	return e
}

// maxRetryAfter keeps a nonsense Retry-After from parking a sender number for
// years (or overflowing a Duration).
const maxRetryAfter = 24 * time.Hour

// retryAfter reads a Retry-After header in either of its forms: delay-seconds
// or an HTTP date. Missing, malformed or past values give 0, which tells the
// caller to use its own backoff.
func retryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	var d time.Duration
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs <= 0 {
			return 0
		}
		if secs > int64(maxRetryAfter/time.Second) {
			return maxRetryAfter
		}
		d = time.Duration(secs) * time.Second
	} else if at, err := http.ParseTime(v); err == nil {
		d = at.Sub(now)
	}
	return min(max(d, 0), maxRetryAfter)
}
