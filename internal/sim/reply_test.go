package sim_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/heraldsms/herald/internal/provider/twilio"
	"github.com/heraldsms/herald/internal/sim"
)

// inboundSeen is one inbound webhook as the fake Herald saw it.
type inboundSeen struct {
	form     url.Values
	validSig bool // twilio.Validate accepted it with the token of its AccountSid
	in       twilio.Inbound
	parseErr error
}

// fakeHerald stands in for Herald's inbound endpoint: it checks the signature
// with the token of the sub-account named in the form, parses the webhook
// with the Twilio package, and answers with answer.
type fakeHerald struct {
	*httptest.Server
	path string
	seen chan inboundSeen
}

func newFakeHerald(t *testing.T, answer http.HandlerFunc) *fakeHerald {
	t.Helper()
	tokens := map[string]string{testSID: testToken, otherSID: otherToken}
	h := &fakeHerald{path: "/webhooks/twilio/inbound", seen: make(chan inboundSeen, 16)}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		in, err := twilio.ParseInbound(r.PostForm)
		h.seen <- inboundSeen{
			form:     r.PostForm,
			validSig: twilio.Validate(tokens[r.PostForm.Get("AccountSid")], h.URL+r.URL.RequestURI(), r.PostForm, r.Header.Get(twilio.SignatureHeader)),
			in:       in, parseErr: err,
		}
		answer(w, r)
	}))
	t.Cleanup(h.Close)
	return h
}

func (h *fakeHerald) inboundURL() string { return h.URL + h.path }

func answerTwiML(reply string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/xml")
		_ = twilio.WriteTwiML(w, reply)
	}
}

func answerFile(t *testing.T, name string) http.HandlerFunc {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	require.NoError(t, err)
	return answerRaw(http.StatusOK, string(b))
}

func answerRaw(status int, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}
}

func TestReplyPostsASignedInboundWebhook(t *testing.T) {
	t.Parallel()
	const ukHandset = "+447400123456"
	herald := newFakeHerald(t, answerTwiML("Herald Rewards: reply STOP to opt out. Msg&data rates may apply."))
	b := setup(t, sim.Config{InboundURL: herald.inboundURL(), Clock: fixedClock()})
	m := b.message()
	m.To = ukHandset
	b.send(t, m) // the sender number is now the sub-account's

	require.NoError(t, b.sim.Reply(t.Context(), ukHandset, sender, "HELP"))

	got := <-herald.seen
	require.True(t, got.validSig, "twilio.Validate must accept the inbound signature")
	require.NoError(t, got.parseErr)
	require.Equal(t, ukHandset, got.in.From)
	require.Equal(t, sender, got.in.To)
	require.Equal(t, "HELP", got.in.Body)
	require.Equal(t, testSID, got.in.AccountSid)
	require.Regexp(t, smSID, got.in.MessageSid)
	require.Equal(t, got.in.MessageSid, got.form.Get("SmsSid"))
	require.Equal(t, "0", got.form.Get("NumMedia"))
	require.Equal(t, "1", got.form.Get("NumSegments"))
	require.Equal(t, "received", got.form.Get("SmsStatus"))
	require.Equal(t, "GB", got.form.Get("FromCountry"))

	inbox := b.sim.Inbox(ukHandset)
	require.Len(t, inbox, 2)
	reply := inbox[1]
	require.Equal(t, "Herald Rewards: reply STOP to opt out. Msg&data rates may apply.", reply.Body)
	require.Equal(t, sender, reply.From)
	require.Equal(t, testSID, reply.AccountSID)
	require.Equal(t, sim.DirectionReply, reply.Direction)
	require.Equal(t, "delivered", reply.Status)
	require.Regexp(t, smSID, reply.SID)
}

func TestReplyDeliversWhatTheTwiMLSays(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name   string
		answer func(t *testing.T) http.HandlerFunc
		want   []sim.Received // To, From and Body of the replies delivered, in order
		err    error
		status int // of a *sim.RejectedError
	}{
		{name: "empty Response", answer: func(t *testing.T) http.HandlerFunc { return answerFile(t, "twiml_empty.xml") }},
		{name: "no content", answer: func(*testing.T) http.HandlerFunc { return answerRaw(http.StatusNoContent, "") }},
		{name: "text and Body nouns, one redirected", answer: func(t *testing.T) http.HandlerFunc {
			return answerFile(t, "twiml_two_messages.xml")
		}, want: []sim.Received{
			{To: handset, From: sender, Body: "Thanks! You are subscribed again."},
			{To: "+15005550009", From: sender, Body: "Heads up: +15005550006 opted back in."},
		}},
		{name: "not TwiML", answer: func(*testing.T) http.HandlerFunc { return answerRaw(http.StatusOK, "OK") }, err: sim.ErrBadTwiML},
		{name: "refused", answer: func(*testing.T) http.HandlerFunc { return answerRaw(http.StatusForbidden, "bad signature") }, status: 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			herald := newFakeHerald(t, tt.answer(t))
			b := setup(t, sim.Config{InboundURL: herald.inboundURL()})
			b.send(t, b.messageWithoutCallback())

			err := b.sim.Reply(t.Context(), handset, sender, "START")
			switch {
			case tt.err != nil:
				require.ErrorIs(t, err, tt.err)
			case tt.status != 0:
				rejected, ok := errors.AsType[*sim.RejectedError](err)
				require.True(t, ok, "%T: %v", err, err)
				require.Equal(t, tt.status, rejected.Status)
			default:
				require.NoError(t, err)
			}
			var got []sim.Received
			for _, m := range b.sim.Received() {
				if m.Direction == sim.DirectionReply {
					got = append(got, sim.Received{To: m.To, From: m.From, Body: m.Body})
				}
			}
			require.Equal(t, tt.want, got)
		})
	}
}

func TestReplyRefusals(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name     string
		inbound  bool
		from, to string
		want     error
	}{
		{"sender number nobody sent from", true, handset, "+15005550999", sim.ErrUnknownSender},
		{"handset not in E.164", true, "5005550006", sender, sim.ErrInvalidHandset},
		{"no inbound URL", false, handset, sender, sim.ErrNoInboundURL},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			herald := newFakeHerald(t, answerTwiML(""))
			cfg := sim.Config{}
			if tt.inbound {
				cfg.InboundURL = herald.inboundURL()
			}
			b := setup(t, cfg)
			b.send(t, b.messageWithoutCallback())
			require.ErrorIs(t, b.sim.Reply(t.Context(), tt.from, tt.to, "STOP"), tt.want)
			require.Empty(t, herald.seen, "nothing may be posted")
		})
	}
}

// A number belongs to the sub-account that last sent from it, and the reply
// is signed with that sub-account's token.
func TestReplyGoesToTheLastSubAccountThatSentFromTheNumber(t *testing.T) {
	t.Parallel()
	herald := newFakeHerald(t, answerTwiML(""))
	b := setup(t, sim.Config{InboundURL: herald.inboundURL()})

	first := b.messageWithoutCallback()
	b.send(t, first)
	second := first
	second.Credentials.AccountSID, second.Credentials.AuthToken = otherSID, otherToken
	b.send(t, second)

	require.NoError(t, b.sim.Reply(t.Context(), handset, sender, "STOP"))
	got := <-herald.seen
	require.True(t, got.validSig)
	require.Equal(t, otherSID, got.in.AccountSid)
}
