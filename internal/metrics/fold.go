package metrics

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/heraldsms/herald/internal/db"
)

// foldBatch is how many noted changes one fold transaction takes. On SQLite
// the fold holds the one writer, so a batch is kept to a few milliseconds.
const foldBatch = 2000

// foldLock is the PostgreSQL advisory lock under which one process at a
// time folds, keyed by schema so that databases sharing a server (or tests
// sharing one) do not wait for each other. A second process waits for the
// first's batch (milliseconds), then finds the inbox drained.
const foldLock = `SELECT pg_advisory_xact_lock(7236007, hashtext(current_schema()))`

// The inbox joined with what a change is counted under. A message or an
// account deleted since the change was noted leaves the change uncounted.
const selectInbox = `
SELECT i.seq, i.account_id, i.what, i.at, COALESCE(m.program_id, ''), COALESCE(m.template_id, ''),
	COALESCE(m.segments, 0), m.id IS NOT NULL, a.id IS NOT NULL
FROM metrics_inbox i
LEFT JOIN accounts a ON a.id = i.account_id
LEFT JOIN messages m ON m.account_id = i.account_id AND m.id = i.message_id
LIMIT $1`

// The transaction log's entries that count, after a seq, on SQLite: each
// message's first entry (it was made) and the statuses the dashboard
// counts (queued, sending and rate_limited come and go many times per
// message and are not counted). A message deleted since, with its account,
// leaves no entries to read.
const selectLog = `
SELECT e.seq, e.account_id, e.status, e.created, e.occurred_at, COALESCE(m.program_id, ''), COALESCE(m.template_id, ''),
	m.segments
FROM message_events e
JOIN messages m ON m.id = e.message_id
WHERE e.seq > $1
	AND (e.created = 1 OR e.status IN ('sent', 'delivered', 'undelivered', 'failed', 'skipped', 'limit_queued', 'cancelled'))
ORDER BY e.seq
LIMIT $2`

// Run folds every few seconds until ctx is done. The dashboard is as stale
// as the interval, plus the time a fold takes.
func (s *Service) Run(ctx context.Context, every time.Duration) {
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		if _, err := s.Fold(ctx); err != nil && ctx.Err() == nil {
			s.log.Error("metrics fold failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// vacuumAfter is how many folded changes, on PostgreSQL, call for a
// VACUUM of the inbox. The inbox is a queue: every row is deleted moments
// after it is written, and a fold reads it whole. Left to autovacuum (which
// wakes once a minute, if it runs at all) its dead rows piled up by the
// hundred thousand during a promotion, and each fold read them all (150 ms
// for 677 live rows among 184,000 dead, measured).
const vacuumAfter = 20000

// Fold moves every change noted in the inbox, and on SQLite every counted
// entry of the transaction log, committed before it was called into the
// rollups, and returns how many it moved. Each batch adds to the rollups
// and deletes its inbox rows, or moves the log's cursor past its entries,
// in one transaction, so a change is counted once whatever fails or runs
// at the same time.
func (s *Service) Fold(ctx context.Context) (int, error) {
	total := 0
	for {
		n, err := s.foldBatch(ctx)
		total += n
		if err != nil || n < foldBatch {
			if err == nil {
				err = s.vacuumInbox(ctx, total)
			}
			return total, err
		}
	}
}

// vacuumInbox frees the inbox's dead rows once enough have been folded.
// SQLite reuses a deleted row's space by itself. The vacuum leaves the
// table's empty tail in place: giving it back needs the table's exclusive
// lock, which the writers noting changes never left free, so each vacuum
// waited its full 5 s for it and held off Optimize's ANALYZE of the inbox
// meanwhile (a fifth of the server's active queries, sampled during a
// promotion, were the one or the other waiting). The space is reused by
// the next changes anyway.
func (s *Service) vacuumInbox(ctx context.Context, folded int) error {
	if s.db.Engine != db.Postgres || s.unvacuumed.Add(int64(folded)) < vacuumAfter {
		return nil
	}
	s.unvacuumed.Store(0)
	if _, err := s.db.Write().ExecContext(ctx, `VACUUM (TRUNCATE false) metrics_inbox`); err != nil {
		return fmt.Errorf("metrics: vacuum inbox: %w", err)
	}
	return nil
}

func (s *Service) foldBatch(ctx context.Context) (int, error) {
	// On SQLite the log is read before the write transaction, on a reader
	// connection, so that the one writer only adds the counts up; the
	// cursor moves only if no other fold moved it meanwhile.
	var logged logBatch
	if s.db.Engine == db.SQLite {
		var err error
		if logged, err = readLog(ctx, s.db.Read()); err != nil {
			return 0, err
		}
	}
	n := 0
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		if s.db.Engine == db.Postgres {
			if _, err := tx.ExecContext(ctx, foldLock); err != nil {
				return fmt.Errorf("metrics: fold lock: %w", err)
			}
		}
		seqs, tally, err := readInbox(ctx, tx)
		if err != nil {
			return err
		}
		n = len(seqs)
		if logged.read > 0 {
			moved, err := moveCursor(ctx, tx, logged)
			if err != nil {
				return err
			}
			if moved {
				tally.Merge(logged.tally)
				n = max(n, logged.read) // a full batch of either calls for another
			}
		}
		if err := tally.Write(ctx, tx); err != nil {
			return err
		}
		// Delete exactly the rows read: on PostgreSQL a change committed
		// since the read is visible to this statement, and is not counted yet.
		return deleteInbox(ctx, tx, seqs)
	})
	return n, err
}

// logBatch is a batch of the log's counted entries: those after seq from,
// up to and including seq to, tallied.
type logBatch struct {
	from, to int64
	read     int
	tally    *Tally
}

// readLog reads and tallies the log's counted entries after the cursor.
// SQLite commits one transaction at a time, in seq order, so what it
// reads is every entry up to the last it read.
func readLog(ctx context.Context, q db.Querier) (logBatch, error) {
	b := logBatch{tally: NewTally()}
	if err := q.QueryRowContext(ctx, `SELECT seq FROM metrics_cursor`).Scan(&b.from); err != nil {
		return b, fmt.Errorf("metrics: read cursor: %w", err)
	}
	rows, err := q.QueryContext(ctx, selectLog, b.from, foldBatch)
	if err != nil {
		return b, fmt.Errorf("metrics: read log: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			c       Change
			status  string
			created bool
		)
		if err := rows.Scan(&b.to, &c.AccountID, &status, &created, &c.At, &c.ProgramID, &c.TemplateID, &c.Segments); err != nil {
			return b, fmt.Errorf("metrics: read log: %w", err)
		}
		b.read++
		if created {
			made := c
			made.What = "created"
			b.tally.Add(made)
		}
		c.What = status
		b.tally.Add(c)
	}
	if err := rows.Err(); err != nil {
		return b, fmt.Errorf("metrics: read log: %w", err)
	}
	return b, nil
}

// moveCursor moves the cursor past a batch read from where it still is,
// and reports whether it did: if another fold moved it first, that fold
// counted the batch.
func moveCursor(ctx context.Context, tx *sql.Tx, b logBatch) (bool, error) {
	res, err := tx.ExecContext(ctx, `UPDATE metrics_cursor SET seq = $1 WHERE seq = $2`, b.to, b.from)
	if err != nil {
		return false, fmt.Errorf("metrics: move cursor: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("metrics: move cursor: %w", err)
	}
	return n == 1, nil
}

// readInbox reads a batch of the inbox and tallies it.
func readInbox(ctx context.Context, tx *sql.Tx) ([]int64, *Tally, error) {
	rows, err := tx.QueryContext(ctx, selectInbox, foldBatch)
	if err != nil {
		return nil, nil, fmt.Errorf("metrics: read inbox: %w", err)
	}
	defer rows.Close()
	var seqs []int64
	tally := NewTally()
	for rows.Next() {
		var (
			seq             int64
			c               Change
			hasMsg, hasAcct bool
		)
		if err := rows.Scan(&seq, &c.AccountID, &c.What, &c.At, &c.ProgramID, &c.TemplateID, &c.Segments, &hasMsg, &hasAcct); err != nil {
			return nil, nil, fmt.Errorf("metrics: read inbox: %w", err)
		}
		seqs = append(seqs, seq)
		if hasAcct && (c.What == "opted_out" || hasMsg) {
			tally.Add(c)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("metrics: read inbox: %w", err)
	}
	return seqs, tally, nil
}

// deleteChunk bounds the ids of one DELETE; one size, prepared once.
const deleteChunk = 100

func deleteInbox(ctx context.Context, tx *sql.Tx, seqs []int64) error {
	for start := 0; start < len(seqs); start += deleteChunk {
		chunk := seqs[start:min(start+deleteChunk, len(seqs))]
		args := make([]any, len(chunk))
		for i, r := range chunk {
			args[i] = r
		}
		q := `DELETE FROM metrics_inbox WHERE seq IN (` + db.Placeholders(1, len(chunk)) + `)`
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			return fmt.Errorf("metrics: clear inbox: %w", err)
		}
	}
	return nil
}
