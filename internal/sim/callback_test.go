package sim_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldsms/herald/internal/provider"
	"github.com/heraldsms/herald/internal/provider/twilio"
	"github.com/heraldsms/herald/internal/sim"
)

// statuses reads n callbacks, checks that each is validly signed and parses
// as a status callback, and returns them.
func (rc *receiver) statuses(t *testing.T, n int) []twilio.StatusCallback {
	t.Helper()
	out := make([]twilio.StatusCallback, n)
	for i := range out {
		c := rc.next(t)
		require.True(t, c.validSig, "callback %d has a bad signature: %v", i, c.form)
		sc, err := twilio.ParseStatusCallback(c.form)
		require.NoError(t, err)
		out[i] = sc
	}
	return out
}

func statusesOf(cbs []twilio.StatusCallback) []string {
	out := make([]string, len(cbs))
	for i, c := range cbs {
		out[i] = c.MessageStatus
	}
	return out
}

func TestCallbacksAreSignedAndArriveInOrder(t *testing.T) {
	t.Parallel()
	b := setup(t, sim.Config{Clock: fixedClock()})

	res := b.send(t, b.message())
	sent, delivered := b.callbacks.next(t), b.callbacks.next(t)
	for _, c := range []callback{sent, delivered} {
		require.True(t, c.validSig, "twilio.Validate must accept the signature")
		require.Equal(t, res.CarrierID, c.form.Get("MessageSid"))
		require.Equal(t, res.CarrierID, c.form.Get("SmsSid"))
		require.Equal(t, testSID, c.form.Get("AccountSid"))
		require.Equal(t, sender, c.form.Get("From"))
		require.Equal(t, handset, c.form.Get("To"))
		require.Equal(t, "2010-04-01", c.form.Get("ApiVersion"))
		require.Equal(t, c.form.Get("MessageStatus"), c.form.Get("SmsStatus"))
		require.Empty(t, c.form.Get("ErrorCode"))
		require.Regexp(t, `^[0-9a-f]{32}$`, c.idempotency)
	}
	require.Equal(t, "sent", sent.form.Get("MessageStatus"))
	require.Equal(t, "delivered", delivered.form.Get("MessageStatus"))
	require.Equal(t, "2501061002", delivered.form.Get("RawDlrDoneDate"), "YYMMDDhhmm of the fixed clock")
	require.NotEqual(t, sent.idempotency, delivered.idempotency)
	b.callbacks.none(t)

	require.Eventually(t, func() bool { return b.sim.Inbox(handset)[0].Status == "delivered" },
		time.Second, 5*time.Millisecond)
	require.Eventually(t, func() bool { return b.sim.Pending() == 0 }, time.Second, 5*time.Millisecond)
}

// Each callback of each message has its own idempotency token: a receiver
// that drops a repeated token must never drop another message's report.
func TestIdempotencyTokensAreNeverShared(t *testing.T) {
	t.Parallel()
	b := setup(t, sim.Config{})

	seen := map[string]string{}
	for range 3 {
		b.send(t, b.message())
		for range 2 {
			c := b.callbacks.next(t)
			key := c.form.Get("MessageSid") + " " + c.form.Get("MessageStatus")
			require.NotContains(t, seen, c.idempotency, "%s reuses the token of %s", key, seen[c.idempotency])
			seen[c.idempotency] = key
		}
	}
}

// A signature made with another token, or over another URL, must fail: the
// receiver's check is real.
func TestCallbackSignatureIsBoundToTokenAndURL(t *testing.T) {
	t.Parallel()
	b := setup(t, sim.Config{})

	b.send(t, b.message())
	c := b.callbacks.next(t)
	url := b.callbacks.URL + "/webhooks/twilio/status?acct=a1"
	sig := twilio.Sign(testToken, url, c.form)
	require.True(t, twilio.Validate(testToken, url, c.form, sig))
	require.False(t, twilio.Validate(otherToken, url, c.form, sig))
	require.False(t, twilio.Validate(testToken, strings.Replace(url, "a1", "a2", 1), c.form, sig))
}

func TestCallbackOutcomesFollowTheMix(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name  string
		mix   sim.Mix
		want  []string
		codes []string
		class provider.Class
	}{
		{"undelivered", sim.Mix{Undelivered: 1}, []string{"sent", "undelivered"}, sim.DefaultErrorCodes, provider.Unknown},
		{"failed never reached a carrier", sim.Mix{Failed: 1}, []string{"failed"}, sim.DefaultErrorCodes, provider.Unknown},
		{"landline", sim.Mix{Undelivered: 1, ErrorCodes: []string{"30006"}}, []string{"sent", "undelivered"},
			[]string{"30006"}, provider.InvalidNumber},
		{"carrier filtering", sim.Mix{Failed: 1, ErrorCodes: []string{"30007"}}, []string{"failed"},
			[]string{"30007"}, provider.Permanent},
		{"negative weights count as zero", sim.Mix{Delivered: -5, Failed: 1}, []string{"failed"}, sim.DefaultErrorCodes, provider.Unknown},
		{"zero mix delivers", sim.Mix{}, []string{"sent", "delivered"}, []string{""}, provider.Unknown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, sim.Config{Mix: tt.mix})
			b.send(t, b.message())
			got := b.callbacks.statuses(t, len(tt.want))
			require.Equal(t, tt.want, statusesOf(got))
			final := got[len(got)-1]
			require.Contains(t, tt.codes, final.ErrorCode)
			if tt.class != provider.Unknown {
				require.Equal(t, tt.class, twilio.ClassifyCallbackError(final.ErrorCode))
			}
			require.Eventually(t, func() bool {
				m := b.sim.Inbox(handset)[0]
				return m.Status == final.MessageStatus && m.ErrorCode == final.ErrorCode
			}, time.Second, 5*time.Millisecond)
		})
	}
}

func TestCallbackMixProportions(t *testing.T) {
	t.Parallel()
	b := setup(t, sim.Config{Mix: sim.Mix{Delivered: 70, Undelivered: 20, Failed: 10}, Seed: 42})

	for range 300 {
		b.send(t, b.messageWithoutCallback())
	}
	count := map[string]int{}
	for _, m := range b.sim.Received() {
		count[m.Status]++
	}
	// Expected 210 / 60 / 30; each within about four standard deviations.
	require.InDelta(t, 210, count["delivered"], 32)
	require.InDelta(t, 60, count["undelivered"], 28)
	require.InDelta(t, 30, count["failed"], 21)
}

func TestCallbackOptions(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name      string
		cfg       sim.Config
		want      []string
		sameToken [][2]int // pairs of callbacks that must share an idempotency token
	}{
		{"duplicates", sim.Config{DuplicateCallbacks: true}, []string{"sent", "sent", "delivered", "delivered"}, [][2]int{{0, 1}, {2, 3}}},
		{"shuffled", sim.Config{ShuffleCallbacks: true}, []string{"delivered", "sent"}, nil},
		{"both", sim.Config{DuplicateCallbacks: true, ShuffleCallbacks: true},
			[]string{"delivered", "delivered", "sent", "sent"}, [][2]int{{0, 1}, {2, 3}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, tt.cfg)
			res := b.send(t, b.message())
			got := make([]callback, len(tt.want))
			status := make([]string, len(tt.want))
			for i := range got {
				got[i] = b.callbacks.next(t)
				require.True(t, got[i].validSig)
				require.Equal(t, res.CarrierID, got[i].form.Get("MessageSid"))
				status[i] = got[i].form.Get("MessageStatus")
			}
			require.Equal(t, tt.want, status)
			for _, p := range tt.sameToken {
				require.Equal(t, got[p[0]].idempotency, got[p[1]].idempotency, "a duplicate is the same callback again")
			}
			b.callbacks.none(t)
			require.Eventually(t, func() bool { return b.sim.Inbox(handset)[0].Status == "delivered" },
				time.Second, 5*time.Millisecond, "a late sent never replaces delivered")
		})
	}
}

func TestAFailedCallbackIsRetried(t *testing.T) {
	t.Parallel()
	b := setup(t, sim.Config{RetryBackoff: time.Millisecond})
	b.callbacks.failFirst.Store(2)

	b.send(t, b.message())
	require.Equal(t, []string{"sent", "delivered"}, statusesOf(b.callbacks.statuses(t, 2)))
	require.Equal(t, int32(4), b.callbacks.requests.Load(), "two refusals, then sent, then delivered")
}

func TestACallbackIsGivenUpAfterItsRetries(t *testing.T) {
	t.Parallel()
	b := setup(t, sim.Config{RetryBackoff: time.Millisecond, CallbackRetries: 2})
	b.callbacks.failFirst.Store(3)

	b.send(t, b.message())
	require.Equal(t, []string{"delivered"}, statusesOf(b.callbacks.statuses(t, 1)), "sent was given up; delivered still comes")
	require.Equal(t, int32(4), b.callbacks.requests.Load())
}

func TestCallbackDelay(t *testing.T) {
	t.Parallel()
	const delay = 60 * time.Millisecond
	b := setup(t, sim.Config{CallbackDelay: delay})

	start := time.Now()
	b.send(t, b.message())
	b.callbacks.next(t)
	require.GreaterOrEqual(t, time.Since(start), delay)
	b.callbacks.next(t)
	require.GreaterOrEqual(t, time.Since(start), 2*delay)
}

// Twilio lets a callback URL carry Basic credentials: it sends them as an
// Authorization header and signs the URL without them.
func TestCallbackURLCredentials(t *testing.T) {
	t.Parallel()
	b := setup(t, sim.Config{})

	m := b.message()
	m.StatusCallback = strings.Replace(m.StatusCallback, "http://", "http://herald:s3cret@", 1)
	b.send(t, m)
	c := b.callbacks.next(t)
	require.True(t, c.validSig)
	require.Equal(t, "herald", c.user)
	require.Equal(t, "s3cret", c.pass)
}

// Each message's callbacks go to its own URL, query and all, while URLs
// that differ only in their query share what comes before it: those of one
// sender alternating with another's, with and without credentials.
func TestCallbacksGoToEachMessagesOwnURL(t *testing.T) {
	t.Parallel()
	b := setup(t, sim.Config{})

	type want struct{ uri, user string }
	wants := map[string]want{}
	for i, tc := range []struct{ query, user string }{
		{"?message_id=msg_a", ""},
		{"?message_id=msg_b", ""},
		{"?message_id=msg_c&x=%2F", "herald"},
		{"?message_id=msg_d&x=%2F", "herald"},
		{"", ""},
		{"?", ""},
		{"?message_id=msg_f", ""},
	} {
		m := b.message()
		m.StatusCallback = b.callbacks.URL + "/webhooks/twilio/status" + tc.query
		if tc.user != "" {
			m.StatusCallback = strings.Replace(m.StatusCallback, "http://", "http://"+tc.user+":s3cret@", 1)
		}
		res := b.send(t, m)
		wants[res.CarrierID] = want{"/webhooks/twilio/status" + tc.query, tc.user}
		require.Len(t, wants, i+1)
	}
	for range 2 * len(wants) {
		c := b.callbacks.next(t)
		w := wants[c.form.Get("MessageSid")]
		require.True(t, c.validSig, "signed over %s", c.uri)
		require.Equal(t, w.uri, c.uri)
		require.Equal(t, w.user, c.user)
	}
	b.callbacks.none(t)
}

// Close returns promptly even with callbacks in flight, and twice is fine.
func TestCloseStopsTheWorkers(t *testing.T) {
	t.Parallel()
	stuck := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm() // the server notices a closed connection only once the body is read
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	}))
	t.Cleanup(stuck.Close)
	b := setup(t, sim.Config{})

	m := b.message()
	m.StatusCallback = stuck.URL
	b.send(t, m) // its callback hangs in a worker
	b.send(t, m)

	done := make(chan struct{})
	go func() { b.sim.Close(); b.sim.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("Close did not return")
	}
}
