package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// The bodies are the sizes of the pipeline's: the API request and its 202,
// the carrier's send and its answer, a status callback.
var (
	apiRequest = `{"external_id":"m-12345","template_id":"tpl_01J0000000000000000000000","data":{"n":"12345"}}`
	apiAnswer  = `{"id":"msg_01J00000000000000000000000","status":"queued","kind":"transactional","to":"+15005550006",` +
		`"from":"+18885550100","body":"Hi Ada, your order #12345 is on its way.","encoding":"GSM-7","segments":1,` +
		`"attempts":0,"created_at":"2026-11-28T19:00:00Z","contact_id":"con_01J00000000000000000000000",` +
		`"template_id":"tpl_01J0000000000000000000000","template_version":1,"history":[{"status":"queued","at":"2026-11-28T19:00:00Z"}]}`
	carrierRequest = url.Values{
		"To": {"+15005550006"}, "From": {"+18885550100"},
		"Body":           {"Hi Ada, your order #12345 is on its way."},
		"StatusCallback": {"http://127.0.0.1:8080/webhooks/twilio/status"},
	}.Encode()
	carrierAnswer = `{"sid":"SM0123456789abcdef0123456789abcdef","account_sid":"AC11111111111111111111111111111111",` +
		`"to":"+15005550006","from":"+18885550100","body":"Hi Ada, your order #12345 is on its way.","status":"queued",` +
		`"num_segments":"1","direction":"outbound-api","api_version":"2010-04-01","price":null,"error_code":null,` +
		`"date_created":"Sat, 28 Nov 2026 19:00:00 +0000","uri":"/2010-04-01/Accounts/AC11111111111111111111111111111111/Messages/SM0123456789abcdef0123456789abcdef.json"}`
	callbackRequest = url.Values{
		"MessageSid": {"SM0123456789abcdef0123456789abcdef"}, "SmsSid": {"SM0123456789abcdef0123456789abcdef"},
		"AccountSid": {"AC11111111111111111111111111111111"}, "MessageStatus": {"delivered"}, "SmsStatus": {"delivered"},
		"To": {"+15005550006"}, "From": {"+18885550100"}, "ApiVersion": {"2010-04-01"},
	}.Encode()
)

// runHTTP makes n messages' exchanges over loopback keep-alive connections
// from clients goroutines: each message is an API request, a send to the
// carrier and two status callbacks, in that order, every body read and
// parsed as Herald and the carrier would.
func runHTTP(ctx context.Context, n, clients int) (*result, error) {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api", func(w http.ResponseWriter, r *http.Request) {
		var req map[string]any
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusAccepted)
		io.WriteString(w, apiAnswer)
	})
	mux.HandleFunc("POST /carrier", func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil || r.PostForm.Get("To") == "" {
			http.Error(w, "bad form", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, carrierAnswer)
	})
	mux.HandleFunc("POST /callback", func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil || r.PostForm.Get("MessageSid") == "" {
			http.Error(w, "bad form", http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	base := "http://" + ln.Addr().String()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 2 * clients}}
	// The client's connections close first: the server would wait five
	// seconds for one dialled and never used.
	defer srv.Shutdown(ctx)
	defer client.CloseIdleConnections()
	exchange := func(path, contentType, body string, want int) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+path, strings.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", contentType)
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		var buf bytes.Buffer
		if _, err := buf.ReadFrom(resp.Body); err != nil {
			return err
		}
		if resp.StatusCode != want {
			return fmt.Errorf("%s: status %d: %s", path, resp.StatusCode, buf.String())
		}
		return nil
	}
	message := func() error {
		if err := exchange("/api", "application/json", apiRequest, http.StatusAccepted); err != nil {
			return err
		}
		if err := exchange("/carrier", "application/x-www-form-urlencoded", carrierRequest, http.StatusCreated); err != nil {
			return err
		}
		for range 2 {
			if err := exchange("/callback", "application/x-www-form-urlencoded", callbackRequest, http.StatusOK); err != nil {
				return err
			}
		}
		return nil
	}
	// One message first, so the connections exist before timing starts.
	if err := message(); err != nil {
		return nil, err
	}

	res, err := measure("http", n, func() error {
		var (
			next    atomic.Int64
			wg      sync.WaitGroup
			errOnce sync.Once
			first   error
		)
		for range clients {
			wg.Go(func() {
				for next.Add(1) <= int64(n) {
					if err := message(); err != nil {
						errOnce.Do(func() { first = err })
						return
					}
				}
			})
		}
		wg.Wait()
		return first
	})
	if err != nil {
		return nil, err
	}
	res.PerMessageUs = res.MachineCPUUs
	// per_s and machine_cpu_us are per exchange; a message is four.
	res.PerS *= 4
	res.MachineCPUUs /= 4
	res.ProcessCPUUs /= 4
	res.N *= 4
	return res, nil
}
