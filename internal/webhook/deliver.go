package webhook

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/riverqueue/river"
)

// Delivery statuses.
const (
	statusPending   = "pending"
	statusSucceeded = "succeeded"
	statusFailed    = "failed"
)

// userAgent names Herald to receivers.
const userAgent = "Herald-Webhooks/1"

// maxErrorText bounds what is kept of an attempt's error or response.
const maxErrorText = 500

// deliveryWorker runs delivery jobs on River.
type deliveryWorker struct {
	river.WorkerDefaults[deliveryArgs]
	s *Service
}

func (w *deliveryWorker) Work(ctx context.Context, job *river.Job[deliveryArgs]) error {
	return w.s.deliver(ctx, job.Args, job.Attempt, job.MaxAttempts)
}

// NextRetry is the same schedule deliver wrote as the delivery's next
// attempt, so the log and the queue agree.
func (w *deliveryWorker) NextRetry(job *river.Job[deliveryArgs]) time.Time {
	return time.Now().Add(w.s.retryDelay(job.Args.DeliveryID, job.Attempt))
}

// Timeout leaves the HTTP client's own timeout room to fire first.
func (w *deliveryWorker) Timeout(*river.Job[deliveryArgs]) time.Duration {
	return w.s.cfg.Timeout + 30*time.Second
}

// retryDelay is the wait after a delivery's nth failed attempt: FirstRetry
// doubled each time up to MaxRetryDelay, less up to a tenth, so endpoints
// that fail together are not retried together. The jitter comes from the
// delivery id, so the same inputs always give the same delay.
func (s *Service) retryDelay(deliveryID string, attempt int) time.Duration {
	d := s.cfg.FirstRetry
	for i := 1; i < attempt && d < s.cfg.MaxRetryDelay; i++ {
		d *= 2
	}
	d = min(d, s.cfg.MaxRetryDelay)
	h := fnv.New32a()
	fmt.Fprintf(h, "%s/%d", deliveryID, attempt)
	frac := float64(h.Sum32()) / (1 << 32) // in [0, 1)
	return d - time.Duration(float64(d/10)*frac)
}

// target is a delivery ready to send.
type target struct {
	url, sealedSecret, payload string
	enabled                    bool
	retryUntil                 time.Time
}

// errStandDown says the job has nothing to do: its delivery was deleted,
// finished, or handed to a newer job by a redelivery.
var errStandDown = errors.New("webhook: nothing to deliver")

const selectTarget = `
SELECT e.url, e.secret, e.enabled, d.payload, d.retry_until
FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id AND e.account_id = d.account_id
WHERE d.account_id = $1 AND d.id = $2 AND d.generation = $3 AND d.status = $4`

func (s *Service) target(ctx context.Context, a deliveryArgs) (target, error) {
	var t target
	err := s.db.Read().QueryRowContext(ctx, selectTarget, a.AccountID, a.DeliveryID, a.Generation, statusPending).
		Scan(&t.url, &t.sealedSecret, &t.enabled, &t.payload, &t.retryUntil)
	if errors.Is(err, sql.ErrNoRows) {
		return t, errStandDown
	}
	if err != nil {
		return t, fmt.Errorf("webhook: load delivery: %w", err)
	}
	return t, nil
}

// deliver makes one attempt and records it. A failure returns an error so
// River retries, until the next try would fall past the delivery's retry
// window; then the delivery is marked failed and the job cancelled.
func (s *Service) deliver(ctx context.Context, a deliveryArgs, attempt, maxAttempts int) error {
	t, err := s.target(ctx, a)
	if errors.Is(err, errStandDown) {
		return nil
	}
	if err != nil {
		return err
	}
	if !t.enabled {
		return s.record(ctx, a, attemptResult{Error: "not sent: the endpoint is disabled"}, statusFailed, nil)
	}
	res := s.post(ctx, a.DeliveryID, t)
	if res.ok() {
		return s.record(ctx, a, res, statusSucceeded, nil)
	}
	next := s.clock.Now().Add(s.retryDelay(a.DeliveryID, attempt))
	if next.After(t.retryUntil) || attempt >= maxAttempts {
		if err := s.record(ctx, a, res, statusFailed, nil); err != nil {
			return err
		}
		s.log.WarnContext(ctx, "webhook delivery failed", "account_id", a.AccountID, "delivery_id", a.DeliveryID,
			"attempts", attempt, "err", res.Error)
		return river.JobCancel(errors.New(res.Error))
	}
	if err := s.record(ctx, a, res, statusPending, &next); err != nil {
		return err
	}
	return errors.New(res.Error)
}

// attemptResult is what one POST came to.
type attemptResult struct {
	StatusCode int
	Duration   time.Duration
	Error      string
}

func (r attemptResult) ok() bool { return r.Error == "" && r.StatusCode >= 200 && r.StatusCode < 300 }

// post sends the payload once, signed now.
func (s *Service) post(ctx context.Context, deliveryID string, t target) attemptResult {
	secret, err := s.box.Open(t.sealedSecret)
	if err != nil {
		return attemptResult{Error: "not sent: " + err.Error()}
	}
	body := []byte(t.payload)
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.url, bytes.NewReader(body))
	if err != nil {
		return attemptResult{Error: "not sent: " + err.Error()}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", userAgent)
	req.Header.Set("Herald-Webhook-Id", deliveryID)
	req.Header.Set(SignatureHeader, Sign(secret, time.Now(), body))
	start := time.Now()
	resp, err := s.client.Do(req)
	res := attemptResult{Duration: time.Since(start)}
	var netErr net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded) || errors.As(err, &netErr) && netErr.Timeout():
		res.Error = fmt.Sprintf("timed out: no answer within %s", s.cfg.Timeout)
		return res
	case err != nil:
		res.Error = truncate(err.Error())
		return res
	}
	defer resp.Body.Close()
	res.StatusCode = resp.StatusCode
	// Read a little of the answer, for the log and so the connection can
	// be reused; never more than that.
	head, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorText))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	res.Duration = time.Since(start)
	if res.StatusCode < 200 || res.StatusCode > 299 {
		res.Error = truncate(fmt.Sprintf("HTTP %d: %s", res.StatusCode, strings.TrimSpace(string(head))))
	}
	return res
}

func truncate(s string) string {
	if len(s) <= maxErrorText {
		return s
	}
	s = s[:maxErrorText]
	for !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s + "…"
}

const recordDelivery = `
UPDATE webhook_deliveries SET attempts = attempts + 1, updated_at = $3,
	status = CASE WHEN generation = $4 THEN $5 ELSE status END,
	next_attempt_at = CASE WHEN generation = $4 THEN $6 ELSE next_attempt_at END
WHERE account_id = $1 AND id = $2
RETURNING attempts`

const insertAttempt = `
INSERT INTO webhook_attempts (delivery_id, number, account_id, status_code, duration_ms, error, attempted_at)
VALUES ($1, $2, $3, $4, $5, $6, $7)`

// record logs an attempt and moves the delivery to status, unless a
// redelivery has taken it over meanwhile. A job's failure to record is
// returned, so River tries the delivery again.
func (s *Service) record(ctx context.Context, a deliveryArgs, res attemptResult, status string, next *time.Time) error {
	now := s.clock.Now()
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		var n int
		err := tx.QueryRowContext(ctx, recordDelivery, a.AccountID, a.DeliveryID, now, a.Generation, status, next).Scan(&n)
		if errors.Is(err, sql.ErrNoRows) {
			return nil // deleted with its endpoint while it was being sent
		}
		if err != nil {
			return fmt.Errorf("webhook: record attempt: %w", err)
		}
		_, err = tx.ExecContext(ctx, insertAttempt, a.DeliveryID, n, a.AccountID, res.StatusCode,
			res.Duration.Milliseconds(), res.Error, now)
		if err != nil {
			return fmt.Errorf("webhook: record attempt: %w", err)
		}
		return nil
	})
}
