package sim

import (
	"bytes"
	"cmp"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/heraldsms/herald/internal/phone"
	"github.com/heraldsms/herald/internal/provider/twilio"
	"github.com/heraldsms/herald/internal/segment"
)

// Errors Reply returns, to branch on with errors.Is.
var (
	// ErrUnknownSender means no sub-account has sent from the number the
	// handset texted, so the simulator cannot tell whose webhook to call.
	ErrUnknownSender = errors.New("sim: no sub-account has sent from this number")
	// ErrNoInboundURL means Config.InboundURL is empty.
	ErrNoInboundURL = errors.New("sim: no inbound URL is configured")
	// ErrInvalidHandset means the replying handset is not an E.164 number.
	ErrInvalidHandset = errors.New("sim: handset is not a +E.164 number")
	// ErrBadTwiML means the inbound webhook answered 2xx with a body that
	// is not a TwiML <Response>.
	ErrBadTwiML = errors.New("sim: inbound webhook answer is not TwiML")
)

// RejectedError is an inbound webhook answered with a non-2xx status.
type RejectedError struct {
	Status int
	Body   string // the start of the answer, for the error message
}

func (e *RejectedError) Error() string {
	return fmt.Sprintf("sim: inbound webhook answered %d: %s", e.Status, e.Body)
}

// maxTwiMLBytes bounds what is read of an inbound webhook's answer.
const maxTwiMLBytes = 64 << 10

// Reply has the handset from text the sender number to: it posts a signed
// inbound-message webhook to Config.InboundURL, on behalf of the sub-account
// that last sent from to, and delivers the answer's TwiML <Message>s to the
// handset's inbox, as Twilio would send them. It returns an error when no
// sub-account has sent from to (ErrUnknownSender), when the webhook answers
// non-2xx (*RejectedError) or when its answer is not TwiML (ErrBadTwiML).
func (s *Sim) Reply(ctx context.Context, from, to, body string) error {
	_, err := s.reply(ctx, from, to, body)
	return err
}

// reply is Reply, returning what was delivered back to the handset.
func (s *Sim) reply(ctx context.Context, from, to, body string) ([]Received, error) {
	if s.cfg.InboundURL == "" {
		return nil, ErrNoInboundURL
	}
	if !isE164(from) {
		return nil, fmt.Errorf("sim: reply from %q: %w", from, ErrInvalidHandset)
	}
	s.mu.Lock()
	snd, ok := s.st.senders[to]
	s.mu.Unlock()
	acct := snd.acct
	if !ok {
		return nil, fmt.Errorf("sim: reply to %q: %w", to, ErrUnknownSender)
	}
	form := s.inboundForm(acct, from, to, body)
	answer, err := s.postInbound(ctx, acct, form)
	if err != nil {
		return nil, err
	}
	msgs, err := parseTwiML(answer)
	if err != nil {
		return nil, err
	}
	return s.deliverReplies(acct, from, to, msgs), nil
}

// inboundForm is Twilio's inbound-message webhook form.
func (s *Sim) inboundForm(acct account, from, to, body string) url.Values {
	sid := s.ids.next("SM")
	form := url.Values{
		"MessageSid": {sid}, "SmsSid": {sid}, "SmsMessageSid": {sid},
		"AccountSid": {acct.sid}, "From": {from}, "To": {to}, "Body": {body},
		"NumMedia": {"0"}, "NumSegments": {strconv.Itoa(max(segment.Count(body).Segments, 1))},
		"SmsStatus": {"received"}, "ApiVersion": {apiVersion},
	}
	if strings.HasPrefix(to, "MG") {
		form.Set("MessagingServiceSid", to)
	}
	for name, number := range map[string]string{"FromCountry": from, "ToCountry": to} {
		if c := phone.Parse(number, "").Country; c != "" {
			form.Set(name, c)
		}
	}
	return form
}

// postInbound posts the webhook, signed as Twilio signs it, and returns the
// answer of a 2xx.
func (s *Sim) postInbound(ctx context.Context, acct account, form url.Values) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.cfg.InboundURL, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, fmt.Errorf("sim: inbound webhook: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("User-Agent", "TwilioProxy/1.1")
	req.Header.Set("Accept", "*/*")
	req.Header.Set(twilio.SignatureHeader, twilio.Sign(acct.token, s.cfg.InboundURL, form))
	req.Header.Set("I-Twilio-Idempotency-Token", s.ids.next(""))
	resp, err := s.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("sim: inbound webhook: %w", err)
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, maxTwiMLBytes))
	if err != nil {
		return nil, fmt.Errorf("sim: inbound webhook: reading the answer: %w", err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, &RejectedError{Status: resp.StatusCode, Body: string(answer[:min(len(answer), 200)])}
	}
	return answer, nil
}

// twimlMessage is a <Message> verb: its text, or its <Body> nouns, and the
// optional to and from attributes that redirect it.
type twimlMessage struct {
	To     string   `xml:"to,attr"`
	From   string   `xml:"from,attr"`
	Text   string   `xml:",chardata"`
	Bodies []string `xml:"Body"`
}

func (m twimlMessage) body() string {
	if len(m.Bodies) > 0 {
		return strings.TrimSpace(strings.Join(m.Bodies, ""))
	}
	return strings.TrimSpace(m.Text)
}

// parseTwiML reads the <Message> verbs of a TwiML answer. An empty answer
// or an empty <Response/> sends nothing back.
func parseTwiML(answer []byte) ([]twimlMessage, error) {
	if len(bytes.TrimSpace(answer)) == 0 {
		return nil, nil
	}
	var doc struct {
		XMLName  xml.Name       `xml:"Response"`
		Messages []twimlMessage `xml:"Message"`
	}
	if err := xml.Unmarshal(answer, &doc); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadTwiML, err)
	}
	return doc.Messages, nil
}

// deliverReplies puts the TwiML messages in their handsets' inboxes. A
// message goes back to the handset that texted, from the number it texted,
// unless its to or from attribute says otherwise.
func (s *Sim) deliverReplies(acct account, handset, sender string, msgs []twimlMessage) []Received {
	out := make([]Received, 0, len(msgs))
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, tm := range msgs {
		body := tm.body()
		if body == "" {
			continue
		}
		m := &Received{
			SID: s.ids.next("SM"), AccountSID: acct.sid, From: cmp.Or(tm.From, sender), To: cmp.Or(tm.To, handset),
			Body: body, Segments: segment.Count(body).Segments, Direction: DirectionReply,
			Status: "delivered", ReceivedAt: s.now(),
		}
		s.st.add(m)
		out = append(out, *m)
	}
	return out
}
