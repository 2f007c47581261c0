package account_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldsms/herald/internal/account"
	"github.com/heraldsms/herald/internal/clock"
	"github.com/heraldsms/herald/internal/db"
	"github.com/heraldsms/herald/internal/db/dbtest"
	"github.com/heraldsms/herald/internal/problem"
)

// Setting an account's numbers again moves every message still to be sent
// to the number that now sends its kind; what has been sent stays as it
// went. A number whose phone stays keeps its id.
func TestReplacingNumbersMovesTheWaitingMessages(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		s := account.NewStore(d, clock.System{})
		a, _, err := s.CreateAccount(ctx, account.NewAccount{Name: "Acme"})
		require.NoError(t, err)
		both, err := s.ReplaceNumbers(ctx, a.ID, []account.NumberInput{{Phone: "+18885550100", Kind: account.NumberBoth}})
		require.NoError(t, err)

		type row struct{ id, kind, status string }
		rows := []row{
			{"msg_1", "marketing", "queued"}, {"msg_2", "marketing", "scheduled"}, {"msg_3", "marketing", "limit_queued"},
			{"msg_4", "marketing", "rate_limited"}, {"msg_5", "marketing", "sending"}, {"msg_6", "marketing", "delivered"},
			{"msg_7", "transactional", "queued"}, {"msg_8", "test", "queued"}, {"msg_9", "reply", "queued"},
		}
		now := time.Now().UTC()
		for _, r := range rows {
			_, err := d.Write().ExecContext(ctx, `INSERT INTO messages (id, account_id, number_id, to_phone, from_phone, kind,
				priority, body, encoding, segments, status, next_attempt_at, created_at, updated_at)
				VALUES ($1, $2, $3, '+17346263333', '+18885550100', $4, 1, 'hi', 'GSM-7', 1, $5, $6, $6, $6)`,
				r.id, a.ID, both[0].ID, r.kind, r.status, now)
			require.NoError(t, err)
		}

		split, err := s.ReplaceNumbers(ctx, a.ID, []account.NumberInput{
			{Phone: "+18885550100", Kind: account.NumberTransactional}, {Phone: "+18885550112", Kind: account.NumberMarketing}})
		require.NoError(t, err)
		require.Equal(t, both[0].ID, split[0].ID, "the phone that stays keeps its number")
		require.Equal(t, both[0].CreatedAt, split[0].CreatedAt)
		marketing := split[1].ID

		want := map[string][2]string{
			"msg_1": {marketing, "+18885550112"}, "msg_2": {marketing, "+18885550112"},
			"msg_3": {marketing, "+18885550112"}, "msg_4": {marketing, "+18885550112"},
			"msg_5": {marketing, "+18885550100"},  // on its way: its attempt is recorded with the phone it used
			"msg_6": {both[0].ID, "+18885550100"}, // sent: stays as it went
			"msg_7": {both[0].ID, "+18885550100"}, "msg_8": {both[0].ID, "+18885550100"}, "msg_9": {both[0].ID, "+18885550100"},
		}
		for id, w := range want {
			var numberID, from string
			require.NoError(t, d.Read().QueryRowContext(ctx, `SELECT number_id, from_phone FROM messages WHERE id = $1`, id).
				Scan(&numberID, &from))
			require.Equal(t, w, [2]string{numberID, from}, id)
		}

		// Another account's messages are never moved.
		b, _, err := s.CreateAccount(ctx, account.NewAccount{Name: "Other"})
		require.NoError(t, err)
		_, err = s.ReplaceNumbers(ctx, b.ID, []account.NumberInput{{Phone: "+18885550199", Kind: account.NumberBoth}})
		require.NoError(t, err)
		var moved int
		require.NoError(t, d.Read().QueryRowContext(ctx,
			`SELECT count(*) FROM messages WHERE from_phone = '+18885550199' OR account_id <> $1`, a.ID).Scan(&moved))
		require.Zero(t, moved)
	})
}

// A number set without a rate takes what carriers allow its kind of
// sender to start with; a short code is a sender number too.
func TestANumbersDefaultRateFollowsItsKind(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		phone string
		want  float64
	}{
		{"+17345550100", 1},  // a geographic long code
		{"+14165550100", 1},  // Toronto
		{"+442071838750", 1}, // London
		{"+18885550100", 3},  // toll-free 888
		{"+18005550100", 3},  // toll-free 800
		{"+18335550100", 3},  // toll-free 833
		{"12345", 100},       // a five-digit short code
		{"123456", 100},      // a six-digit one
		{"+1734555010", 1},   // too short to parse: not toll-free
	} {
		require.Equal(t, tc.want, account.DefaultMPS(tc.phone), tc.phone)
	}

	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		s := account.NewStore(d, clock.System{})
		a, _, err := s.CreateAccount(ctx, account.NewAccount{Name: "Acme"})
		require.NoError(t, err)
		got, err := s.ReplaceNumbers(ctx, a.ID, []account.NumberInput{
			{Phone: "12345", Kind: account.NumberTransactional},
			{Phone: "+18885550100", Kind: account.NumberMarketing}})
		require.NoError(t, err)
		rates := map[string]float64{}
		for _, n := range got {
			rates[n.Phone] = n.MPS
		}
		require.Equal(t, map[string]float64{"12345": 100, "+18885550100": 3}, rates)

		got, err = s.ReplaceNumbers(ctx, a.ID, []account.NumberInput{{Phone: "12345", Kind: account.NumberBoth, MPS: 20}})
		require.NoError(t, err)
		require.Equal(t, 20.0, got[0].MPS, "a rate given is kept")

		for _, bad := range []string{"1234", "1234567", "+1", "12 345", "+0123456789", "١٢٣٤٥"} {
			_, err := s.ReplaceNumbers(ctx, a.ID, []account.NumberInput{{Phone: bad, Kind: account.NumberBoth}})
			perr, ok := problem.As(err)
			require.True(t, ok, "%q: %v", bad, err)
			require.Equal(t, "invalid_phone", perr.Code, bad)
		}
		nums, err := s.Numbers(ctx, a.ID)
		require.NoError(t, err)
		require.Len(t, nums, 1, "a refused set changes nothing")
		require.Equal(t, "12345", nums[0].Phone)
	})
}
