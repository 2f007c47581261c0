package msgtemplate

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/heraldsms/herald/internal/db"
	"github.com/heraldsms/herald/internal/id"
	"github.com/heraldsms/herald/internal/phone"
	"github.com/heraldsms/herald/internal/problem"
	"github.com/heraldsms/herald/internal/segment"
)

// TestSend is one "Send Test" message, rendered, for the message pipeline
// to send. Kind says which of the account's sender numbers to send from.
type TestSend struct {
	AccountID, TemplateID, VersionID, To, Body, Actor string
	Kind                                              Kind
}

// TestSender sends "Send Test" messages. The message pipeline implements
// it; a test send skips audience rules and the monthly limit (it goes to
// the author's own phone) but not the carrier.
type TestSender interface {
	SendTest(ctx context.Context, t TestSend) (messageID string, err error)
}

// UnconfiguredSender is the TestSender of a Herald that has no way to send
// yet: it refuses every test send with sending_not_configured.
type UnconfiguredSender struct{}

// SendTest refuses.
func (UnconfiguredSender) SendTest(context.Context, TestSend) (string, error) {
	return "", problem.New(problem.Unavailable, CodeSendingNotConfigured, "",
		"sending is not configured on this server yet; test messages cannot be sent")
}

// MaxTestSendsPerHour is how many test messages an account may send in any
// rolling hour: enough to iterate on a template, too few to be a way around
// review.
const MaxTestSendsPerHour = 20

// testSendPrefix starts the id of a test send record.
const testSendPrefix = "tts"

// Test send statuses: a row is written "sending" before the carrier is
// called, so a crash in between still counts against the limit.
const (
	testSending = "sending"
	testSent    = "sent"
	testFailed  = "failed"
)

// TestInput is a "Send Test" request: where to, and values to use instead
// of the samples (see PreviewInput.Data).
type TestInput struct {
	To   string         `json:"to"`
	Data map[string]any `json:"data"`
}

// TestSendRecord is a kept test send.
type TestSendRecord struct {
	ID         string           `json:"id"`
	TemplateID string           `json:"template_id"`
	VersionID  string           `json:"version_id"`
	To         string           `json:"to"`
	Body       string           `json:"body"`
	Encoding   segment.Encoding `json:"encoding"`
	Characters int              `json:"characters"`
	Segments   int              `json:"segments"`
	Actor      string           `json:"actor"`
	Status     string           `json:"status"`
	MessageID  string           `json:"message_id"`
	Error      string           `json:"error,omitempty"`
	Test       bool             `json:"test"`
	CreatedAt  time.Time        `json:"created_at"`
}

// SendTest sends a template's current version, approved or not, to one
// number written as +[country code][number], rendered from the data over
// the sample values and the account's brand. Each account may send
// MaxTestSendsPerHour in any rolling hour; every attempt is kept.
func (s *Service) SendTest(ctx context.Context, accountID, templateID string, in TestInput, actor string) (TestSendRecord, error) {
	cur, err := s.CurrentVersion(ctx, accountID, templateID)
	if err != nil {
		return TestSendRecord{}, err
	}
	to, err := testPhone(in.To)
	if err != nil {
		return TestSendRecord{}, err
	}
	a, err := s.accounts.Get(ctx, accountID)
	if err != nil {
		return TestSendRecord{}, err
	}
	body, info, err := renderTest(cur.Compiled, a.Brand(), in.Data)
	if err != nil {
		return TestSendRecord{}, err
	}
	rec := TestSendRecord{ID: id.New(testSendPrefix), TemplateID: cur.TemplateID, VersionID: cur.VersionID, To: to,
		Body: body, Encoding: info.Encoding, Characters: info.Characters, Segments: info.Segments, Actor: actor,
		Status: testSending, Test: true, CreatedAt: s.clock.Now()}
	if err := s.reserveTestSend(ctx, accountID, rec); err != nil {
		return TestSendRecord{}, err
	}
	msgID, sendErr := s.sender.SendTest(ctx, TestSend{AccountID: accountID, TemplateID: rec.TemplateID,
		VersionID: rec.VersionID, To: to, Body: body, Actor: actor, Kind: cur.Kind})
	rec.Status, rec.MessageID = testSent, msgID
	if sendErr != nil {
		rec.Status, rec.Error = testFailed, sendErr.Error()
	}
	// The send happened (or not) whatever the client does now: record it.
	err = exec(context.WithoutCancel(ctx), s.db.Write(), "finish test send",
		`UPDATE template_test_sends SET status = $3, message_id = $4, error = $5 WHERE account_id = $1 AND id = $2`,
		accountID, rec.ID, rec.Status, rec.MessageID, rec.Error)
	s.logTestSend(ctx, accountID, rec, sendErr)
	if sendErr != nil {
		return TestSendRecord{}, fmt.Errorf("msgtemplate: send test: %w", sendErr)
	}
	return rec, err
}

func testPhone(raw string) (string, error) {
	n, err := phone.ParseStrict(raw)
	reason := string(n.Reason)
	if err == nil && !n.SMSCapable {
		err, reason = errors.New("not SMS capable"), "not_sms_capable"
	}
	if err != nil {
		e := problem.Invalidf("invalid_phone", "to",
			"%q is not a number a test can go to (%s); write it as +[country code][number], e.g. +17346263333", raw, reason)
		e.Detail = map[string]any{"reason": reason}
		return "", e
	}
	return n.E164, nil
}

// renderTest renders a test message, refusing one with a tag left without a
// value or one over the length limits once the data is in.
func renderTest(c *Compiled, brand string, data map[string]any) (string, segment.Info, error) {
	v, err := sampleValues(c, brand, data, false)
	if err != nil {
		return "", segment.Info{}, err
	}
	body, err := c.Render(v)
	var missing *MissingValueError
	if errors.As(err, &missing) {
		e := problem.Invalidf(CodeMissingMergeValue, "data", "%s", missing.Error())
		e.Detail = map[string]any{"tags": missing.Tags}
		return "", segment.Info{}, e
	}
	if err != nil {
		return "", segment.Info{}, fmt.Errorf("msgtemplate: render test: %w", err)
	}
	info := segment.Count(body)
	return body, info, CheckLength(info, "data")
}

const insertTestSend = `
INSERT INTO template_test_sends (id, account_id, template_id, version_id, to_phone, body, actor, status, created_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`

// reserveTestSend counts the account's test sends in the last hour and, if
// it is under the limit, writes this one, in one transaction. On
// PostgreSQL the account row is locked first so that two concurrent sends
// cannot both see room for one.
func (s *Service) reserveTestSend(ctx context.Context, accountID string, rec TestSendRecord) error {
	since := rec.CreatedAt.Add(-time.Hour)
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		if s.db.Engine == db.Postgres {
			if err := exec(ctx, tx, "lock account", `SELECT id FROM accounts WHERE id = $1 FOR NO KEY UPDATE`, accountID); err != nil {
				return err
			}
		}
		var n int
		err := tx.QueryRowContext(ctx, `SELECT count(*) FROM template_test_sends WHERE account_id = $1 AND created_at > $2`,
			accountID, since).Scan(&n)
		if err != nil {
			return fmt.Errorf("msgtemplate: count test sends: %w", err)
		}
		if n >= MaxTestSendsPerHour {
			return s.rateLimited(ctx, tx, accountID, since)
		}
		return exec(ctx, tx, "insert test send", insertTestSend, rec.ID, accountID, rec.TemplateID, rec.VersionID,
			rec.To, rec.Body, rec.Actor, rec.Status, rec.CreatedAt)
	})
}

func (s *Service) rateLimited(ctx context.Context, q db.Querier, accountID string, since time.Time) error {
	var oldest time.Time
	err := q.QueryRowContext(ctx, `SELECT created_at FROM template_test_sends WHERE account_id = $1 AND created_at > $2
		ORDER BY created_at LIMIT 1`, accountID, since).Scan(&oldest)
	if err != nil {
		return fmt.Errorf("msgtemplate: oldest test send: %w", err)
	}
	wait := max(time.Second, oldest.Add(time.Hour).Sub(s.clock.Now())).Round(time.Second)
	e := problem.New(problem.TooMany, CodeRateLimited, "",
		fmt.Sprintf("an account may send %d test messages an hour; try again in %s", MaxTestSendsPerHour, wait))
	e.Detail = map[string]any{"limit": MaxTestSendsPerHour, "retry_after_seconds": int(wait.Seconds())}
	return e
}

func (s *Service) logTestSend(ctx context.Context, accountID string, rec TestSendRecord, err error) {
	attrs := []any{"test", true, "account_id", accountID, "template_id", rec.TemplateID, "version_id", rec.VersionID,
		"test_send_id", rec.ID, "message_id", rec.MessageID, "status", rec.Status, "actor", rec.Actor, "segments", rec.Segments}
	if err != nil {
		s.log.WarnContext(ctx, "template test send failed", append(attrs, "err", err)...)
		return
	}
	s.log.InfoContext(ctx, "template test send", attrs...)
}
