package webhook_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldsms/herald/internal/webhook"
)

// receiveHerald is a receiver's handler: it reads the raw body, checks the
// signature before trusting anything in it, and answers 2xx quickly.
// docs/webhooks.md shows the same code.
func receiveHerald(secret string, seen map[string]bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
		if err != nil {
			http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
			return
		}
		if err := webhook.Verify(secret, r.Header.Get("Herald-Signature"), body, 5*time.Minute, time.Now()); err != nil {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		var event struct {
			ID   string          `json:"id"`
			Type string          `json:"type"`
			Data json.RawMessage `json:"data"`
		}
		if err := json.Unmarshal(body, &event); err != nil {
			http.Error(w, "bad body", http.StatusBadRequest)
			return
		}
		if seen[event.ID] { // a retry or a redelivery of one already handled
			w.WriteHeader(http.StatusOK)
			return
		}
		seen[event.ID] = true
		fmt.Println("handled", event.Type, string(event.Data))
		w.WriteHeader(http.StatusOK)
	}
}

func ExampleVerify() {
	const secret = "whsec_dGhpcyBpcyBub3QgYSByZWFsIHNlY3JldCwgaXQgaXMgYW4gZXhhbXBsZQ"
	handler := receiveHerald(secret, map[string]bool{})
	body := `{"id":"whd_01jgz0000000000000000000000","type":"contact.sms_opted_out",` +
		`"created_at":"2026-01-01T00:00:00Z","account_id":"acc_1","data":{"contact_id":"con_1"}}`

	send := func(signature string) int {
		req := httptest.NewRequest(http.MethodPost, "/herald", strings.NewReader(body))
		req.Header.Set("Herald-Signature", signature)
		rec := httptest.NewRecorder()
		handler(rec, req)
		return rec.Code
	}
	good := webhook.Sign(secret, time.Now(), []byte(body))
	fmt.Println(send(good))
	fmt.Println(send(good)) // the same delivery again: de-duplicated
	fmt.Println(send(webhook.Sign("whsec_someone_else", time.Now(), []byte(body))))
	fmt.Println(send(webhook.Sign(secret, time.Now().Add(-time.Hour), []byte(body))))
	// Output:
	// handled contact.sms_opted_out {"contact_id":"con_1"}
	// 200
	// 200
	// 401
	// 401
}

// validSignature is the check with the standard library only, as
// docs/webhooks.md shows it for receivers without Herald's module.
func validSignature(secret, header string, body []byte, now time.Time) bool {
	var ts string
	var sigs []string
	for _, part := range strings.Split(header, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			sigs = append(sigs, v)
		}
	}
	unix, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || now.Sub(time.Unix(unix, 0)).Abs() > 5*time.Minute {
		return false
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(ts + "." + string(body)))
	want := hex.EncodeToString(mac.Sum(nil))
	for _, sig := range sigs {
		if hmac.Equal([]byte(sig), []byte(want)) {
			return true
		}
	}
	return false
}

func TestTheDocumentedCheckAgreesWithTheWorkedExample(t *testing.T) {
	t.Parallel()
	body := []byte(exampleBody)
	require.True(t, validSignature(exampleSecret, exampleHeader, body, exampleTime))
	require.False(t, validSignature(exampleSecret, exampleHeader, append(body, ' '), exampleTime))
	require.False(t, validSignature("whsec_other", exampleHeader, body, exampleTime))
	require.False(t, validSignature(exampleSecret, exampleHeader, body, exampleTime.Add(time.Hour)))
	now := time.Now()
	require.True(t, validSignature(exampleSecret, webhook.Sign(exampleSecret, now, body), body, now))
}
