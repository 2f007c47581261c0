package twilio

import (
	"context"
	"log/slog"
	"net/url"
	"strings"
	"time"
)

// maxLoggedBody keeps one debug line readable; Twilio's answers fit.
const maxLoggedBody = 4 << 10

const redactedText = "********"

// exchange is one request to Twilio and what came back, kept for the log.
type exchange struct {
	messageID string
	url       string
	form      url.Values
	token     string
	start     time.Time
	status    int
	body      []byte
	err       error
}

// logExchange writes one debug line per carrier exchange, so an operator can
// see exactly what was sent and answered. Secrets never reach the line: the
// Authorization header is replaced, the auth token is scrubbed wherever it
// appears (URL, request body, response body, error text), and credentials
// embedded in a status-callback URL are hidden. The work is skipped entirely
// when debug logging is off, since this runs on every send.
func (c *Client) logExchange(ctx context.Context, ex exchange) {
	if !c.log.Enabled(ctx, slog.LevelDebug) {
		return
	}
	scrub := scrubber(ex.token)
	attrs := []slog.Attr{
		slog.String("provider", "twilio"),
		slog.String("message_id", ex.messageID),
		slog.String("method", "POST"),
		slog.String("url", scrub(redactURL(ex.url))),
		slog.String("authorization", "Basic "+redactedText),
		slog.String("request_body", scrub(loggedForm(ex.form))),
		slog.Int64("duration_ms", time.Since(ex.start).Milliseconds()),
	}
	if ex.status != 0 {
		attrs = append(attrs, slog.Int("status", ex.status), slog.String("response_body", scrub(truncate(ex.body))))
	}
	if ex.err != nil {
		attrs = append(attrs, slog.String("error", scrub(ex.err.Error())))
	}
	c.log.LogAttrs(ctx, slog.LevelDebug, "carrier exchange", attrs...)
}

// scrubber returns a function that replaces the token, raw or form-encoded,
// wherever it occurs. An empty token scrubs nothing (replacing "" would
// interleave the marker between every byte).
func scrubber(token string) func(string) string {
	if token == "" {
		return func(s string) string { return s }
	}
	forms := []string{token, url.QueryEscape(token), url.PathEscape(token)}
	return func(s string) string {
		for _, f := range forms {
			s = strings.ReplaceAll(s, f, redactedText)
		}
		return s
	}
}

// redactURL hides a password in a URL's user info.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	return u.Redacted()
}

// loggedForm encodes the request form with the status-callback URL's
// password hidden: Twilio lets that URL carry Basic credentials.
func loggedForm(form url.Values) string {
	if cb := form.Get("StatusCallback"); cb != "" {
		form = cloneValues(form)
		form.Set("StatusCallback", redactURL(cb))
	}
	return form.Encode()
}

func cloneValues(v url.Values) url.Values {
	out := make(url.Values, len(v))
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

func truncate(b []byte) string {
	if len(b) <= maxLoggedBody {
		return string(b)
	}
	return string(b[:maxLoggedBody]) + "…(truncated)"
}
