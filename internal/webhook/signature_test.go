package webhook_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldsms/herald/internal/webhook"
)

// The worked example: the signature below was computed outside Go with
//
//	printf '%s' "1767225600.$body" | openssl dgst -sha256 -hmac whsec_test_secret
const (
	exampleSecret = "whsec_test_secret"
	exampleBody   = `{"id":"whd_01jgz0000000000000000000000","type":"contact.sms_opted_out","created_at":"2026-01-01T00:00:00Z","account_id":"acc_1","data":{"contact_id":"con_1"}}`
	exampleHeader = "t=1767225600,v1=836720fefc2c0248ffcb1ca0f91ba350ffc531d97dcb8974ec364ef18ecc32e8"
)

var exampleTime = time.Unix(1767225600, 0)

func TestSignMatchesTheWorkedExample(t *testing.T) {
	t.Parallel()
	require.Equal(t, exampleHeader, webhook.Sign(exampleSecret, exampleTime, []byte(exampleBody)))
}

func TestVerify(t *testing.T) {
	t.Parallel()
	body := []byte(exampleBody)
	cases := []struct {
		name   string
		secret string
		header string
		body   []byte
		now    time.Time
		want   error
	}{
		{"good", exampleSecret, exampleHeader, body, exampleTime, nil},
		{"good, a minute later", exampleSecret, exampleHeader, body, exampleTime.Add(time.Minute), nil},
		{"good, receiver clock a minute behind", exampleSecret, exampleHeader, body, exampleTime.Add(-time.Minute), nil},
		{"good with spaces", exampleSecret, "t=1767225600, v1=836720fefc2c0248ffcb1ca0f91ba350ffc531d97dcb8974ec364ef18ecc32e8", body, exampleTime, nil},
		{"one of two signatures matches", exampleSecret,
			"t=1767225600,v1=00,v1=836720fefc2c0248ffcb1ca0f91ba350ffc531d97dcb8974ec364ef18ecc32e8", body, exampleTime, nil},
		{"unknown scheme ignored", exampleSecret, exampleHeader + ",v0=abc", body, exampleTime, nil},
		{"body changed", exampleSecret, exampleHeader, []byte(exampleBody + " "), exampleTime, webhook.ErrSignatureMismatch},
		{"wrong secret", "whsec_other", exampleHeader, body, exampleTime, webhook.ErrSignatureMismatch},
		{"timestamp changed", exampleSecret, "t=1767225601,v1=836720fefc2c0248ffcb1ca0f91ba350ffc531d97dcb8974ec364ef18ecc32e8",
			body, exampleTime, webhook.ErrSignatureMismatch},
		{"replayed later", exampleSecret, exampleHeader, body, exampleTime.Add(6 * time.Minute), webhook.ErrSignatureTooOld},
		{"from the future", exampleSecret, exampleHeader, body, exampleTime.Add(-6 * time.Minute), webhook.ErrSignatureTooOld},
		{"empty header", exampleSecret, "", body, exampleTime, webhook.ErrMalformedSignature},
		{"no timestamp", exampleSecret, "v1=836720fefc2c0248ffcb1ca0f91ba350ffc531d97dcb8974ec364ef18ecc32e8", body, exampleTime, webhook.ErrMalformedSignature},
		{"no signature", exampleSecret, "t=1767225600", body, exampleTime, webhook.ErrMalformedSignature},
		{"signature not hex", exampleSecret, "t=1767225600,v1=zz", body, exampleTime, webhook.ErrMalformedSignature},
		{"not key=value", exampleSecret, "t=1767225600,v1", body, exampleTime, webhook.ErrMalformedSignature},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := webhook.Verify(tc.secret, tc.header, tc.body, 0, tc.now)
			if tc.want == nil {
				require.NoError(t, err)
			} else {
				require.ErrorIs(t, err, tc.want)
			}
		})
	}
}

func TestVerifyTolerance(t *testing.T) {
	t.Parallel()
	body := []byte(exampleBody)
	require.NoError(t, webhook.Verify(exampleSecret, exampleHeader, body, time.Hour, exampleTime.Add(59*time.Minute)))
	require.ErrorIs(t, webhook.Verify(exampleSecret, exampleHeader, body, time.Second, exampleTime.Add(2*time.Second)),
		webhook.ErrSignatureTooOld)
}
