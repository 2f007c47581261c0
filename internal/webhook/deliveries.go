package webhook

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/heraldsms/herald/internal/db"
	"github.com/heraldsms/herald/internal/id"
	"github.com/heraldsms/herald/internal/problem"
)

// Delivery is one event sent (or being sent) to one endpoint, with every
// attempt made.
type Delivery struct {
	ID         string `json:"id"`
	EndpointID string `json:"endpoint_id"`
	Event      string `json:"event"`
	// Status is pending (being sent or waiting to retry), succeeded or
	// failed (retries spent, or the endpoint was disabled).
	Status        string          `json:"status"`
	AttemptCount  int             `json:"attempt_count"`
	NextAttemptAt *time.Time      `json:"next_attempt_at"`
	Payload       json.RawMessage `json:"payload"`
	Attempts      []Attempt       `json:"attempts"`
	CreatedAt     time.Time       `json:"created_at"`
	UpdatedAt     time.Time       `json:"updated_at"`
}

// Attempt is one POST of a delivery.
type Attempt struct {
	Number int `json:"number"`
	// StatusCode is the endpoint's HTTP status, 0 if it never answered.
	StatusCode  int       `json:"status_code"`
	DurationMS  int64     `json:"duration_ms"`
	Error       string    `json:"error,omitempty"`
	AttemptedAt time.Time `json:"attempted_at"`
}

// DeliveryFilter narrows an endpoint's deliveries.
type DeliveryFilter struct {
	Status string
	Cursor string
	Limit  int
}

// DeliveryPage is one page of deliveries, newest first.
type DeliveryPage struct {
	Data       []Delivery `json:"data"`
	NextCursor string     `json:"next_cursor"`
}

// ParseDeliveryFilter reads a filter from query-string values.
func ParseDeliveryFilter(status, cursor, limit string) (DeliveryFilter, error) {
	f := DeliveryFilter{Status: status, Limit: 50}
	switch status {
	case "", statusPending, statusSucceeded, statusFailed:
	default:
		return f, problem.Invalidf("invalid_status", "status", "status must be pending, succeeded or failed")
	}
	if limit != "" {
		n, err := strconv.Atoi(limit)
		if err != nil || n < 1 || n > 200 {
			return f, problem.Invalidf("invalid_limit", "limit", "limit must be a whole number from 1 to 200")
		}
		f.Limit = n
	}
	if cursor != "" {
		b, err := base64.RawURLEncoding.DecodeString(cursor)
		if err != nil || !id.HasPrefix(string(b), id.Delivery) {
			return f, problem.Invalidf("invalid_cursor", "cursor", "cursor is not one this API returned")
		}
		f.Cursor = string(b)
	}
	return f, nil
}

const selectDeliveries = `
SELECT id, endpoint_id, event, status, attempts, next_attempt_at, payload, created_at, updated_at
FROM webhook_deliveries WHERE account_id = $1 AND endpoint_id = $2`

// Deliveries lists an endpoint's deliveries, newest first, each with its
// attempts.
func (s *Service) Deliveries(ctx context.Context, accountID, endpointID string, f DeliveryFilter) (DeliveryPage, error) {
	if _, err := s.Get(ctx, accountID, endpointID); err != nil {
		return DeliveryPage{}, err
	}
	if f.Limit <= 0 {
		f.Limit = 50
	}
	query, args := selectDeliveries, []any{accountID, endpointID}
	if f.Status != "" {
		args = append(args, f.Status)
		query += ` AND status = $` + strconv.Itoa(len(args))
	}
	if f.Cursor != "" {
		args = append(args, f.Cursor)
		query += ` AND id < $` + strconv.Itoa(len(args))
	}
	args = append(args, f.Limit+1)
	query += ` ORDER BY id DESC LIMIT $` + strconv.Itoa(len(args))
	rows, err := s.db.Read().QueryContext(ctx, query, args...)
	if err != nil {
		return DeliveryPage{}, fmt.Errorf("webhook: list deliveries: %w", err)
	}
	page := DeliveryPage{Data: []Delivery{}}
	for rows.Next() {
		d, err := scanDelivery(rows)
		if err != nil {
			rows.Close()
			return DeliveryPage{}, fmt.Errorf("webhook: list deliveries: %w", err)
		}
		page.Data = append(page.Data, d)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return DeliveryPage{}, fmt.Errorf("webhook: list deliveries: %w", err)
	}
	if len(page.Data) > f.Limit {
		page.Data = page.Data[:f.Limit]
		page.NextCursor = base64.RawURLEncoding.EncodeToString([]byte(page.Data[f.Limit-1].ID))
	}
	return page, s.attachAttempts(ctx, s.db.Read(), accountID, page.Data)
}

func scanDelivery(row interface{ Scan(...any) error }) (Delivery, error) {
	var (
		d       Delivery
		next    sql.NullTime
		payload string
	)
	err := row.Scan(&d.ID, &d.EndpointID, &d.Event, &d.Status, &d.AttemptCount, &next, &payload, &d.CreatedAt, &d.UpdatedAt)
	if next.Valid && d.Status == statusPending {
		t := next.Time.UTC()
		d.NextAttemptAt = &t
	}
	d.CreatedAt, d.UpdatedAt = d.CreatedAt.UTC(), d.UpdatedAt.UTC()
	d.Payload = json.RawMessage(payload)
	d.Attempts = []Attempt{}
	return d, err
}

// attachAttempts fills in the attempts of ds with one query.
func (s *Service) attachAttempts(ctx context.Context, q db.Querier, accountID string, ds []Delivery) error {
	if len(ds) == 0 {
		return nil
	}
	byID := make(map[string]*Delivery, len(ds))
	args := []any{accountID}
	for i := range ds {
		byID[ds[i].ID] = &ds[i]
		args = append(args, ds[i].ID)
	}
	rows, err := q.QueryContext(ctx, `SELECT delivery_id, number, status_code, duration_ms, error, attempted_at
		FROM webhook_attempts WHERE account_id = $1 AND delivery_id IN (`+db.Placeholders(2, len(ds))+`)
		ORDER BY delivery_id, number`, args...)
	if err != nil {
		return fmt.Errorf("webhook: list attempts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			deliveryID string
			a          Attempt
		)
		if err := rows.Scan(&deliveryID, &a.Number, &a.StatusCode, &a.DurationMS, &a.Error, &a.AttemptedAt); err != nil {
			return fmt.Errorf("webhook: list attempts: %w", err)
		}
		a.AttemptedAt = a.AttemptedAt.UTC()
		if d := byID[deliveryID]; d != nil {
			d.Attempts = append(d.Attempts, a)
		}
	}
	return rows.Err()
}

// Delivery returns one of an endpoint's deliveries with its attempts.
func (s *Service) Delivery(ctx context.Context, accountID, endpointID, deliveryID string) (Delivery, error) {
	return s.getDelivery(ctx, s.db.Read(), accountID, endpointID, deliveryID)
}

func (s *Service) getDelivery(ctx context.Context, q db.Querier, accountID, endpointID, deliveryID string) (Delivery, error) {
	d, err := scanDelivery(q.QueryRowContext(ctx, selectDeliveries+` AND id = $3`, accountID, endpointID, deliveryID))
	if errors.Is(err, sql.ErrNoRows) {
		return Delivery{}, problem.NotFoundf("webhook %q has no delivery %q", endpointID, deliveryID)
	}
	if err != nil {
		return Delivery{}, fmt.Errorf("webhook: get delivery: %w", err)
	}
	ds := []Delivery{d}
	if err := s.attachAttempts(ctx, q, accountID, ds); err != nil {
		return Delivery{}, err
	}
	return ds[0], nil
}

const redeliver = `
UPDATE webhook_deliveries SET status = $4, generation = generation + 1, next_attempt_at = $5, retry_until = $6, updated_at = $5
WHERE account_id = $1 AND endpoint_id = $2 AND id = $3
RETURNING generation`

// Redeliver sends a delivery again, whatever became of it, with the same
// id and body (a receiver that already has it de-duplicates on the id). It
// gets a fresh retry window; a retry still waiting from before stands down.
func (s *Service) Redeliver(ctx context.Context, accountID, endpointID, deliveryID string) (Delivery, error) {
	if _, err := s.Get(ctx, accountID, endpointID); err != nil {
		return Delivery{}, err
	}
	now := s.clock.Now()
	var d Delivery
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		var gen int
		err := tx.QueryRowContext(ctx, redeliver, accountID, endpointID, deliveryID, statusPending, now, now.Add(s.cfg.RetryFor)).Scan(&gen)
		if errors.Is(err, sql.ErrNoRows) {
			return problem.NotFoundf("webhook %q has no delivery %q", endpointID, deliveryID)
		}
		if err != nil {
			return fmt.Errorf("webhook: redeliver: %w", err)
		}
		if s.queue == nil {
			return errNoQueue
		}
		job := deliveryArgs{AccountID: accountID, DeliveryID: deliveryID, Generation: gen}
		if _, err := s.queue.Insert(ctx, tx, job, nil); err != nil {
			return fmt.Errorf("webhook: redeliver: %w", err)
		}
		d, err = s.getDelivery(ctx, tx, accountID, endpointID, deliveryID)
		return err
	})
	return d, err
}
