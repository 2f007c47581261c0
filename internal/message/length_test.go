package message_test

import (
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/heraldsms/herald/internal/db"
	"github.com/heraldsms/herald/internal/db/dbtest"
	"github.com/heraldsms/herald/internal/message"
	"github.com/heraldsms/herald/internal/msgtemplate"
	"github.com/heraldsms/herald/internal/problem"
)

// A template is held to a carrier's limits when it is written; the data it
// is rendered with can still take the message past them. A developer's
// send is refused and nothing is kept; an automation's is skipped, quietly
// and counted, and holds no allowance.
func TestDataThatTakesTheMessagePastTheLimits(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		b := setup(t, d, 1000)
		b.clock.Set(at(t, "2026-06-15T16:00:00Z")) // noon in New York: inside the sending window
		compiled, err := msgtemplate.Parse("Acme: {{event.data.note}}")
		require.NoError(t, err)
		svc := message.NewService(d, b.clock, slog.New(slog.NewTextHandler(io.Discard, nil)), b.accounts, b.contacts,
			oneTemplate{compiled})

		c := b.contactAt(t, "+12125550100", "")
		for _, tc := range []struct {
			name, note, code string
		}{
			{"more characters than a carrier takes", strings.Repeat("x", 1595), msgtemplate.CodeBodyTooLong},
			{"more segments than a message may have", strings.Repeat("x", 1525), msgtemplate.CodeBodyTooManySegments},
			{"UCS-2 past ten segments", strings.Repeat("🎉", 340), msgtemplate.CodeBodyTooManySegments},
		} {
			req := message.Request{ContactID: c, TemplateID: "tpl_1", Data: map[string]any{"note": tc.note}}
			_, err := svc.Create(b.ctx, b.acct.ID, req)
			p, ok := problem.As(err)
			require.True(t, ok, "%s: %v", tc.name, err)
			require.Equal(t, tc.code, p.Code, tc.name)
			require.Equal(t, "data", p.Field, tc.name)

			req.Quiet, req.DedupeKey = true, tc.name
			got, err := svc.CreateMany(b.ctx, b.acct.ID, []message.Request{req})
			require.NoError(t, err, tc.name)
			require.Equal(t, message.Skipped, got[0].Status, tc.name)
			require.Equal(t, tc.code, got[0].Reason, tc.name)
		}
		// Within the limits, the same template is sent.
		m, err := svc.Create(b.ctx, b.acct.ID, message.Request{ContactID: b.contactAt(t, "+12125550999", ""),
			TemplateID: "tpl_1", Data: map[string]any{"note": strings.Repeat("x", 1523)}})
		require.NoError(t, err)
		require.Equal(t, message.Queued, m.Status)
		require.Equal(t, 10, m.Segments)

		page, err := svc.List(b.ctx, b.acct.ID, message.Filter{Limit: 100})
		require.NoError(t, err)
		require.Len(t, page.Data, 4, "the three skips and the one sent; nothing of the refusals")
		u, err := svc.UsageOf(b.ctx, b.acct)
		require.NoError(t, err)
		require.Equal(t, int64(1), u.Used, "only the message sent holds an allowance")
	})
}
