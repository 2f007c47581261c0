package twilio

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"net"
	"net/url"
	"slices"
	"strings"
)

// SignatureHeader is the header in which Twilio sends a webhook's signature.
const SignatureHeader = "X-Twilio-Signature"

// Sign computes the X-Twilio-Signature of a webhook: HMAC-SHA1, keyed with the
// account's auth token, over the full URL Twilio requested (scheme, host,
// path and query exactly as configured) followed by every POST parameter's
// name and value, sorted by name, with no separators; then base64.
//
// A name sent more than once contributes each distinct value, in sorted
// order, as Twilio's own helper libraries do. For a GET webhook, or a JSON
// one, params is empty and only the URL is signed.
//
// Herald's simulator uses Sign to sign the callbacks it sends; everything
// else should call Validate.
func Sign(authToken, fullURL string, params url.Values) string {
	return sign(authToken, fullURL, signedParams(params))
}

// signedParams is the part of the signed text that follows the URL: each
// name and value in the order Sign describes.
func signedParams(params url.Values) []byte {
	names := make([]string, 0, len(params))
	size := 0
	for name, values := range params {
		names = append(names, name)
		for _, v := range values {
			size += len(name) + len(v)
		}
	}
	slices.Sort(names)
	out := make([]byte, 0, size)
	for _, name := range names {
		values := params[name]
		if len(values) > 1 {
			values = slices.Compact(slices.Sorted(slices.Values(values)))
		}
		for _, v := range values {
			out = append(append(out, name...), v...)
		}
	}
	return out
}

func sign(authToken, fullURL string, tail []byte) string {
	mac := hmac.New(sha1.New, []byte(authToken))
	mac.Write([]byte(fullURL))
	mac.Write(tail)
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// Validate reports whether signature is Twilio's signature of this request.
// It is false for an empty signature or an empty auth token: an unsigned
// request, or an account with no token configured, must never pass.
//
// Twilio is inconsistent about the port: it may sign https://host/… or
// https://host:443/…, and behind a proxy the port a server sees is not always
// the one Twilio used. So, as Twilio's libraries do, the URL is also tried
// with the scheme's default port added when it has none, and with its port
// removed when it has one. Every comparison is constant-time.
func Validate(authToken, fullURL string, params url.Values, signature string) bool {
	if authToken == "" || signature == "" {
		return false
	}
	ok := false
	tail := signedParams(params) // the same for every variant of the URL
	for _, u := range urlVariants(fullURL) {
		// No early exit: every variant costs the same, whatever matches.
		if subtle.ConstantTimeCompare([]byte(sign(authToken, u, tail)), []byte(signature)) == 1 {
			ok = true
		}
	}
	return ok
}

// ValidateJSON validates a webhook whose body is JSON rather than a form.
// For those Twilio adds a bodySHA256 query parameter (the hex SHA-256 of the
// raw body) to the URL, signs the URL alone, and leaves the body to be
// checked against that hash. Both checks must pass; a URL without
// bodySHA256 fails.
func ValidateJSON(authToken, fullURL string, body []byte, signature string) bool {
	u, err := url.Parse(fullURL)
	if err != nil {
		return false
	}
	want, err := hex.DecodeString(u.Query().Get("bodySHA256"))
	if err != nil || len(want) != sha256.Size {
		return false
	}
	got := sha256.Sum256(body)
	bodyOK := subtle.ConstantTimeCompare(got[:], want) == 1
	sigOK := Validate(authToken, fullURL, nil, signature)
	return bodyOK && sigOK
}

// urlVariants returns fullURL and the same URL with its port toggled: the
// scheme's default port added when there is none, any port removed when
// there is one. Only the authority changes; path and query keep their exact
// bytes, because the signature covers them byte for byte.
func urlVariants(fullURL string) []string {
	u, err := url.Parse(fullURL)
	if err != nil || u.Host == "" {
		return []string{fullURL}
	}
	schemeEnd := strings.Index(fullURL, "://")
	if schemeEnd < 0 {
		return []string{fullURL}
	}
	rest := fullURL[schemeEnd+3:]
	authEnd := strings.IndexAny(rest, "/?#")
	if authEnd < 0 {
		authEnd = len(rest)
	}
	authority := rest[:authEnd]
	userinfo, hostport := "", authority
	if at := strings.LastIndex(authority, "@"); at >= 0 {
		userinfo, hostport = authority[:at+1], authority[at+1:]
	}
	var toggled string
	host, port, err := net.SplitHostPort(hostport)
	switch {
	case err == nil && port != "":
		toggled = bracketIPv6(host)
	case strings.EqualFold(u.Scheme, "https"):
		toggled = net.JoinHostPort(strings.Trim(hostport, "[]"), "443")
	case strings.EqualFold(u.Scheme, "http"):
		toggled = net.JoinHostPort(strings.Trim(hostport, "[]"), "80")
	default:
		return []string{fullURL}
	}
	other := fullURL[:schemeEnd+3] + userinfo + toggled + rest[authEnd:]
	return []string{fullURL, other}
}

func bracketIPv6(host string) string {
	if strings.Contains(host, ":") {
		return "[" + host + "]"
	}
	return host
}
