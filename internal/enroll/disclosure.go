package enroll

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"

	"github.com/heraldsms/herald/internal/account"
)

// Disclosure is what the form tells a person before they tick the box: the
// box's label, then the terms of the texts (who sends them, how often, that
// rates may apply, how to stop and get help) and a link to the full terms.
// The page shows it and the consent record keeps it, word for word, so both
// are made from this one value.
type Disclosure struct {
	Label    string // the checkbox's label
	Body     string // the paragraph under it
	TermsURL string // the terms link; "" when the account has none
}

// NewDisclosure writes an account's disclosure for one program.
func NewDisclosure(a account.Account, p account.Program, e account.EnrollSettings) Disclosure {
	brand := a.Brand()
	e = e.Effective()
	return Disclosure{
		Label: "Yes, text me about " + p.Name + " from " + brand + ".",
		Body: "By checking this box, I agree to receive recurring automated marketing text messages, such as " +
			"referral and reward alerts, from " + brand + " at the mobile number above. Consent is not a condition " +
			"of purchase. " + sentence(e.MessageFrequency) + " Msg & data rates may apply. " +
			"Reply STOP to opt out, HELP for help.",
		TermsURL: e.TermsURL,
	}
}

// Text is the disclosure as one string: what the consent record keeps.
func (d Disclosure) Text() string {
	t := d.Label + " " + d.Body
	if d.TermsURL != "" {
		t += " Terms: " + d.TermsURL
	}
	return t
}

// Version names this exact wording: the SHA-256 of Text, in hex. A form
// sends back the version it showed, so a change of wording between showing
// and submitting is caught rather than recorded as agreed.
func (d Disclosure) Version() string {
	sum := sha256.Sum256([]byte(d.Text()))
	return hex.EncodeToString(sum[:])
}

// sentence ends a setting's text with a full stop if it has none.
func sentence(s string) string {
	s = strings.TrimSpace(s)
	if s == "" || strings.HasSuffix(s, ".") || strings.HasSuffix(s, "!") {
		return s
	}
	return s + "."
}
