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

// BenchmarkCreate measures what the triggers cost the hottest write path:
// messages made from many goroutines at once, committed in groups as the
// server does on SQLite. Compare the two halves:
//
//	go test -run '^$' -bench Create -benchtime 3000x ./internal/metrics/
func BenchmarkCreate(b *testing.B) {
	for _, noted := range []bool{true, false} {
		name := "noted"
		if !noted {
			name = "triggers_dropped"
		}
		b.Run(name, func(b *testing.B) {
			d := dbtest.New(b, db.SQLite)
			t := setup(b, d, 1_000_000_000)
			if !noted {
				for _, trg := range []string{"metrics_note_message", "metrics_note_event", "metrics_note_opt_out"} {
					if _, err := d.Write().Exec(`DROP TRIGGER ` + trg); err != nil {
						b.Fatal(err)
					}
				}
			}
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
