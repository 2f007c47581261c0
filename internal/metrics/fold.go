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

// Fold moves every change noted in the inbox and committed before it was
// called into the rollups, and returns how many it moved. Each batch adds
// to the rollups and deletes its inbox rows in one transaction, so a
// change is counted once whatever fails or runs at the same time.
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
// SQLite reuses a deleted row's space by itself.
func (s *Service) vacuumInbox(ctx context.Context, folded int) error {
	if s.db.Engine != db.Postgres || s.unvacuumed.Add(int64(folded)) < vacuumAfter {
		return nil
	}
	s.unvacuumed.Store(0)
	if _, err := s.db.Write().ExecContext(ctx, `VACUUM metrics_inbox`); err != nil {
		return fmt.Errorf("metrics: vacuum inbox: %w", err)
	}
	return nil
}

func (s *Service) foldBatch(ctx context.Context) (int, error) {
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
		if err := tally.Write(ctx, tx); err != nil {
			return err
		}
		// Delete exactly the rows read: on PostgreSQL a change committed
		// since the read is visible to this statement, and is not counted yet.
		if err := deleteInbox(ctx, tx, seqs); err != nil {
			return err
		}
		n = len(seqs)
		return nil
	})
	return n, err
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
