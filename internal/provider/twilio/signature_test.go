package twilio_test

import (
	"net/url"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/heraldsms/herald/internal/provider/twilio"
)

// Twilio's published request-validation example: auth token 12345, this URL,
// these POST parameters. Both signatures below are copied from Twilio's
// documentation, never computed by the code under test. The docs have shown
// the example with two sets of phone numbers over the years; each has its
// own published signature.
const (
	docToken = "12345"
	docURL   = "https://mycompany.com/myapp.php?foo=1&bar=2"
)

// Twilio's helper-library docs ("Validate Incoming Requests", twilio-php) and
// the official twilio-go test suite.
var docParams = url.Values{
	"CallSid": {"CA1234567890ABCDE"},
	"Caller":  {"+14158675309"},
	"Digits":  {"1234"},
	"From":    {"+14158675309"},
	"To":      {"+18005551212"},
}

const docSignature = "RSOYDt4T1cUTdK1PDd93/VVr8B8="

// The same example as twilio.com/docs/usage/security#validating-requests
// later showed it, with 555-style numbers.
var docParams2 = url.Values{
	"CallSid": {"CA1234567890ABCDE"},
	"Caller":  {"+12349013030"},
	"Digits":  {"1234"},
	"From":    {"+12349013030"},
	"To":      {"+18005551212"},
}

const docSignature2 = "0/KCTR6DLpKmkAf8muzZqo1nDgQ="

func TestSignMatchesTwilioDocumentedExamples(t *testing.T) {
	t.Parallel()

	require.Equal(t, docSignature, twilio.Sign(docToken, docURL, docParams))
	require.Equal(t, docSignature2, twilio.Sign(docToken, docURL, docParams2))
	require.True(t, twilio.Validate(docToken, docURL, docParams, docSignature))
	require.True(t, twilio.Validate(docToken, docURL, docParams2, docSignature2))
}

func TestValidateRefusesTamperedRequests(t *testing.T) {
	t.Parallel()

	with := func(name, value string) url.Values {
		p := url.Values{}
		for k, v := range docParams {
			p[k] = append([]string(nil), v...)
		}
		p.Set(name, value)
		return p
	}
	without := func(name string) url.Values {
		p := with("Digits", "1234")
		p.Del(name)
		return p
	}
	tests := []struct {
		name                  string
		token, url, signature string
		params                url.Values
	}{
		{"changed param", docToken, docURL, docSignature, with("Digits", "1235")},
		{"changed sender", docToken, docURL, docSignature, with("From", "+14158675308")},
		{"added param", docToken, docURL, docSignature, with("Body", "STOP")},
		{"removed param", docToken, docURL, docSignature, without("Digits")},
		{"value moved to another name", docToken, docURL, docSignature, with("Caller", "+18005551212")},
		{"changed query", docToken, "https://mycompany.com/myapp.php?foo=1&bar=3", docSignature, docParams},
		{"changed path", docToken, "https://mycompany.com/other.php?foo=1&bar=2", docSignature, docParams},
		{"changed host", docToken, "https://evil.example/myapp.php?foo=1&bar=2", docSignature, docParams},
		{"http instead of https", docToken, "http://mycompany.com/myapp.php?foo=1&bar=2", docSignature, docParams},
		{"wrong token", "54321", docURL, docSignature, docParams},
		{"empty token", "", docURL, docSignature, docParams},
		{"missing signature", docToken, docURL, "", docParams},
		{"truncated signature", docToken, docURL, docSignature[:len(docSignature)-1], docParams},
		{"other example's signature", docToken, docURL, docSignature2, docParams},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.False(t, twilio.Validate(tt.token, tt.url, tt.params, tt.signature))
		})
	}
}

// Twilio signs sometimes with and sometimes without the port. These
// signatures come from the official twilio-go test suite: the docs' example,
// signed over the URL with the default port, or with http and port 1234.
func TestValidateToleratesThePort(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name, url, signature string
	}{
		{"signed with :443, received without", docURL, "kvajT1Ptam85bY51eRf/AJRuM3w="},
		{"signed without port, received with one", "https://mycompany.com:1234/myapp.php?foo=1&bar=2", docSignature},
		{"http, signed without port", "http://mycompany.com/myapp.php?foo=1&bar=2", "0ZXoZLH/DfblKGATFgpif+LLRf4="},
		{"http, signed with port 1234", "http://mycompany.com:1234/myapp.php?foo=1&bar=2", "Zmvh+3yNM1Phv2jhDCwEM3q5ebU="},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.True(t, twilio.Validate(docToken, tt.url, docParams, tt.signature))
		})
	}
}

// The JSON-body variant, with the body, hash and signatures of the official
// twilio-go test suite.
func TestValidateJSONBody(t *testing.T) {
	t.Parallel()

	const (
		body     = `{"property": "value", "boolean": true}`
		bodyHash = "0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620"
	)
	signedURL := docURL + "&bodySHA256=" + bodyHash

	require.True(t, twilio.ValidateJSON(docToken, signedURL, []byte(body), "a9nBmqA0ju/hNViExpshrM61xv4="))
	require.True(t, twilio.ValidateJSON(docToken, "https://mycompany.com/myapp.php?bodySHA256="+bodyHash,
		[]byte(body), "y77kIzt2vzLz71DgmJGsen2scGs="))

	require.False(t, twilio.ValidateJSON(docToken, signedURL, []byte(`{"property": "other", "boolean": true}`),
		"a9nBmqA0ju/hNViExpshrM61xv4="), "tampered body")
	require.False(t, twilio.ValidateJSON("54321", signedURL, []byte(body), "a9nBmqA0ju/hNViExpshrM61xv4="), "wrong token")
	require.False(t, twilio.ValidateJSON(docToken, signedURL, []byte(body), ""), "missing signature")
	require.False(t, twilio.ValidateJSON(docToken, docURL, []byte(body), docSignature), "no bodySHA256 in the URL")
	require.False(t, twilio.ValidateJSON(docToken, docURL+"&bodySHA256=zz", []byte(body), docSignature), "malformed hash")
}

func TestSignCoversRepeatedParams(t *testing.T) {
	t.Parallel()

	// Order of repeated values does not matter, but each value does.
	a := url.Values{"MediaUrl": {"https://a.example/1", "https://a.example/2"}}
	b := url.Values{"MediaUrl": {"https://a.example/2", "https://a.example/1"}}
	c := url.Values{"MediaUrl": {"https://a.example/1"}}
	require.Equal(t, twilio.Sign(docToken, docURL, a), twilio.Sign(docToken, docURL, b))
	require.NotEqual(t, twilio.Sign(docToken, docURL, a), twilio.Sign(docToken, docURL, c))
}

// FuzzSignOverAnyParams holds the signing rule to what it promises for any
// names and values: a request validates with its own signature, the order
// of a name's values does not matter, and a value added changes it.
func FuzzSignOverAnyParams(f *testing.F) {
	f.Add("MediaUrl", "https://a.example/1", "https://a.example/2", "Body", "STOP")
	f.Add("", "", "", "", "")
	f.Add("To", "+14155550100", "+14155550100", "To", "é")
	f.Fuzz(func(t *testing.T, name1, v1, v2, name2, v3 string) {
		p := url.Values{name1: {v1, v2}}
		p.Add(name2, v3)
		sig := twilio.Sign(docToken, docURL, p)
		require.True(t, twilio.Validate(docToken, docURL, p, sig))

		reversed := url.Values{}
		for name, values := range p {
			reversed[name] = slices.Clone(values)
			slices.Reverse(reversed[name])
		}
		require.Equal(t, sig, twilio.Sign(docToken, docURL, reversed))

		added := "x" + v1 + v2 + v3 // longer than any value there
		p.Add(name1, added)
		require.NotEqual(t, sig, twilio.Sign(docToken, docURL, p))
		require.False(t, twilio.Validate(docToken, docURL, p, sig))
	})
}

// BenchmarkValidateStatusCallback checks a status callback as Herald
// receives one: twelve parameters, a URL without a port, so two variants
// of it are signed.
func BenchmarkValidateStatusCallback(b *testing.B) {
	params := url.Values{
		"AccountSid": {"AC00000000000000000000000000000001"}, "ApiVersion": {"2010-04-01"},
		"ErrorCode": {""}, "From": {"+15005550006"}, "MessageSid": {"SM0123456789abcdef0123456789abcdef"},
		"MessageStatus": {"delivered"}, "SmsSid": {"SM0123456789abcdef0123456789abcdef"},
		"SmsStatus": {"delivered"}, "To": {"+14155550100"}, "RawDlrDoneDate": {"2611271200"},
		"MessagingServiceSid": {""}, "SmsMessageSid": {"SM0123456789abcdef0123456789abcdef"},
	}
	const callback = "https://herald.example.com/webhooks/twilio/status"
	sig := twilio.Sign(docToken, callback, params)
	b.ReportAllocs()
	for b.Loop() {
		if !twilio.Validate(docToken, callback, params, sig) {
			b.Fatal("a good signature was refused")
		}
	}
}
