package api

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/heraldsms/herald/internal/account"
	"github.com/heraldsms/herald/internal/message"
	"github.com/heraldsms/herald/internal/problem"
	"github.com/heraldsms/herald/internal/provider/twilio"
)

// maxCarrierBody bounds a carrier webhook; Twilio's are a few KB.
const maxCarrierBody = 64 << 10

var errBadSignature = problem.New(problem.Forbidden, "invalid_signature", "",
	"the request does not carry a valid X-Twilio-Signature for this account")

// carrierAccount reads a signed carrier webhook and finds the account it
// is for: the one whose sub-account SID it names and whose token signed it
// for this server's public URL. Nothing is read or stored before that.
func (s *Server) carrierAccount(w http.ResponseWriter, r *http.Request) (account.Account, url.Values, error) {
	r.Body = http.MaxBytesReader(w, r.Body, maxCarrierBody)
	if err := r.ParseForm(); err != nil {
		var maxErr *http.MaxBytesError
		if errors.As(err, &maxErr) {
			return account.Account{}, nil, problem.New(problem.TooLarge, "body_too_large", "", "the webhook body is too large")
		}
		return account.Account{}, nil, problem.New(problem.Malformed, "malformed_form", "", "the body is not a form")
	}
	form := r.PostForm
	sig := r.Header.Get(twilio.SignatureHeader)
	if sig == "" {
		return account.Account{}, nil, errBadSignature
	}
	fullURL := s.PublicURL + r.URL.RequestURI()
	accts, err := s.Accounts.ByTwilioSID(r.Context(), form.Get("AccountSid"))
	if err != nil {
		return account.Account{}, nil, err
	}
	for _, a := range accts {
		creds, err := s.Accounts.Credentials(r.Context(), a.ID)
		if err != nil {
			return account.Account{}, nil, err
		}
		if twilio.Validate(creds.AuthToken, fullURL, form, sig) {
			return a, form, nil
		}
	}
	return account.Account{}, nil, errBadSignature
}

// twilioStatus takes a status callback: the message moves forward (never
// back), once per idempotency token.
func (s *Server) twilioStatus(w http.ResponseWriter, r *http.Request, _ account.Principal) error {
	a, form, err := s.carrierAccount(w, r)
	if err != nil {
		return err
	}
	cb, err := twilio.ParseStatusCallback(form)
	if err != nil {
		return problem.Invalidf("invalid_callback", "", "%v", err)
	}
	err = s.Messages.ApplyCarrierStatus(r.Context(), a.ID, message.CarrierStatus{
		CarrierID: cb.MessageSid, Status: cb.MessageStatus, ErrorCode: cb.ErrorCode,
		Token: r.Header.Get("I-Twilio-Idempotency-Token"),
	})
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
