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

// counted is the statuses the dashboard counts: queued, sending and
// rate_limited come and go many times per message and are not counted.
// A message's first entry (created) counts as the message made.
const counted = `('sent', 'delivered', 'undelivered', 'failed', 'skipped', 'limit_queued', 'cancelled')`

// The transaction log's counted entries after a seq, on SQLite. A message
// deleted since, with its account, leaves no entries to read.
const selectLog = `
SELECT e.seq, e.account_id, e.status, e.created, e.occurred_at, COALESCE(m.program_id, ''), COALESCE(m.template_id, ''),
	m.segments
FROM message_events e
JOIN messages m ON m.id = e.message_id
WHERE e.seq > $1
	AND (e.created = 1 OR e.status IN ` + counted + `)
ORDER BY e.seq
LIMIT $2`

// The transaction log's counted entries on PostgreSQL, from the cursor
// (xid, seq) up to the horizon: the oldest transaction still running.
// Every transaction below it has ended, so no entry can still appear
// there (migration 0017). The batch is taken from the log alone, in the
// index's order, and then joined: every entry has its message (deleting
// one deletes its entries).
const selectLogToHorizon = `
SELECT e.xid::text, e.seq, e.account_id, e.status, e.created, e.occurred_at, COALESCE(m.program_id, ''),
	COALESCE(m.template_id, ''), m.segments
FROM (
	SELECT xid, seq, account_id, message_id, status, created, occurred_at
	FROM message_events
	WHERE (xid, seq) >= ($1::xid8, $2) AND xid < $3::xid8
		AND (created OR status IN ` + counted + `)
	ORDER BY xid, seq
	LIMIT $4
) e
JOIN messages m ON m.id = e.message_id
ORDER BY e.xid, e.seq`

// inIndexOrder, for the rest of the fold's transaction, keeps the planner
// from reading the log's batch some other way and sorting it. A planner
// that thinks few entries are due (it has no statistics yet, in a
// promotion's first minutes) would gather every due entry and sort them
// for each batch: a fold that fell behind by n entries would read n²/2000.
// In the index's order it stops at the batch's end, and the join keeps
// that order.
const inIndexOrder = `SET LOCAL enable_sort = off`

// Run folds every few seconds until ctx is done. The dashboard is as stale
// as the interval, plus the time a fold takes; on PostgreSQL, plus however
// long the oldest writing transaction on the server has been open.
func (s *Service) Run(ctx context.Context, every time.Duration) {
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		if _, err := s.foldAll(ctx); err != nil && ctx.Err() == nil {
			s.log.Error("metrics fold failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// vacuumAfter is how many folded inbox rows, on PostgreSQL, call for a
// VACUUM of the inbox. The inbox is a queue: every row is deleted moments
// after it is written, and a fold reads it whole. Left to autovacuum (which
// wakes once a minute, if it runs at all) its dead rows piled up by the
// hundred thousand during a promotion, when it noted every message, and
// each fold read them all (150 ms for 677 live rows among 184,000 dead,
// measured). It notes only opt-outs now, but a STOP wave is a queue too.
const vacuumAfter = 20000

// Fold moves every change noted in the inbox, and every counted entry of
// the transaction log, committed before it was called into the rollups,
// and returns how many it moved. Each batch adds to the rollups, deletes
// its inbox rows and moves the log's cursor past its entries in one
// transaction, so a change is counted once whatever fails or runs at the
// same time. On PostgreSQL it first waits for the transactions running
// when it was called to end (see awaitHorizon).
func (s *Service) Fold(ctx context.Context) (int, error) {
	if s.db.Engine == db.Postgres {
		if err := awaitHorizon(ctx, s.db.Read()); err != nil {
			return 0, err
		}
	}
	return s.foldAll(ctx)
}

// foldAll folds batches until one is not full. Run calls it without
// waiting for the horizon: it folds what it can, and the next tick the
// rest, so a transaction left open on the server does not stall it.
func (s *Service) foldAll(ctx context.Context) (int, error) {
	total := 0
	for {
		n, err := s.foldBatch(ctx)
		total += n
		if err != nil || n < foldBatch {
			if err == nil {
				err = s.vacuumInbox(ctx)
			}
			return total, err
		}
	}
}

// awaitHorizon waits until every transaction that had been given an id
// when it was called has ended: until then an entry it wrote, committed
// before Fold was called, could sit at or above the horizon the fold reads
// up to. Only transactions that write are given an id, and Herald's last
// milliseconds; a long one elsewhere on the server holds the fold back
// until it ends, or ctx does.
func awaitHorizon(ctx context.Context, q db.Querier) error {
	var target string
	if err := q.QueryRowContext(ctx, `SELECT pg_snapshot_xmax(pg_current_snapshot())::text`).Scan(&target); err != nil {
		return fmt.Errorf("metrics: read horizon: %w", err)
	}
	wait := time.Millisecond
	for {
		var past bool
		err := q.QueryRowContext(ctx, `SELECT pg_snapshot_xmin(pg_current_snapshot()) >= $1::xid8`, target).Scan(&past)
		if err != nil {
			return fmt.Errorf("metrics: read horizon: %w", err)
		}
		if past {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		wait = min(2*wait, 50*time.Millisecond)
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
func (s *Service) vacuumInbox(ctx context.Context) error {
	if s.db.Engine != db.Postgres || s.unvacuumed.Load() < vacuumAfter {
		return nil
	}
	s.unvacuumed.Store(0)
	if _, err := s.db.Write().ExecContext(ctx, `VACUUM (TRUNCATE false) metrics_inbox`); err != nil {
		return fmt.Errorf("metrics: vacuum inbox: %w", err)
	}
	return nil
}

// foldBatch folds one batch of the inbox and one of the log, and returns
// the larger of the two sizes: a full batch of either calls for another.
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
	n, noted := 0, 0
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
		n, noted = len(seqs), len(seqs)
		switch {
		case s.db.Engine == db.Postgres:
			read, logTally, err := foldLogToHorizon(ctx, tx)
			if err != nil {
				return err
			}
			tally.Merge(logTally)
			n = max(n, read)
		case logged.read > 0:
			moved, err := moveCursor(ctx, tx, logged)
			if err != nil {
				return err
			}
			if moved {
				tally.Merge(logged.tally)
				n = max(n, logged.read)
			}
		}
		if err := tally.Write(ctx, tx); err != nil {
			return err
		}
		// Delete exactly the rows read: on PostgreSQL a change committed
		// since the read is visible to this statement, and is not counted yet.
		return deleteInbox(ctx, tx, seqs)
	})
	if err == nil {
		s.unvacuumed.Add(int64(noted))
	}
	return n, err
}

// foldLogToHorizon reads and tallies a batch of the log's counted entries
// from the cursor, on PostgreSQL, and moves the cursor past them: to the
// horizon if the batch took every entry below it, else to just after the
// batch's last entry. It runs under the fold's lock, so no other fold
// moves the cursor meanwhile.
func foldLogToHorizon(ctx context.Context, tx *sql.Tx) (int, *Tally, error) {
	var (
		fromXID, horizon string
		fromSeq          int64
	)
	err := tx.QueryRowContext(ctx, `SELECT c.xid::text, c.seq, pg_snapshot_xmin(pg_current_snapshot())::text
		FROM metrics_cursor c`).Scan(&fromXID, &fromSeq, &horizon)
	if err != nil {
		return 0, nil, fmt.Errorf("metrics: read cursor: %w", err)
	}
	if _, err := tx.ExecContext(ctx, inIndexOrder); err != nil {
		return 0, nil, fmt.Errorf("metrics: read log: %w", err)
	}
	rows, err := tx.QueryContext(ctx, selectLogToHorizon, fromXID, fromSeq, horizon, foldBatch)
	if err != nil {
		return 0, nil, fmt.Errorf("metrics: read log: %w", err)
	}
	defer rows.Close()
	tally := NewTally()
	read, lastXID, lastSeq := 0, "", int64(0)
	for rows.Next() {
		var (
			c       Change
			status  string
			created bool
		)
		if err := rows.Scan(&lastXID, &lastSeq, &c.AccountID, &status, &created, &c.At, &c.ProgramID, &c.TemplateID, &c.Segments); err != nil {
			return 0, nil, fmt.Errorf("metrics: read log: %w", err)
		}
		read++
		tallyEntry(tally, c, status, created)
	}
	if err := rows.Err(); err != nil {
		return 0, nil, fmt.Errorf("metrics: read log: %w", err)
	}
	toXID, toSeq := horizon, int64(0)
	if read == foldBatch {
		toXID, toSeq = lastXID, lastSeq+1
	}
	if toXID == fromXID && toSeq == fromSeq {
		return 0, tally, nil // nothing has ended since: an idle fold writes nothing
	}
	if _, err := tx.ExecContext(ctx, `UPDATE metrics_cursor SET xid = $1::xid8, seq = $2`, toXID, toSeq); err != nil {
		return 0, nil, fmt.Errorf("metrics: move cursor: %w", err)
	}
	return read, tally, nil
}

// tallyEntry adds one counted entry of the log: the message made, if it is
// the message's first, and its status.
func tallyEntry(t *Tally, c Change, status string, created bool) {
	if created {
		made := c
		made.What = "created"
		t.Add(made)
	}
	c.What = status
	t.Add(c)
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
		tallyEntry(b.tally, c, status, created)
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
