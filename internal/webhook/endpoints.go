package webhook

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/heraldsms/herald/internal/db"
	"github.com/heraldsms/herald/internal/id"
	"github.com/heraldsms/herald/internal/problem"
)

// secretPrefix starts every endpoint secret, so one found in a log or a
// repository is recognised for what it is.
const secretPrefix = "whsec_"

// maxEndpoints caps an account's endpoints; each event is written once per
// subscribed endpoint.
const maxEndpoints = 20

// Endpoint is a URL of the account's that is sent the events it subscribes
// to. Its secret is never part of it: it is shown once, by Create and
// RotateSecret.
type Endpoint struct {
	ID          string    `json:"id"`
	AccountID   string    `json:"account_id"`
	URL         string    `json:"url"`
	Description string    `json:"description"`
	Events      []string  `json:"events"`
	Enabled     bool      `json:"enabled"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// EndpointWithSecret is an endpoint with its signing secret, as Create and
// RotateSecret return it.
type EndpointWithSecret struct {
	Endpoint
	Secret string `json:"secret"`
}

// EndpointInput creates or changes an endpoint; a nil field is left as it
// is (on create: url and events are required, enabled defaults to true).
type EndpointInput struct {
	URL         *string   `json:"url"`
	Description *string   `json:"description"`
	Events      *[]string `json:"events"`
	Enabled     *bool     `json:"enabled"`
}

// apply validates in and applies it to e.
func (in EndpointInput) apply(e *Endpoint) error {
	if in.URL != nil {
		u, err := ValidateURL(*in.URL)
		if err != nil {
			return err
		}
		e.URL = u
	}
	if in.Description != nil {
		d := strings.TrimSpace(*in.Description)
		if len(d) > 500 {
			return problem.Invalidf("too_long", "description", "description is longer than 500 bytes")
		}
		e.Description = d
	}
	if in.Events != nil {
		evs, err := ValidateEvents(*in.Events)
		if err != nil {
			return err
		}
		e.Events = evs
	}
	if in.Enabled != nil {
		e.Enabled = *in.Enabled
	}
	return nil
}

// ValidateURL checks an endpoint URL: http or https, a host, and no
// credentials (they would be stored and shown in the clear; the signature
// is how a receiver knows the sender). Loopback and private addresses are
// allowed: self-hosted receivers live there.
func ValidateURL(raw string) (string, error) {
	raw = strings.TrimSpace(raw)
	bad := func(format string, args ...any) error { return problem.Invalidf("invalid_url", "url", format, args...) }
	if raw == "" {
		return "", bad("url is required")
	}
	if len(raw) > 2000 {
		return "", bad("url is longer than 2000 bytes")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", bad("url is not a URL: %v", err)
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
	default:
		return "", bad("url must start with http:// or https://")
	}
	if u.User != nil {
		return "", bad("url must not carry a user name or password; verify Herald's signature instead")
	}
	if u.Hostname() == "" {
		return "", bad("url has no host")
	}
	if u.Fragment != "" {
		return "", bad("url must not have a #fragment")
	}
	return u.String(), nil
}

// ValidateEvents checks a subscription list and returns it without
// repeats, in the documented order.
func ValidateEvents(events []string) ([]string, error) {
	if len(events) == 0 {
		return nil, problem.Invalidf("required", "events", "events must name at least one event: %s", strings.Join(Events, ", "))
	}
	want := map[string]bool{}
	for _, e := range events {
		if !knownEvents[e] {
			p := problem.Invalidf("unknown_event", "events", "%q is not an event; events are %s", e, strings.Join(Events, ", "))
			p.Detail = map[string]any{"event": e, "known": Events}
			return nil, p
		}
		want[e] = true
	}
	out := make([]string, 0, len(want))
	for _, e := range Events {
		if want[e] {
			out = append(out, e)
		}
	}
	return out, nil
}

func newSecret() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("webhook: secret: %w", err)
	}
	return secretPrefix + base64.RawURLEncoding.EncodeToString(b), nil
}

const insertEndpoint = `
INSERT INTO webhook_endpoints (id, account_id, url, description, events, enabled, secret, created_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)`

// Create registers an endpoint and returns it with its secret, which is
// stored sealed and not shown again.
func (s *Service) Create(ctx context.Context, accountID string, in EndpointInput) (EndpointWithSecret, error) {
	if in.URL == nil {
		return EndpointWithSecret{}, problem.Invalidf("invalid_url", "url", "url is required")
	}
	if in.Events == nil {
		return EndpointWithSecret{}, problem.Invalidf("required", "events", "events is required")
	}
	now := s.clock.Now()
	e := Endpoint{ID: id.New(id.Webhook), AccountID: accountID, Enabled: true, CreatedAt: now, UpdatedAt: now}
	if err := in.apply(&e); err != nil {
		return EndpointWithSecret{}, err
	}
	plain, sealed, err := s.makeSecret()
	if err != nil {
		return EndpointWithSecret{}, err
	}
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM webhook_endpoints WHERE account_id = $1`, accountID).Scan(&n); err != nil {
			return fmt.Errorf("webhook: count endpoints: %w", err)
		}
		if n >= maxEndpoints {
			return problem.Invalidf("too_many_webhooks", "", "an account has at most %d webhook endpoints", maxEndpoints)
		}
		_, err := tx.ExecContext(ctx, insertEndpoint, e.ID, accountID, e.URL, e.Description,
			strings.Join(e.Events, ","), e.Enabled, sealed, now)
		if err != nil {
			return fmt.Errorf("webhook: insert endpoint: %w", err)
		}
		return nil
	})
	if err != nil {
		return EndpointWithSecret{}, err
	}
	s.cache.forget(accountID)
	return EndpointWithSecret{Endpoint: e, Secret: plain}, nil
}

func (s *Service) makeSecret() (plain, sealed string, err error) {
	plain, err = newSecret()
	if err != nil {
		return "", "", err
	}
	sealed, err = s.box.Seal(plain)
	if err != nil {
		return "", "", fmt.Errorf("webhook: seal secret: %w", err)
	}
	return plain, sealed, nil
}

const selectEndpoints = `
SELECT id, account_id, url, description, events, enabled, created_at, updated_at
FROM webhook_endpoints WHERE account_id = $1`

func scanEndpoint(row interface{ Scan(...any) error }) (Endpoint, error) {
	var (
		e      Endpoint
		events string
	)
	if err := row.Scan(&e.ID, &e.AccountID, &e.URL, &e.Description, &events, &e.Enabled, &e.CreatedAt, &e.UpdatedAt); err != nil {
		return e, err
	}
	e.Events = splitEvents(events)
	e.CreatedAt, e.UpdatedAt = e.CreatedAt.UTC(), e.UpdatedAt.UTC()
	return e, nil
}

func splitEvents(s string) []string {
	if s == "" {
		return []string{}
	}
	return strings.Split(s, ",")
}

// List returns an account's endpoints, oldest first.
func (s *Service) List(ctx context.Context, accountID string) ([]Endpoint, error) {
	rows, err := s.db.Read().QueryContext(ctx, selectEndpoints+` ORDER BY id`, accountID)
	if err != nil {
		return nil, fmt.Errorf("webhook: list endpoints: %w", err)
	}
	defer rows.Close()
	out := []Endpoint{}
	for rows.Next() {
		e, err := scanEndpoint(rows)
		if err != nil {
			return nil, fmt.Errorf("webhook: list endpoints: %w", err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// Get returns one of an account's endpoints.
func (s *Service) Get(ctx context.Context, accountID, endpointID string) (Endpoint, error) {
	return s.getEndpoint(ctx, s.db.Read(), accountID, endpointID)
}

func (s *Service) getEndpoint(ctx context.Context, q db.Querier, accountID, endpointID string) (Endpoint, error) {
	e, err := scanEndpoint(q.QueryRowContext(ctx, selectEndpoints+` AND id = $2`, accountID, endpointID))
	if errors.Is(err, sql.ErrNoRows) {
		return Endpoint{}, problem.NotFoundf("no webhook %q", endpointID)
	}
	if err != nil {
		return Endpoint{}, fmt.Errorf("webhook: get endpoint: %w", err)
	}
	return e, nil
}

const updateEndpoint = `
UPDATE webhook_endpoints SET url = $3, description = $4, events = $5, enabled = $6, updated_at = $7
WHERE account_id = $1 AND id = $2`

// Update changes an endpoint's URL, description, events or enabled flag.
// Deliveries still being retried go to the new URL.
func (s *Service) Update(ctx context.Context, accountID, endpointID string, in EndpointInput) (Endpoint, error) {
	var e Endpoint
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		var err error
		if e, err = s.getEndpoint(ctx, tx, accountID, endpointID); err != nil {
			return err
		}
		if err := in.apply(&e); err != nil {
			return err
		}
		e.UpdatedAt = s.clock.Now()
		_, err = tx.ExecContext(ctx, updateEndpoint, accountID, endpointID, e.URL, e.Description,
			strings.Join(e.Events, ","), e.Enabled, e.UpdatedAt)
		if err != nil {
			return fmt.Errorf("webhook: update endpoint: %w", err)
		}
		return nil
	})
	if err != nil {
		return Endpoint{}, err
	}
	s.cache.forget(accountID)
	return e, nil
}

// Delete removes an endpoint with its deliveries; their pending jobs find
// nothing to send and stop.
func (s *Service) Delete(ctx context.Context, accountID, endpointID string) error {
	res, err := s.db.Write().ExecContext(ctx, `DELETE FROM webhook_endpoints WHERE account_id = $1 AND id = $2`, accountID, endpointID)
	if err != nil {
		return fmt.Errorf("webhook: delete endpoint: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return problem.NotFoundf("no webhook %q", endpointID)
	}
	s.cache.forget(accountID)
	return nil
}

// RotateSecret gives an endpoint a new secret, returned once. Every
// delivery sent from now on, retries included, is signed with it.
func (s *Service) RotateSecret(ctx context.Context, accountID, endpointID string) (EndpointWithSecret, error) {
	plain, sealed, err := s.makeSecret()
	if err != nil {
		return EndpointWithSecret{}, err
	}
	var e Endpoint
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		if e, err = s.getEndpoint(ctx, tx, accountID, endpointID); err != nil {
			return err
		}
		e.UpdatedAt = s.clock.Now()
		_, err := tx.ExecContext(ctx, `UPDATE webhook_endpoints SET secret = $3, updated_at = $4 WHERE account_id = $1 AND id = $2`,
			accountID, endpointID, sealed, e.UpdatedAt)
		if err != nil {
			return fmt.Errorf("webhook: rotate secret: %w", err)
		}
		return nil
	})
	if err != nil {
		return EndpointWithSecret{}, err
	}
	return EndpointWithSecret{Endpoint: e, Secret: plain}, nil
}
