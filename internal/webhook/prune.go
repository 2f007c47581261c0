package webhook

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/oklog/ulid/v2"
	"github.com/riverqueue/river"

	"github.com/heraldsms/herald/internal/id"
)

// pruneBatch is how many deliveries one statement deletes, so pruning
// never holds the write lock for long.
const pruneBatch = 1000

// pruneArgs is the periodic job that deletes old deliveries.
type pruneArgs struct{}

func (pruneArgs) Kind() string { return "webhook_prune" }

func (pruneArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{Queue: Queue, MaxAttempts: 3} }

type pruneWorker struct {
	river.WorkerDefaults[pruneArgs]
	s *Service
}

func (w *pruneWorker) Work(ctx context.Context, _ *river.Job[pruneArgs]) error {
	_, err := w.s.Prune(ctx, w.s.clock.Now().Add(-w.s.cfg.Keep))
	return err
}

// PeriodicJobs is the service's periodic work, for the job queue's
// configuration: pruning the delivery log every hour.
func (s *Service) PeriodicJobs() []*river.PeriodicJob {
	return []*river.PeriodicJob{river.NewPeriodicJob(river.PeriodicInterval(time.Hour),
		func() (river.JobArgs, *river.InsertOpts) { return pruneArgs{}, nil },
		&river.PeriodicJobOpts{ID: "webhook_prune"})}
}

// Prune deletes settled deliveries (and their attempts) made before
// before, and returns how many it deleted. Ids sort by creation time, so
// the primary key finds them. Pending deliveries are kept: their retries
// may still succeed.
func (s *Service) Prune(ctx context.Context, before time.Time) (int64, error) {
	var u ulid.ULID
	if err := u.SetTime(ulid.Timestamp(before)); err != nil {
		return 0, fmt.Errorf("webhook: prune: %w", err)
	}
	boundary := id.Delivery + "_" + strings.ToLower(u.String())
	var total int64
	for {
		res, err := s.db.Write().ExecContext(ctx, `DELETE FROM webhook_deliveries WHERE id IN (
			SELECT id FROM webhook_deliveries WHERE id < $1 AND status <> $2 ORDER BY id LIMIT $3)`,
			boundary, statusPending, pruneBatch)
		if err != nil {
			return total, fmt.Errorf("webhook: prune: %w", err)
		}
		n, _ := res.RowsAffected()
		total += n
		if n < pruneBatch {
			return total, nil
		}
	}
}
