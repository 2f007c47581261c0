package twilio_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldsms/herald/internal/provider"
	"github.com/heraldsms/herald/internal/provider/twilio"
)

const (
	testSID   = "AC0123456789abcdef0123456789abcdef"
	testToken = "0123456789abcdef0123456789abcdef"
)

// seen is what the fake Twilio API received in one request.
type seen struct {
	method, path, contentType string
	user, pass                string
	basicAuth                 bool
	form                      url.Values
}

// fakeTwilio is a loopback stand-in for api.twilio.com. It records each
// request for the test goroutine to assert on (asserting inside the handler
// would call FailNow off the test goroutine) and answers with respond.
type fakeTwilio struct {
	*httptest.Server
	seen chan seen
}

func newFakeTwilio(t *testing.T, respond http.HandlerFunc) *fakeTwilio {
	t.Helper()
	f := &fakeTwilio{seen: make(chan seen, 128)}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		user, pass, ok := r.BasicAuth()
		f.seen <- seen{
			method: r.Method, path: r.URL.Path, contentType: r.Header.Get("Content-Type"),
			user: user, pass: pass, basicAuth: ok, form: r.PostForm,
		}
		respond(w, r)
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeTwilio) credentials() provider.Credentials {
	return provider.Credentials{AccountSID: testSID, AuthToken: testToken, BaseURL: f.URL}
}

func respondWith(status int, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}
}

func fixture(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	require.NoError(t, err)
	return string(b)
}

func TestSendPostsTheMessagesResource(t *testing.T) {
	t.Parallel()

	fake := newFakeTwilio(t, respondWith(http.StatusCreated, fixture(t, "message_created.json")))
	client := twilio.New(twilio.NewHTTPClient(5*time.Second), nil)

	res, err := client.Send(t.Context(), provider.Message{
		ID:             "msg_01",
		To:             "+15005550006",
		From:           "+15005550001",
		Body:           "Hi Ana, your reward is ready & waiting",
		StatusCallback: "https://herald.example/webhooks/twilio/status?acct=a1",
		Credentials:    fake.credentials(),
	})
	require.NoError(t, err)
	require.Equal(t, provider.Result{CarrierID: "SM00000000000000000000000000000001", Status: "queued", Segments: 2}, res)

	got := <-fake.seen
	require.Equal(t, http.MethodPost, got.method)
	require.Equal(t, "/2010-04-01/Accounts/"+testSID+"/Messages.json", got.path)
	require.Equal(t, "application/x-www-form-urlencoded", got.contentType)
	require.True(t, got.basicAuth)
	require.Equal(t, testSID, got.user)
	require.Equal(t, testToken, got.pass)
	require.Equal(t, url.Values{
		"To":             {"+15005550006"},
		"From":           {"+15005550001"},
		"Body":           {"Hi Ana, your reward is ready & waiting"},
		"StatusCallback": {"https://herald.example/webhooks/twilio/status?acct=a1"},
	}, got.form)
}

func TestSendFromAMessagingService(t *testing.T) {
	t.Parallel()

	fake := newFakeTwilio(t, respondWith(http.StatusCreated,
		`{"sid":"SM00000000000000000000000000000002","status":"accepted","num_segments":"0"}`))
	client := twilio.New(nil, nil)

	res, err := client.Send(t.Context(), provider.Message{
		ID: "msg_02", To: "+15005550006", From: "MG0123456789abcdef0123456789abcdef", Body: "hello",
		Credentials: fake.credentials(),
	})
	require.NoError(t, err)
	require.Equal(t, provider.Result{CarrierID: "SM00000000000000000000000000000002", Status: "accepted"}, res)

	got := <-fake.seen
	// No StatusCallback was asked for, so none is sent; no From either.
	require.Equal(t, url.Values{
		"To":                  {"+15005550006"},
		"MessagingServiceSid": {"MG0123456789abcdef0123456789abcdef"},
		"Body":                {"hello"},
	}, got.form)
}

func TestSendKeepsABaseURLPath(t *testing.T) {
	t.Parallel()

	fake := newFakeTwilio(t, respondWith(http.StatusCreated, `{"sid":"SM1","status":"queued","num_segments":1}`))
	creds := fake.credentials()
	creds.BaseURL = fake.URL + "/sim/"

	res, err := twilio.New(nil, nil).Send(t.Context(), provider.Message{
		To: "+15005550006", From: "+15005550001", Body: "x", Credentials: creds,
	})
	require.NoError(t, err)
	require.Equal(t, 1, res.Segments, "a numeric num_segments is read too")
	require.Equal(t, "/sim/2010-04-01/Accounts/"+testSID+"/Messages.json", (<-fake.seen).path)
}

func TestSendRefusesAnIncompleteMessageWithoutCallingTwilio(t *testing.T) {
	t.Parallel()

	fake := newFakeTwilio(t, respondWith(http.StatusCreated, `{"sid":"SM1"}`))
	ok := provider.Message{To: "+15005550006", From: "+15005550001", Body: "x", Credentials: fake.credentials()}

	tests := []struct {
		name   string
		modify func(*provider.Message)
	}{
		{"no account SID", func(m *provider.Message) { m.Credentials.AccountSID = "" }},
		{"no auth token", func(m *provider.Message) { m.Credentials.AuthToken = "" }},
		{"relative base URL", func(m *provider.Message) { m.Credentials.BaseURL = "api.twilio.com" }},
		{"no To", func(m *provider.Message) { m.To = "" }},
		{"no From", func(m *provider.Message) { m.From = "" }},
		{"no Body", func(m *provider.Message) { m.Body = "" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := ok
			tt.modify(&m)
			_, err := twilio.New(nil, nil).Send(t.Context(), m)
			require.Equal(t, provider.Permanent, provider.ClassOf(err))
		})
	}
	t.Cleanup(func() { require.Empty(t, fake.seen, "no request may reach Twilio") })
}

// TestPoolReusesConnectionsAt64InFlight proves the keep-alive pool is sized
// for a dispatcher's concurrency: a second burst of 64 concurrent sends opens
// no new connection. With Go's default of two idle connections per host, 62
// of them would be dialled again.
func TestPoolReusesConnectionsAt64InFlight(t *testing.T) {
	t.Parallel()

	const inFlight = 64
	var (
		newConns atomic.Int64
		mu       sync.Mutex
		arrived  int
		gate     = make(chan struct{})
	)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		arrived++
		g := gate
		if arrived == inFlight {
			close(gate)
		}
		mu.Unlock()
		select { // hold every request until all 64 are in flight at once
		case <-g:
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
		respondWith(http.StatusCreated, `{"sid":"SM1","status":"queued"}`)(w, r)
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			newConns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)

	client := twilio.New(twilio.NewHTTPClient(15*time.Second), nil)
	m := provider.Message{To: "+15005550006", From: "+15005550001", Body: "x",
		Credentials: provider.Credentials{AccountSID: testSID, AuthToken: testToken, BaseURL: srv.URL}}
	burst := func() {
		var wg sync.WaitGroup
		errs := make(chan error, inFlight)
		for range inFlight {
			wg.Go(func() {
				_, err := client.Send(context.Background(), m)
				errs <- err
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			require.NoError(t, err)
		}
	}

	burst()
	require.Equal(t, int64(inFlight), newConns.Load(), "the first burst needs one connection per request")

	mu.Lock()
	arrived, gate = 0, make(chan struct{})
	mu.Unlock()
	burst()
	require.Equal(t, int64(inFlight), newConns.Load(), "the second burst must reuse the idle connections")
}
