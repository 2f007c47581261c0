package delivery

import (
	"context"
	"maps"
	"time"

	"github.com/heraldsms/herald/internal/account"
)

// numberWatch notices a change of an account's sender numbers. Setting
// the numbers moves the messages waiting for the old ones at once, but
// another process may still hand out a number it cached for a moment
// after (account.NumbersSettle), and a message made on a number that is
// gone would wait for a worker that never comes. Every dispatcher that
// sees the numbers change moves that account's waiting messages again
// once the caches have settled; the move is the same whichever process
// makes it.
//
// A process's first look moves every sending account's messages: had
// every process stopped within the settling time of a change, nothing
// would otherwise ever move a message made on the number that went.
type numberWatch struct {
	looked bool
	seen   map[string]map[string]bool // account → its number ids at the last look
	due    map[string]time.Time       // account → when to move its messages again
}

// observe takes the numbers of this look and notes the accounts whose
// numbers changed since the last: one gone, or one added (a number of
// kind both split in two, whose marketing half others may not know yet).
// At the first look it notes them all.
func (w *numberWatch) observe(nums []numberRow, now time.Time) {
	current := map[string]map[string]bool{}
	for _, n := range nums {
		if current[n.accountID] == nil {
			current[n.accountID] = map[string]bool{}
		}
		current[n.accountID][n.id] = true
	}
	if !w.looked {
		w.looked = true
		w.seen = current
		for acct := range current {
			w.moveAt(acct, now.Add(account.NumbersSettle))
		}
		return
	}
	for acct, ids := range w.seen {
		cur, sending := current[acct]
		if !sending {
			continue // SMS turned off: nothing is made or sent
		}
		if !maps.Equal(ids, cur) {
			w.moveAt(acct, now.Add(account.NumbersSettle))
		}
	}
	w.seen = current
}

func (w *numberWatch) moveAt(acct string, at time.Time) {
	if w.due == nil {
		w.due = map[string]time.Time{}
	}
	w.due[acct] = at
}

// movesPerLook bounds the moves of one look, so that a first look at many
// accounts does not hold up the renewal of the leases behind it.
const movesPerLook = 50

// moveDue moves the waiting messages of each account whose time has come,
// up to movesPerLook of them; the rest, and one that fails, wait for the
// next look.
func (d *Dispatcher) moveDue(ctx context.Context, now time.Time) {
	moved := 0
	for acct, at := range d.watch.due {
		if now.Before(at) {
			continue
		}
		if moved == movesPerLook {
			return
		}
		moved++
		if err := d.accounts.MoveWaitingMessages(ctx, acct); err != nil {
			if ctx.Err() == nil {
				d.log.Error("moving messages to the account's numbers failed", "err", err, "account_id", acct)
			}
			continue
		}
		delete(d.watch.due, acct)
	}
}
