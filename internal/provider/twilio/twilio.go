// Package twilio speaks Twilio's real Programmable Messaging protocol: the
// REST call that sends a message, the webhooks Twilio posts back (delivery
// statuses and inbound texts), the X-Twilio-Signature that proves a webhook
// came from Twilio, and the TwiML that answers an inbound text.
//
// Herald's simulator speaks the same protocol, so this package is the one
// code path for both the real carrier and the default set-up.
package twilio

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/heraldsms/herald/internal/provider"
)

// DefaultBaseURL is Twilio's production API root, used when a message's
// credentials name no other.
const DefaultBaseURL = "https://api.twilio.com"

// maxBody bounds what is read from Twilio. Real answers are a few kilobytes;
// the bound keeps a misbehaving endpoint from filling memory.
const maxBody = 1 << 20

// Client sends messages through Twilio's Messages API. It implements
// provider.Provider and is safe for concurrent use.
type Client struct {
	http *http.Client
	log  *slog.Logger
	now  func() time.Time
}

var _ provider.Provider = (*Client)(nil)

// Option adjusts a Client.
type Option func(*Client)

// WithClock sets the clock used to turn a Retry-After date into a delay, so
// tests need not depend on the wall clock.
func WithClock(now func() time.Time) Option { return func(c *Client) { c.now = now } }

// New returns a Client that sends through hc and logs every carrier exchange
// at debug level, secrets redacted. A nil hc gets NewHTTPClient(); a nil log
// discards.
func New(hc *http.Client, log *slog.Logger, opts ...Option) *Client {
	if hc == nil {
		hc = NewHTTPClient(30 * time.Second)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &Client{http: hc, log: log, now: time.Now}
	for _, o := range opts {
		o(c)
	}
	return c
}

// NewHTTPClient returns an HTTP client whose keep-alive pool holds enough
// connections to one host for a dispatcher with 64 to 128 sends in flight.
// Go's default keeps only two idle connections per host, so at that
// concurrency nearly every request would open (and TLS-handshake) a new
// connection and then throw it away. timeout bounds one whole exchange.
//
// A redirect is answered, not followed. Twilio's API does not redirect;
// a base URL that does (http:// for https://, an old host) would turn the
// send into a GET of the message list, read as an unreadable success, or
// post it again elsewhere. Answered, it fails the message with its status.
func NewHTTPClient(timeout time.Duration) *http.Client {
	dialer := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	return &http.Client{
		Timeout:       timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Transport: &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           dialer.DialContext,
			ForceAttemptHTTP2:     true,
			MaxIdleConns:          512,
			MaxIdleConnsPerHost:   128,
			MaxConnsPerHost:       0, // no cap: the dispatcher's in-flight limit is the cap
			IdleConnTimeout:       90 * time.Second,
			TLSHandshakeTimeout:   10 * time.Second,
			ResponseHeaderTimeout: timeout,
			ExpectContinueTimeout: time.Second,
		},
	}
}

// Send makes one attempt to create a Message resource. When From is a
// Messaging Service SID ("MG…") it is sent as MessagingServiceSid so that
// Twilio picks the sender from the service's pool.
func (c *Client) Send(ctx context.Context, m provider.Message) (provider.Result, error) {
	endpoint, err := messagesURL(m.Credentials)
	if err != nil {
		return provider.Result{}, err
	}
	if err := checkMessage(m); err != nil {
		return provider.Result{}, err
	}
	form := messageForm(m)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return provider.Result{}, &provider.Error{Class: provider.Permanent, Message: "building request", Err: err}
	}
	req.SetBasicAuth(m.Credentials.AccountSID, m.Credentials.AuthToken)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")

	ex := exchange{messageID: m.ID, url: endpoint, form: form, token: m.Credentials.AuthToken, start: time.Now()}
	resp, err := c.http.Do(req)
	if err != nil {
		ex.err = err
		c.logExchange(ctx, ex)
		if ctx.Err() != nil {
			// The caller gave up or ran out of time; say so in its own words.
			return provider.Result{}, ctx.Err()
		}
		return provider.Result{}, &provider.Error{Class: provider.Retryable, Message: "network error", Err: err}
	}
	defer resp.Body.Close()
	body, readErr := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	ex.status, ex.body, ex.err = resp.StatusCode, body, readErr
	c.logExchange(ctx, ex)

	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return parseCreated(resp.StatusCode, body, readErr)
	}
	if readErr != nil && ctx.Err() != nil {
		return provider.Result{}, ctx.Err()
	}
	return provider.Result{}, c.errorFrom(resp, body)
}

func messagesURL(cr provider.Credentials) (string, error) {
	if cr.AccountSID == "" || cr.AuthToken == "" {
		return "", &provider.Error{Class: provider.Permanent, Message: "credentials need an account SID and an auth token"}
	}
	base := cr.BaseURL
	if base == "" {
		base = DefaultBaseURL
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", &provider.Error{Class: provider.Permanent, Message: "base URL must be an absolute http(s) URL"}
	}
	return strings.TrimRight(base, "/") + "/2010-04-01/Accounts/" + url.PathEscape(cr.AccountSID) + "/Messages.json", nil
}

func checkMessage(m provider.Message) error {
	for _, f := range []struct{ name, value string }{{"To", m.To}, {"From", m.From}, {"Body", m.Body}} {
		if f.value == "" {
			return &provider.Error{Class: provider.Permanent, Message: "message has no " + f.name}
		}
	}
	return nil
}

func messageForm(m provider.Message) url.Values {
	form := url.Values{}
	form.Set("To", m.To)
	if strings.HasPrefix(m.From, "MG") {
		form.Set("MessagingServiceSid", m.From)
	} else {
		form.Set("From", m.From)
	}
	form.Set("Body", m.Body)
	if m.StatusCallback != "" {
		form.Set("StatusCallback", m.StatusCallback)
	}
	return form
}

// created is the part of Twilio's Message resource that Herald keeps.
type created struct {
	SID         string          `json:"sid"`
	Status      string          `json:"status"`
	NumSegments json.RawMessage `json:"num_segments"` // documented as a string: "1"
}

// parseCreated reads a 2xx answer. A 2xx that cannot be read, or whose
// sid is not one (IsSID), is Permanent, not Retryable: Twilio may well
// have accepted the message, and sending it again would text the contact
// twice.
func parseCreated(status int, body []byte, readErr error) (provider.Result, error) {
	if readErr != nil {
		return provider.Result{}, &provider.Error{Class: provider.Permanent, Status: status,
			Message: "reading an accepted message's body failed; not retrying, it may have been sent", Err: readErr}
	}
	var c created
	if err := json.Unmarshal(body, &c); err != nil || !IsSID(c.SID) {
		return provider.Result{}, &provider.Error{Class: provider.Permanent, Status: status,
			Message: "malformed success body; not retrying, the message may have been sent", Err: err}
	}
	return provider.Result{CarrierID: c.SID, Status: c.Status, Segments: looseInt(c.NumSegments)}, nil
}

// looseInt reads a JSON number or a numeric string; anything else is 0.
func looseInt(raw json.RawMessage) int {
	s := strings.Trim(string(raw), `"`)
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0
	}
	return n
}
