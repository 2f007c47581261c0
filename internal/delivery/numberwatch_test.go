package delivery

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldsms/herald/internal/account"
)

func TestNumberWatchNotesChangedNumbers(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	settled := at.Add(account.NumbersSettle)
	nums := func(pairs ...string) []numberRow { // account, number id, …
		var out []numberRow
		for i := 0; i < len(pairs); i += 2 {
			out = append(out, numberRow{accountID: pairs[i], id: pairs[i+1]})
		}
		return out
	}
	for _, tc := range []struct {
		name         string
		before, then []numberRow
		want         map[string]time.Time
	}{
		{"the first look", nil, nums("a", "n1", "b", "n2"), nil},
		{"nothing changed", nums("a", "n1", "b", "n2"), nums("b", "n2", "a", "n1"), nil},
		{"a number replaced", nums("a", "n1", "b", "n2"), nums("a", "n3", "b", "n2"), map[string]time.Time{"a": settled}},
		{"a number added", nums("a", "n1"), nums("a", "n1", "a", "n3"), map[string]time.Time{"a": settled}},
		{"a number of two gone", nums("a", "n1", "a", "n3"), nums("a", "n1"), map[string]time.Time{"a": settled}},
		{"SMS turned off", nums("a", "n1", "b", "n2"), nums("b", "n2"), nil},
		{"a new account", nums("a", "n1"), nums("a", "n1", "b", "n2"), nil},
	} {
		var w numberWatch
		w.observe(tc.before, at.Add(-time.Second))
		w.due = nil // the first look's, below
		w.observe(tc.then, at)
		if tc.want == nil {
			require.Empty(t, w.due, tc.name)
			continue
		}
		require.Equal(t, tc.want, w.due, tc.name)
	}
}

// A process's first look moves the waiting messages of every account that
// sends, once the numbers have settled: a process that made a message on
// a number just gone may have stopped before any other moved it.
func TestNumberWatchFirstLookMovesEveryAccount(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	var w numberWatch
	w.observe([]numberRow{{accountID: "a", id: "n1"}, {accountID: "a", id: "n2"}, {accountID: "b", id: "n3"}}, at)
	settled := at.Add(account.NumbersSettle)
	require.Equal(t, map[string]time.Time{"a": settled, "b": settled}, w.due)

	var none numberWatch
	none.observe(nil, at)
	require.Empty(t, none.due, "no account sends")
	none.observe([]numberRow{{accountID: "a", id: "n1"}}, at.Add(time.Second))
	require.Empty(t, none.due, "an account that starts sending has nothing waiting for a number it had")
}
