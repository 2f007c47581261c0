// Package metrics keeps the figures behind the SMS dashboard: how many
// messages were created, sent, delivered, failed, skipped… and how many
// contacts opted out, per account, program and template, hour by hour.
//
// The figures live in rollups (hourly by template, hourly by program, and
// daily by template; see tally.go), so a dashboard over a million messages
// sums a few thousand rows. Fold adds what changed since its last run,
// read from the messages' transaction log past a cursor, so the message
// paths pay nothing more. SQLite commits one transaction at a time, so its
// entries commit in seq order and the cursor is a seq. PostgreSQL commits
// in parallel, where an entry with a lower seq can commit after a higher
// one; there each entry carries its transaction's id, and the fold reads
// only below the oldest transaction still running, all of whose entries
// are in. Opt-outs (consent records, not log entries) are noted by a
// trigger in an inbox, which Fold empties into the rollups.
//
// Each figure counts what happened in an hour: a message sent at 10:59 and
// delivered at 11:01 is sent in the 10:00 hour and delivered in the 11:00
// one. Once the fold has caught up (within a few seconds; see Run), every
// figure equals a count over the messages themselves.
package metrics

import (
	"log/slog"
	"sync/atomic"

	"github.com/heraldsms/herald/internal/clock"
	"github.com/heraldsms/herald/internal/db"
)

// Service folds noted changes into the rollups and answers dashboard
// queries from them.
type Service struct {
	db    *db.DB
	clock clock.Clock
	log   *slog.Logger

	unvacuumed atomic.Int64 // changes folded since the inbox was last vacuumed
}

// NewService returns a Service.
func NewService(d *db.DB, c clock.Clock, log *slog.Logger) *Service {
	return &Service{db: d, clock: c, log: log}
}

// Counts are the message figures of a span of time, a program or a
// template.
type Counts struct {
	Created      int64 `json:"created"`
	Sent         int64 `json:"sent"`
	Delivered    int64 `json:"delivered"`
	Undelivered  int64 `json:"undelivered"`
	Failed       int64 `json:"failed"`
	Skipped      int64 `json:"skipped"`
	LimitQueued  int64 `json:"limit_queued"`
	Cancelled    int64 `json:"cancelled"`
	SegmentsSent int64 `json:"segments_sent"`
	// DeliveryRate is delivered / (delivered + undelivered + failed), nil
	// when no message reached an outcome.
	DeliveryRate *float64 `json:"delivery_rate"`
}

func (c *Counts) add(o Counts) {
	c.Created += o.Created
	c.Sent += o.Sent
	c.Delivered += o.Delivered
	c.Undelivered += o.Undelivered
	c.Failed += o.Failed
	c.Skipped += o.Skipped
	c.LimitQueued += o.LimitQueued
	c.Cancelled += o.Cancelled
	c.SegmentsSent += o.SegmentsSent
}

func (c *Counts) empty() bool {
	return c.Created == 0 && c.Sent == 0 && c.Delivered == 0 && c.Undelivered == 0 && c.Failed == 0 &&
		c.Skipped == 0 && c.LimitQueued == 0 && c.Cancelled == 0 && c.SegmentsSent == 0
}

// rate fills DeliveryRate from the counts.
func (c *Counts) rate() {
	c.DeliveryRate = nil
	if done := c.Delivered + c.Undelivered + c.Failed; done > 0 {
		r := float64(c.Delivered) / float64(done)
		c.DeliveryRate = &r
	}
}

// bump counts one noted change.
func (c *Counts) bump(what string, segments int64) {
	switch what {
	case "created":
		c.Created++
	case "sent":
		c.Sent++
		c.SegmentsSent += segments
	case "delivered":
		c.Delivered++
	case "undelivered":
		c.Undelivered++
	case "failed":
		c.Failed++
	case "skipped":
		c.Skipped++
	case "limit_queued":
		c.LimitQueued++
	case "cancelled":
		c.Cancelled++
	}
}

// WithoutRate returns the counts without the delivery rate, for comparing
// counts alone.
func (c Counts) WithoutRate() Counts {
	c.DeliveryRate = nil
	return c
}
