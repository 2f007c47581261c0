package twilio_test

import (
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/heraldsms/herald/internal/provider/twilio"
)

// statusForm is a delivery-status callback as Twilio posts it.
func statusForm() url.Values {
	return url.Values{
		"SmsSid":         {"SM00000000000000000000000000000001"},
		"SmsStatus":      {"delivered"},
		"MessageStatus":  {"delivered"},
		"To":             {"+15005550006"},
		"MessageSid":     {"SM00000000000000000000000000000001"},
		"AccountSid":     {testSID},
		"From":           {"+15005550001"},
		"ApiVersion":     {"2010-04-01"},
		"RawDlrDoneDate": {"2501061002"},
	}
}

func TestParseStatusCallback(t *testing.T) {
	t.Parallel()

	sc, err := twilio.ParseStatusCallback(statusForm())
	require.NoError(t, err)
	require.Equal(t, twilio.StatusCallback{
		MessageSid:     "SM00000000000000000000000000000001",
		MessageStatus:  "delivered",
		AccountSid:     testSID,
		From:           "+15005550001",
		To:             "+15005550006",
		RawDlrDoneDate: "2501061002",
	}, sc)

	failed := statusForm()
	failed.Set("MessageStatus", "undelivered")
	failed.Set("ErrorCode", "30006")
	sc, err = twilio.ParseStatusCallback(failed)
	require.NoError(t, err)
	require.Equal(t, "30006", sc.ErrorCode)
	require.Equal(t, "undelivered", sc.MessageStatus)
}

func TestParseStatusCallbackRefusesBadInput(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name   string
		modify func(url.Values)
		field  string
		want   error
	}{
		{"no MessageSid", func(f url.Values) { f.Del("MessageSid") }, "MessageSid", twilio.ErrMissingField},
		{"blank MessageSid", func(f url.Values) { f.Set("MessageSid", "  ") }, "MessageSid", twilio.ErrMissingField},
		{"no MessageStatus", func(f url.Values) { f.Del("MessageStatus") }, "MessageStatus", twilio.ErrMissingField},
		{"no AccountSid", func(f url.Values) { f.Del("AccountSid") }, "AccountSid", twilio.ErrMissingField},
		{"non-numeric ErrorCode", func(f url.Values) { f.Set("ErrorCode", "30006; DROP") }, "ErrorCode", twilio.ErrMalformedField},
		{"ErrorCode longer than a code", func(f url.Values) { f.Set("ErrorCode", "30006300063000630") }, "ErrorCode", twilio.ErrMalformedField},
		{"MessageSid no carrier's id", func(f url.Values) { f.Set("MessageSid", "SM"+strings.Repeat("a", 63)) }, "MessageSid", twilio.ErrMalformedField},
		{"MessageSid with a NUL", func(f url.Values) { f.Set("MessageSid", "SM\x00") }, "MessageSid", twilio.ErrMalformedField},
		{"empty form", func(f url.Values) { clear(f) }, "MessageSid", twilio.ErrMissingField},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			form := statusForm()
			tt.modify(form)
			_, err := twilio.ParseStatusCallback(form)
			requireFieldError(t, err, tt.field, tt.want)
		})
	}
}

// inboundForm is an inbound SMS webhook as Twilio posts it.
func inboundForm() url.Values {
	return url.Values{
		"ToCountry":     {"US"},
		"SmsMessageSid": {"SM00000000000000000000000000000009"},
		"NumMedia":      {"0"},
		"SmsSid":        {"SM00000000000000000000000000000009"},
		"SmsStatus":     {"received"},
		"Body":          {"stop"},
		"To":            {"+15005550001"},
		"NumSegments":   {"1"},
		"MessageSid":    {"SM00000000000000000000000000000009"},
		"AccountSid":    {testSID},
		"From":          {"+15005550006"},
		"ApiVersion":    {"2010-04-01"},
		"OptOutType":    {"STOP"},
	}
}

func TestParseInbound(t *testing.T) {
	t.Parallel()

	in, err := twilio.ParseInbound(inboundForm())
	require.NoError(t, err)
	require.Equal(t, twilio.Inbound{
		MessageSid: "SM00000000000000000000000000000009",
		AccountSid: testSID,
		From:       "+15005550006",
		To:         "+15005550001",
		Body:       "stop",
		OptOutType: twilio.OptOutStop,
	}, in)

	mms := inboundForm()
	mms.Del("Body")
	mms.Del("OptOutType")
	mms.Set("NumMedia", "2")
	in, err = twilio.ParseInbound(mms)
	require.NoError(t, err, "a picture with no words is still a message")
	require.Equal(t, 2, in.NumMedia)
	require.Empty(t, in.Body)
	require.Empty(t, in.OptOutType)
}

func TestParseInboundRefusesBadInput(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name   string
		modify func(url.Values)
		field  string
		want   error
	}{
		{"no MessageSid", func(f url.Values) { f.Del("MessageSid") }, "MessageSid", twilio.ErrMissingField},
		{"no AccountSid", func(f url.Values) { f.Del("AccountSid") }, "AccountSid", twilio.ErrMissingField},
		{"no From", func(f url.Values) { f.Del("From") }, "From", twilio.ErrMissingField},
		{"no To", func(f url.Values) { f.Set("To", "") }, "To", twilio.ErrMissingField},
		{"NumMedia not a number", func(f url.Values) { f.Set("NumMedia", "two") }, "NumMedia", twilio.ErrMalformedField},
		{"NumMedia negative", func(f url.Values) { f.Set("NumMedia", "-1") }, "NumMedia", twilio.ErrMalformedField},
		{"MessageSid with a space", func(f url.Values) { f.Set("MessageSid", "SM1 SM2") }, "MessageSid", twilio.ErrMalformedField},
		{"From longer than any address", func(f url.Values) { f.Set("From", "+1"+strings.Repeat("5", 40)) }, "From", twilio.ErrMalformedField},
		{"To with a control character", func(f url.Values) { f.Set("To", "+1888\n5550100") }, "To", twilio.ErrMalformedField},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			form := inboundForm()
			tt.modify(form)
			_, err := twilio.ParseInbound(form)
			requireFieldError(t, err, tt.field, tt.want)
		})
	}
}

func requireFieldError(t *testing.T, err error, field string, want error) {
	t.Helper()
	fe, ok := errors.AsType[*twilio.FieldError](err)
	require.True(t, ok, "want *twilio.FieldError, got %T: %v", err, err)
	require.Equal(t, field, fe.Field)
	require.ErrorIs(t, err, want)
	require.Contains(t, err.Error(), field)
}

// The parsers take a form from the internet; nothing in it may panic them,
// and whatever they accept must carry its required fields.
func FuzzParseStatusCallback(f *testing.F) {
	f.Add(statusForm().Encode())
	f.Add("MessageSid=SM1&MessageStatus=failed&AccountSid=AC1&ErrorCode=30003")
	f.Add("MessageSid=%ZZ&ErrorCode=%00")
	f.Add("")
	f.Fuzz(func(t *testing.T, raw string) {
		form, _ := url.ParseQuery(raw) // a partly broken query still yields fields
		sc, err := twilio.ParseStatusCallback(form)
		if err != nil {
			_, ok := errors.AsType[*twilio.FieldError](err)
			require.True(t, ok, "%T", err)
			return
		}
		require.NotEmpty(t, sc.MessageSid)
		require.NotEmpty(t, sc.MessageStatus)
		require.NotEmpty(t, sc.AccountSid)
		require.True(t, twilio.IsSID(sc.MessageSid), "kept carrier id %q", sc.MessageSid)
		require.True(t, sc.ErrorCode == "" || twilio.IsCode(sc.ErrorCode), "kept code %q", sc.ErrorCode)
	})
}

func FuzzParseInbound(f *testing.F) {
	f.Add(inboundForm().Encode())
	f.Add("MessageSid=SM1&AccountSid=AC1&From=%2B1&To=%2B2&NumMedia=99999999999999999999")
	f.Add("NumMedia=-0&OptOutType=%FF")
	f.Add("")
	f.Fuzz(func(t *testing.T, raw string) {
		form, _ := url.ParseQuery(raw)
		in, err := twilio.ParseInbound(form)
		if err != nil {
			_, ok := errors.AsType[*twilio.FieldError](err)
			require.True(t, ok, "%T", err)
			return
		}
		require.True(t, twilio.IsSID(in.MessageSid), "kept carrier id %q", in.MessageSid)
		require.NotEmpty(t, in.AccountSid)
		require.NotEmpty(t, in.From)
		require.NotEmpty(t, in.To)
		require.LessOrEqual(t, len(in.From), 32)
		require.LessOrEqual(t, len(in.To), 32)
		require.GreaterOrEqual(t, in.NumMedia, 0)
	})
}
