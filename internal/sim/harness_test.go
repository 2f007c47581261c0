package sim_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldsms/herald/internal/provider"
	"github.com/heraldsms/herald/internal/provider/twilio"
	"github.com/heraldsms/herald/internal/sim"
)

const (
	testSID    = "AC0123456789abcdef0123456789abcdef"
	testToken  = "0123456789abcdef0123456789abcdef"
	otherSID   = "ACfedcba9876543210fedcba9876543210"
	otherToken = "fedcba9876543210fedcba9876543210"
	sender     = "+15005550001"
	handset    = "+15005550006"
)

// testBundle is a simulator mounted under /sim as herald serve mounts it, the
// real Twilio client pointed at it, and a receiver for its status callbacks.
type testBundle struct {
	sim       *sim.Sim
	server    *httptest.Server
	client    *twilio.Client
	callbacks *receiver
}

// setup starts a simulator with cfg. A nil HTTPClient gets a short timeout so
// a stuck test fails fast.
func setup(t *testing.T, cfg sim.Config) *testBundle {
	t.Helper()
	cb := newReceiver(t, testToken)
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = twilio.NewHTTPClient(5 * time.Second)
	}
	s := sim.New(cfg)
	srv := httptest.NewServer(http.StripPrefix("/sim", s.Handler()))
	t.Cleanup(srv.Close)
	t.Cleanup(s.Close) // runs first: stop the workers before the servers go
	return &testBundle{sim: s, server: srv, client: twilio.New(twilio.NewHTTPClient(5*time.Second), nil), callbacks: cb}
}

func (b *testBundle) credentials() provider.Credentials {
	return provider.Credentials{AccountSID: testSID, AuthToken: testToken, BaseURL: b.server.URL + "/sim"}
}

// message is a valid send whose callbacks go to the bundle's receiver.
func (b *testBundle) message() provider.Message {
	return provider.Message{
		ID: "msg_1", To: handset, From: sender, Body: "Your reward is ready",
		StatusCallback: b.callbacks.URL + "/webhooks/twilio/status?acct=a1",
		Credentials:    b.credentials(),
	}
}

func (b *testBundle) send(t *testing.T, m provider.Message) provider.Result {
	t.Helper()
	res, err := b.client.Send(t.Context(), m)
	require.NoError(t, err)
	return res
}

// postForm posts a raw form to the Messages resource of the sub-account in
// path, with Basic credentials unless user is empty.
func (b *testBundle) postForm(t *testing.T, path, user, token string, form url.Values) (*http.Response, string) {
	t.Helper()
	u := b.server.URL + "/sim/2010-04-01/Accounts/" + path + "/Messages.json"
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, u, strings.NewReader(form.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if user != "" {
		req.SetBasicAuth(user, token)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, string(body)
}

// callback is one status callback as the receiver saw it.
type callback struct {
	form        url.Values
	idempotency string
	validSig    bool // twilio.Validate accepted the signature
	user, pass  string
	uri         string // the path and query it was posted to
}

// receiver stands in for Herald's status-callback endpoint. It checks each
// signature with the Twilio package's Validate (never trusting it) and hands
// what it saw to the test goroutine. It answers 500 to the first failFirst
// requests.
type receiver struct {
	*httptest.Server
	got       chan callback
	failFirst atomic.Int32
	requests  atomic.Int32
}

func newReceiver(t *testing.T, token string) *receiver {
	t.Helper()
	rc := &receiver{got: make(chan callback, 1024)}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := rc.requests.Add(1)
		if n <= rc.failFirst.Load() {
			http.Error(w, "not now", http.StatusInternalServerError)
			return
		}
		_ = r.ParseForm()
		user, pass, _ := r.BasicAuth()
		full := rc.URL + r.URL.RequestURI()
		rc.got <- callback{
			form:        r.PostForm,
			idempotency: r.Header.Get("I-Twilio-Idempotency-Token"),
			validSig:    twilio.Validate(token, full, r.PostForm, r.Header.Get(twilio.SignatureHeader)),
			user:        user,
			pass:        pass,
			uri:         r.URL.RequestURI(),
		}
	}))
	t.Cleanup(rc.Close)
	return rc
}

// next waits for the next callback.
func (rc *receiver) next(t *testing.T) callback {
	t.Helper()
	select {
	case c := <-rc.got:
		return c
	case <-time.After(5 * time.Second):
		t.Fatal("no status callback arrived")
		return callback{}
	}
}

// none checks that no further callback arrives for a short while.
func (rc *receiver) none(t *testing.T) {
	t.Helper()
	select {
	case c := <-rc.got:
		t.Fatalf("unexpected callback: %v", c.form)
	case <-time.After(100 * time.Millisecond):
	}
}

// fixedClock returns a clock stopped at a known instant.
func fixedClock() func() time.Time {
	at := time.Date(2025, time.January, 6, 10, 2, 0, 0, time.UTC)
	return func() time.Time { return at }
}
