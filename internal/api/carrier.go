package api

import (
	"errors"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/heraldsms/herald/internal/account"
	"github.com/heraldsms/herald/internal/message"
	"github.com/heraldsms/herald/internal/problem"
	"github.com/heraldsms/herald/internal/provider/twilio"
	"github.com/heraldsms/herald/internal/storable"
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
	sid := form.Get("AccountSid")
	if !storable.Text(sid) {
		return account.Account{}, nil, errBadSignature // no account has such a SID
	}
	signers, fresh, err := s.carriers.signers(r, s.Accounts, sid, false)
	if err != nil {
		return account.Account{}, nil, err
	}
	for {
		for _, sg := range signers {
			if twilio.Validate(sg.token, fullURL, form, sig) {
				return sg.account, cleanForm(form), nil
			}
		}
		if fresh {
			return account.Account{}, nil, errBadSignature
		}
		// A token changed within the cache's life: look again before
		// refusing.
		if signers, fresh, err = s.carriers.signers(r, s.Accounts, sid, true); err != nil {
			return account.Account{}, nil, err
		}
	}
}

// cleanForm makes a signed carrier form's text storable. A carrier's
// report is kept, not refused: a reply's body that held a NUL character
// still reaches the inbox, without it. A form that is storable already,
// as every real one is, is returned as it is.
func cleanForm(form url.Values) url.Values {
	if _, why := storable.Form(form); why == "" {
		return form
	}
	out := make(url.Values, len(form))
	for name, vs := range form {
		for _, v := range vs {
			out.Add(storable.Clean(name), storable.Clean(v)) // names that clean alike keep all their values
		}
	}
	return out
}

// signerCacheFor is how long a sub-account's accounts and tokens are kept
// between carrier webhooks: a busy number sends two status callbacks per
// message, and each would otherwise read the accounts and decrypt a token.
const signerCacheFor = 5 * time.Second

// signer is an account and the auth token its webhooks are signed with.
type signer struct {
	account account.Account
	token   string
}

type signerEntry struct {
	signers []signer
	at      time.Time
}

// signerCache keeps recent sub-accounts' signers. A refused signature is
// checked again against fresh values before it is refused, so a changed
// token never refuses a good request; a replaced token may still be
// accepted for up to signerCacheFor after the change.
type signerCache struct {
	mu      sync.Mutex
	entries map[string]signerEntry
}

// signers returns the accounts of a sub-account SID with their tokens,
// and whether they were read just now.
func (c *signerCache) signers(r *http.Request, accounts *account.Store, sid string, reload bool) ([]signer, bool, error) {
	now := time.Now()
	c.mu.Lock()
	e, ok := c.entries[sid]
	c.mu.Unlock()
	if ok && !reload && now.Sub(e.at) < signerCacheFor {
		return e.signers, false, nil
	}
	accts, err := accounts.ByTwilioSID(r.Context(), sid)
	if err != nil {
		return nil, true, err
	}
	out := make([]signer, 0, len(accts))
	for _, a := range accts {
		creds, err := accounts.Credentials(r.Context(), a.ID)
		if err != nil {
			return nil, true, err
		}
		out = append(out, signer{account: a, token: creds.AuthToken})
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil || len(c.entries) > 10_000 {
		c.entries = map[string]signerEntry{} // bounded: forged SIDs cannot grow it without end
	}
	if len(out) > 0 {
		c.entries[sid] = signerEntry{signers: out, at: now}
	}
	return out, true, nil
}

// idempotencyHeader names a status callback's delivery: a repeat carries
// the same token.
const (
	idempotencyHeader   = "I-Twilio-Idempotency-Token"
	maxIdempotencyToken = 256
)

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
	token := storable.Clean(r.Header.Get(idempotencyHeader))
	if len(token) > maxIdempotencyToken {
		// Kept under a unique index: longer than any carrier's, it
		// would fail the write of every report committed with it.
		return problem.Invalidf("invalid_callback", idempotencyHeader, "%s is longer than %d bytes",
			idempotencyHeader, maxIdempotencyToken)
	}
	err = s.Messages.ApplyCarrierStatus(r.Context(), a.ID, message.CarrierStatus{
		CarrierID: cb.MessageSid, Status: cb.MessageStatus, ErrorCode: cb.ErrorCode,
		Token:     token,
		MessageID: storable.Clean(r.URL.Query().Get(message.CallbackParam)),
	})
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
