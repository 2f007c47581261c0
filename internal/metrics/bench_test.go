package metrics_test

import (
	"context"
	"testing"
	"time"

	"github.com/heraldsms/herald/internal/consent"
	"github.com/heraldsms/herald/internal/db"
	"github.com/heraldsms/herald/internal/db/dbtest"
	"github.com/heraldsms/herald/internal/message"
)

// BenchmarkCreate measures the hottest write path, messages made from
// many goroutines at once and committed in groups as the server commits
// them, on each engine. What the metrics cost it is the message's first
// log entry, which the fold reads, and on PostgreSQL that entry's
// transaction id and its index (migration 17); until then PostgreSQL's
// triggers noted every message in an inbox as well.
//
//	go test -run '^$' -bench Create -benchtime 3000x -count 5 ./internal/metrics/
func BenchmarkCreate(b *testing.B) {
	for _, engine := range []db.Engine{db.SQLite, db.Postgres} {
		b.Run(string(engine), func(b *testing.B) {
			d := dbtest.New(b, engine)
			t := setup(b, d, 1_000_000_000)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			g := db.NewGroup(ctx, d, 2*time.Millisecond, 256)
			t.messages.SetGroups(message.Groups{Accept: g, Dispatch: g, Reports: g})
			c := t.contact(b, 1, consent.OptedIn)
			b.SetParallelism(16)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := t.messages.Create(ctx, t.acct, message.Request{ContactID: c.ID, TemplateID: "tpl_a",
						ProgramID: t.programs[0]}); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
