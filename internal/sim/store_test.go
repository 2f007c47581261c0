package sim_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/heraldsms/herald/internal/sim"
)

// sendDirect calls the handler in process, skipping the network, for tests
// that need many messages.
func sendDirect(t *testing.T, h http.Handler, to, body string) {
	form := url.Values{"To": {to}, "From": {sender}, "Body": {body}}
	req, err := http.NewRequest(http.MethodPost, "/2010-04-01/Accounts/"+testSID+"/Messages.json", strings.NewReader(form.Encode()))
	if err != nil {
		t.Error(err)
		return
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(testSID, testToken)
	w := &discardWriter{header: http.Header{}}
	h.ServeHTTP(w, req)
	if w.status != http.StatusCreated {
		t.Errorf("send to %s: status %d", to, w.status)
	}
}

// discardWriter is the cheapest ResponseWriter: it keeps the status only.
type discardWriter struct {
	header http.Header
	status int
}

func (w *discardWriter) Header() http.Header         { return w.header }
func (w *discardWriter) WriteHeader(status int)      { w.status = status }
func (w *discardWriter) Write(b []byte) (int, error) { return len(b), nil }

// Two hundred thousand sends, to a thousand handsets and to handsets seen
// once, leave no more than the configured limits in memory.
func TestInboxStaysBounded(t *testing.T) {
	t.Parallel()
	const (
		perHandset, total = 3, 50
		sends, workers    = 200_000, 4
	)
	s := sim.New(sim.Config{InboxPerHandset: perHandset, InboxTotal: total})
	t.Cleanup(s.Close)
	h := s.Handler()

	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < sends; i += workers {
				to := fmt.Sprintf("+1500555%04d", i%1000) // a thousand regulars
				if i%2 == 1 {
					to = fmt.Sprintf("+1600%07d", i) // and a crowd seen once each
				}
				sendDirect(t, h, to, strconv.Itoa(i))
			}
		})
	}
	wg.Wait()

	all := s.Received()
	require.Len(t, all, total)
	require.Equal(t, sends, s.Accepted(), "every send is counted, however few are kept")
	handsets := s.Handsets()
	require.LessOrEqual(t, len(handsets), total)
	kept := 0
	for _, hs := range handsets {
		inbox := s.Inbox(hs)
		require.NotEmpty(t, inbox)
		require.LessOrEqual(t, len(inbox), perHandset)
		kept += len(inbox)
	}
	require.LessOrEqual(t, kept, total, "a handset's inbox only holds messages the overall record still holds")
}

func TestInboxKeepsTheNewestLastAndResetForgets(t *testing.T) {
	t.Parallel()
	s := sim.New(sim.Config{InboxPerHandset: 3, InboxTotal: 100})
	t.Cleanup(s.Close)
	h := s.Handler()

	for i := range 5 {
		sendDirect(t, h, handset, strconv.Itoa(i))
	}
	sendDirect(t, h, "+15005550002", "other")
	s.SetLandline("+15005550003", true)

	bodies := func(ms []sim.Received) []string {
		out := make([]string, len(ms))
		for i, m := range ms {
			out[i] = m.Body
		}
		return out
	}
	require.Equal(t, []string{"2", "3", "4"}, bodies(s.Inbox(handset)), "the newest three, newest last")
	require.Equal(t, []string{"0", "1", "2", "3", "4", "other"}, bodies(s.Received()))
	require.Equal(t, []string{"+15005550002", "+15005550003", handset}, s.Handsets())
	require.Empty(t, s.Inbox("+19999999999"))
	require.Equal(t, 6, s.Accepted())

	s.Reset()
	require.Zero(t, s.Accepted())
	require.Empty(t, s.Received())
	require.Empty(t, s.Handsets())
	require.Empty(t, s.Inbox(handset))
	sendDirect(t, h, "+15005550003", "no longer a landline")
	require.Len(t, s.Inbox("+15005550003"), 1)
}
