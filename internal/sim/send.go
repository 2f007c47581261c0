package sim

import (
	"crypto/subtle"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/heraldsms/herald/internal/segment"
)

const (
	apiVersion = "2010-04-01"
	// maxBodyChars is Twilio's limit on a message body, in characters.
	maxBodyChars = 1600
	// maxRequestBytes bounds a send request's form; 1,600 characters of
	// four-byte UTF-8, percent-encoded, plus the other fields fit.
	maxRequestBytes = 64 << 10
	// rfc2822 is how Twilio writes dates in its JSON resources.
	rfc2822 = "Mon, 02 Jan 2006 15:04:05 -0700"
)

// apiError is a refusal in Twilio's words: an HTTP status and a Twilio code.
type apiError struct {
	status, code int
	message      string
}

// sendRequest is a validated send.
type sendRequest struct {
	to, from, service, body, callback string
}

// handleSend is Twilio's "create a Message" call: authenticate, validate,
// accept, answer with the Message resource, and queue its callbacks.
func (s *Sim) handleSend(w http.ResponseWriter, r *http.Request) {
	arrived := s.now()
	acct, ok := s.admit(w, r)
	if !ok {
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxRequestBytes)
	if err := r.ParseForm(); err != nil {
		writeAPIError(w, apiError{http.StatusBadRequest, 0, "The request body could not be read as a form."})
		return
	}
	req, e := parseSend(r.PostForm)
	if e != nil {
		writeAPIError(w, *e)
		return
	}
	if !s.cb.reserve() {
		w.Header().Set("Retry-After", "1")
		writeAPIError(w, apiError{http.StatusTooManyRequests, 20429, "Too Many Requests"})
		return
	}
	m, j, e := s.accept(acct, req, arrived)
	if e != nil {
		s.cb.release()
		writeAPIError(w, *e)
		return
	}
	writeResource(w, m, req)
	if j != nil {
		s.cb.start(j)
	} else {
		s.cb.release()
	}
}

// admit applies the added latency and any failure mode, then authenticates.
// When it returns false the request has been answered (or abandoned by its
// client).
func (s *Sim) admit(w http.ResponseWriter, r *http.Request) (account, bool) {
	if !sleep(r.Context(), s.currentLatency()) {
		return account{}, false
	}
	if e, retryAfter, failed := s.fail.check(s.now(), s.randFloat); failed {
		if retryAfter > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(retryAfter))
		}
		writeAPIError(w, e)
		return account{}, false
	}
	if !isSID(r.PathValue("AccountSid")) {
		handleTwilioNotFound(w, r)
		return account{}, false
	}
	acct, ok := s.authenticate(r)
	if !ok {
		writeAPIError(w, apiError{http.StatusUnauthorized, 20003, "Authenticate"})
	}
	return acct, ok
}

func (s *Sim) currentLatency() time.Duration { return time.Duration(s.latency.Load()) }

// authenticate checks HTTP Basic credentials against the path's sub-account.
// Like Twilio with its sub-accounts, any SID is welcome: the first token seen
// for it is remembered, and a later request with another token is refused.
func (s *Sim) authenticate(r *http.Request) (account, bool) {
	sid := r.PathValue("AccountSid")
	user, token, ok := r.BasicAuth()
	if !ok || user != sid || sid == "" || token == "" {
		return account{}, false
	}
	s.acctMu.RLock()
	known, seen := s.accounts[sid]
	s.acctMu.RUnlock()
	if !seen {
		s.acctMu.Lock()
		if known, seen = s.accounts[sid]; !seen {
			known = account{sid: strings.Clone(sid), token: strings.Clone(token)}
			s.accounts[known.sid] = known
		}
		s.acctMu.Unlock()
	}
	if subtle.ConstantTimeCompare([]byte(known.token), []byte(token)) != 1 {
		return account{}, false
	}
	return known, true
}

// parseSend validates a send's form in the order Twilio does.
func parseSend(form url.Values) (sendRequest, *apiError) {
	req := sendRequest{
		to:       form.Get("To"),
		from:     form.Get("From"),
		service:  form.Get("MessagingServiceSid"),
		body:     form.Get("Body"),
		callback: form.Get("StatusCallback"),
	}
	switch {
	case req.to == "":
		return req, &apiError{http.StatusBadRequest, 21604, "A 'To' phone number is required."}
	case req.from == "" && req.service == "":
		return req, &apiError{http.StatusBadRequest, 21603, "A 'From' phone number is required."}
	case req.body == "":
		return req, &apiError{http.StatusBadRequest, 21602, "Message body is required."}
	case !isE164(req.to):
		return req, &apiError{http.StatusBadRequest, 21211, "The 'To' number " + req.to + " is not a valid phone number."}
	case utf8.RuneCountInString(req.body) > maxBodyChars:
		return req, &apiError{http.StatusBadRequest, 21617, "The concatenated message body exceeds the 1600 character limit."}
	}
	if req.callback != "" {
		if u, err := url.Parse(req.callback); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return req, &apiError{http.StatusBadRequest, 21609, "The StatusCallback URL " + req.callback + " is not a valid URL."}
		}
	}
	return req, nil
}

// isSID reports whether s can be an account SID: letters and digits only, as
// every Twilio SID is ("AC" and 32 hex digits), so it is safe in a URL and in
// JSON unescaped.
func isSID(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := range len(s) {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return false
		}
	}
	return true
}

// isE164 reports whether s is '+', a non-zero digit and up to 14 more digits.
func isE164(s string) bool {
	if len(s) < 3 || len(s) > 16 || s[0] != '+' || s[1] < '1' || s[1] > '9' {
		return false
	}
	for i := 2; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// accept records a valid send in its handset's inbox, unless the handset
// refuses it, and returns its callback job (nil when no callback was asked
// for: such a message takes its final status at once).
func (s *Sim) accept(acct account, req sendRequest, arrived time.Time) (*Received, *job, *apiError) {
	sender, status := req.from, "queued"
	if req.from == "" { // Twilio picks a number from the service's pool later
		sender, status = req.service, "accepted"
	}
	m := &Received{
		SID: s.ids.next("SM"), AccountSID: acct.sid, From: sender, To: req.to, Body: req.body,
		Segments: segment.Count(req.body).Segments, Direction: DirectionAPI, Status: status,
		ReceivedAt: arrived,
	}
	steps := s.plan()
	var j *job
	if req.callback != "" {
		j = newJob(m, acct, req, steps, s.cfg, &s.urls)
	} else {
		final := steps[len(steps)-1]
		m.Status, m.ErrorCode = final.status, final.errorCode
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	switch f := s.st.flags[req.to]; {
	case f.unsubscribed:
		return nil, nil, &apiError{http.StatusBadRequest, 21610, "Attempt to send to unsubscribed recipient"}
	case f.landline:
		return nil, nil, &apiError{http.StatusBadRequest, 21614, "'To' number is not a valid mobile number"}
	}
	m.From = s.st.sentFrom(sender, acct)
	s.st.add(m)
	s.accepted.Add(1)
	snapshot := *m
	return &snapshot, j, nil
}

// writeResource answers 201 with Twilio's Message resource for a message
// just accepted: counts as strings, RFC 2822 dates, null for what is not
// known yet. Sent from a Messaging Service it is "accepted", with no From:
// Twilio picks the sender later. The JSON is written by hand because this is
// the hot path of every benchmark and encoding/json's reflection was a
// measurable share of it; TestSendAnswersWithTheMessageResource reads it back
// with encoding/json.
func writeResource(w http.ResponseWriter, m *Received, req sendRequest) {
	bp := resourceBufs.Get().(*[]byte)
	defer resourceBufs.Put(bp)
	b := (*bp)[:0]
	b = appendField(b, '{', "account_sid", m.AccountSID)
	b = appendField(b, ',', "api_version", apiVersion)
	b = appendField(b, ',', "body", m.Body)
	b = append(b, `,"date_created":"`...)
	b = m.ReceivedAt.UTC().AppendFormat(b, rfc2822)
	b = append(b, `","date_sent":null,"date_updated":"`...)
	b = m.ReceivedAt.UTC().AppendFormat(b, rfc2822)
	b = append(b, `","direction":"outbound-api","error_code":null,"error_message":null`...)
	status := "queued"
	if req.from != "" {
		b = appendField(b, ',', "from", req.from)
	} else {
		b, status = append(b, `,"from":null`...), "accepted"
	}
	if req.service != "" {
		b = appendField(b, ',', "messaging_service_sid", req.service)
	} else {
		b = append(b, `,"messaging_service_sid":null`...)
	}
	b = append(b, `,"num_media":"0","num_segments":"`...)
	b = strconv.AppendInt(b, int64(m.Segments), 10)
	b = append(b, `","price":null,"price_unit":"USD"`...)
	b = appendField(b, ',', "sid", m.SID)
	b = appendField(b, ',', "status", status)
	b = appendURI(append(b, `,"subresource_uris":{"media":"`...), m, "/Media.json")
	b = appendField(append(b, `"}`...), ',', "to", m.To)
	b = append(appendURI(append(b, `,"uri":"`...), m, ".json"), "\"}\n"...)
	*bp = b

	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(http.StatusCreated)
	_, _ = w.Write(b)
}

var resourceBufs = sync.Pool{New: func() any { b := make([]byte, 0, 2048); return &b }}

// appendField appends sep, "name": and value as a JSON string.
func appendField(b []byte, sep byte, name, value string) []byte {
	b = append(append(append(b, sep, '"'), name...), '"', ':')
	return appendJSONString(b, value)
}

// appendURI appends the message's resource path and suffix, unquoted: the
// SIDs in it are checked to need no escaping.
func appendURI(b []byte, m *Received, suffix string) []byte {
	b = append(b, "/"+apiVersion+"/Accounts/"...)
	b = append(b, m.AccountSID...)
	b = append(b, "/Messages/"...)
	b = append(b, m.SID...)
	return append(b, suffix...)
}

// appendJSONString appends s as a JSON string: quotes, backslashes and
// control characters escaped, invalid UTF-8 replaced by U+FFFD, the rest as
// is (JSON is UTF-8).
func appendJSONString(b []byte, s string) []byte {
	const hexDigits = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				b = append(b, `\ufffd`...)
			} else {
				b = append(b, s[i:i+size]...)
			}
			i += size
			continue
		}
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c == '\n':
			b = append(b, '\\', 'n')
		case c == '\r':
			b = append(b, '\\', 'r')
		case c == '\t':
			b = append(b, '\\', 't')
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		default:
			b = append(b, c)
		}
		i++
	}
	return append(b, '"')
}

// idSource makes Twilio-shaped ids: a two-letter prefix and 32 hex digits,
// a random half per process and a counter, so ids are unique without a lock.
type idSource struct {
	prefix [8]byte
	n      atomic.Uint64
}

func (g *idSource) next(kind string) string {
	var b [16]byte
	copy(b[:8], g.prefix[:])
	binary.BigEndian.PutUint64(b[8:], g.n.Add(1))
	return kind + hex.EncodeToString(b[:])
}

// writeAPIError answers in Twilio's error format.
func writeAPIError(w http.ResponseWriter, e apiError) {
	body := map[string]any{"code": e.code, "message": e.message, "status": e.status, "more_info": nil}
	if e.code != 0 {
		body["more_info"] = "https://www.twilio.com/docs/errors/" + strconv.Itoa(e.code)
	} else {
		body["code"] = nil
	}
	writeJSON(w, e.status, body)
}

func handleTwilioNotFound(w http.ResponseWriter, r *http.Request) {
	writeAPIError(w, apiError{http.StatusNotFound, 20404, "The requested resource " + r.URL.Path + " was not found"})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// trimPlus restores a '+' that a query string turned into a space.
func trimPlus(s string) string {
	if strings.HasPrefix(s, " ") {
		s = "+" + strings.TrimLeft(s, " ")
	}
	return strings.TrimSpace(s)
}
