package api

import (
	"encoding/json"
	"testing"
)

// FuzzContactInput posts arbitrary bodies to the contact endpoint. Whatever
// arrives, the answer is a clear client error or a contact, never a 500,
// and a contact that comes back keeps the phone rules.
func FuzzContactInput(f *testing.F) {
	for _, seed := range []string{
		`{"phone": "(734) 626-3333"}`,
		`{"external_id": "a", "phone": "not a phone", "first_name": "Ava"}`,
		`{"phone": "+447400123456", "attributes": {"tier": "gold", "n": 1.5}}`,
		`{"phone": "+1 800 FLOWERS"}`,
		`{"phone": "١٢٣٤٥٦٧٨٩٠"}`,
		`{"external_id": "", "phone": ""}`,
		`{"email": "a@b.c", "phone": 5}`,
		`{"sms_preference": "opted_in", "phone": "+17346263333", "consent_evidence": {"ip": "1.2.3.4"}}`,
		`{"attributes": {"a b": null}}`,
		`[1, 2]`, `null`, `"x"`, `{`,
	} {
		f.Add(seed)
	}
	b := setupSQLite(f)
	f.Fuzz(func(t *testing.T, body string) {
		b.t = t
		res := b.do("POST", "/api/v1/contacts", b.admin, body)
		switch res.status {
		case 200, 201:
			var c struct {
				Phone      string  `json:"phone"`
				PhoneE164  *string `json:"phone_e164"`
				PhoneValid bool    `json:"phone_valid"`
				SMSCapable bool    `json:"sms_capable"`
			}
			if err := json.Unmarshal(res.body, &c); err != nil {
				t.Fatalf("a %d with a body that is not a contact: %s", res.status, res.body)
			}
			if c.SMSCapable && !c.PhoneValid {
				t.Fatalf("sms_capable without a valid phone: %s", res.body)
			}
			if c.PhoneValid && (c.PhoneE164 == nil || (*c.PhoneE164)[0] != '+') {
				t.Fatalf("a valid phone without E.164: %s", res.body)
			}
		case 400, 409, 413, 422:
			res.errorCode(t)
		default:
			t.Fatalf("status %d for %q: %s", res.status, body, res.body)
		}
	})
}
