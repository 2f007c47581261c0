package account

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"slices"
	"time"

	"github.com/heraldsms/herald/internal/db"
	"github.com/heraldsms/herald/internal/id"
	"github.com/heraldsms/herald/internal/phone"
	"github.com/heraldsms/herald/internal/problem"
)

// NumberKind says what a sender number sends.
type NumberKind string

// The kinds of sender number. An account has one number of kind "both", or
// two: one "transactional" and one "marketing".
const (
	NumberBoth          NumberKind = "both"
	NumberTransactional NumberKind = "transactional"
	NumberMarketing     NumberKind = "marketing"
)

// Number is a sender number of an account.
type Number struct {
	ID        string     `json:"id"`
	AccountID string     `json:"-"`
	Phone     string     `json:"phone"`
	Kind      NumberKind `json:"kind"`
	MPS       float64    `json:"mps"`
	CreatedAt time.Time  `json:"created_at"`
}

const countSplitKinds = `
SELECT count(DISTINCT kind) FROM sender_numbers
WHERE account_id = $1 AND kind IN ('transactional', 'marketing')`

// SplitConsent reports whether the account keeps consent per sender kind,
// which it does when it has a transactional and a marketing number. With a
// single number, opting in or out is all-or-nothing.
func (s *Store) SplitConsent(ctx context.Context, accountID string) (bool, error) {
	var n int
	if err := s.db.Read().QueryRowContext(ctx, countSplitKinds, accountID).Scan(&n); err != nil {
		return false, wrap("split consent", err)
	}
	return n == 2, nil
}

// NumberInput is a sender number as the operator sets it.
type NumberInput struct {
	Phone string     `json:"phone"`
	Kind  NumberKind `json:"kind"`
	MPS   float64    `json:"mps"`
}

// checkNumbers enforces the shapes an account's numbers may take: one
// number for both kinds, or one transactional and one marketing.
func checkNumbers(in []NumberInput) error {
	kinds := map[NumberKind]int{}
	for i, n := range in {
		field := fmt.Sprintf("numbers[%d]", i)
		switch n.Kind {
		case NumberBoth, NumberTransactional, NumberMarketing:
		default:
			return problem.Invalidf("invalid_number_kind", field+".kind", "kind must be both, transactional or marketing")
		}
		if !e164.MatchString(n.Phone) && !shortCode.MatchString(n.Phone) {
			return problem.Invalidf("invalid_phone", field+".phone",
				"a sender number must be in +[country code][number] form, or a short code of 5 or 6 digits")
		}
		if n.MPS < 0 || n.MPS > 10000 {
			return problem.Invalidf("invalid_mps", field+".mps",
				"mps must be between 0 (the number's default: 1, toll-free 3, short code 100) and 10000")
		}
		kinds[n.Kind]++
	}
	switch {
	case len(in) == 0:
		return nil
	case len(in) == 1 && kinds[NumberBoth] == 1:
		return nil
	case len(in) == 2 && kinds[NumberTransactional] == 1 && kinds[NumberMarketing] == 1:
		return nil
	}
	return problem.Invalidf("invalid_numbers", "numbers",
		"an account has one number of kind both, or one transactional and one marketing number")
}

var (
	e164      = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)
	shortCode = regexp.MustCompile(`^[0-9]{5,6}$`)
)

// DefaultMPS is a sender number's rate when the operator gives none: what
// carriers allow each kind of sender to start with. A short code sends 100
// messages a second, a toll-free number 3, any other number 1.
func DefaultMPS(number string) float64 {
	switch {
	case shortCode.MatchString(number):
		return 100
	case phone.Parse(number, "US").Type == phone.TollFree:
		return 3
	}
	return 1
}

// ReplaceNumbers sets an account's sender numbers, all at once.
func (s *Store) ReplaceNumbers(ctx context.Context, accountID string, in []NumberInput) ([]Number, error) {
	if err := checkNumbers(in); err != nil {
		return nil, err
	}
	var out []Number
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		var err error
		out, err = replaceNumbers(ctx, tx, accountID, in, s.clock.Now())
		return err
	})
	s.changed(accountID)
	return out, err
}

// replaceNumbers sets an account's sender numbers in tx; in is checked.
// A number whose phone stays keeps its id (its worker, its rate and its
// lease go on), and every message not yet sent moves to the number that
// now sends its kind: left on a number that is gone, it would wait for a
// worker that never comes.
func replaceNumbers(ctx context.Context, tx *sql.Tx, accountID string, in []NumberInput, now time.Time) ([]Number, error) {
	had, err := numbersIn(ctx, tx, accountID)
	if err != nil {
		return nil, err
	}
	kept := map[string]string{} // phone → id
	for _, n := range had {
		kept[n.Phone] = n.ID
	}
	for phone, numID := range kept {
		if slices.ContainsFunc(in, func(n NumberInput) bool { return n.Phone == phone }) {
			continue
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM sender_numbers WHERE id = $1`, numID); err != nil {
			return nil, wrap("replace numbers", err)
		}
	}
	out := make([]Number, 0, len(in))
	for i, n := range in {
		if n.MPS == 0 {
			n.MPS = DefaultMPS(n.Phone)
		}
		num := Number{ID: kept[n.Phone], AccountID: accountID, Phone: n.Phone, Kind: n.Kind, MPS: n.MPS, CreatedAt: now}
		if num.ID != "" {
			if err := tx.QueryRowContext(ctx, `UPDATE sender_numbers SET kind = $2, mps = $3 WHERE id = $1
				RETURNING created_at`, num.ID, string(num.Kind), num.MPS).Scan(&num.CreatedAt); err != nil {
				return nil, wrap("update number", err)
			}
			num.CreatedAt = num.CreatedAt.UTC()
		} else {
			num.ID = id.New(id.Number)
			_, err := tx.ExecContext(ctx, `INSERT INTO sender_numbers (id, account_id, phone, kind, mps, created_at)
				VALUES ($1, $2, $3, $4, $5, $6)`, num.ID, accountID, num.Phone, string(num.Kind), num.MPS, now)
			if db.IsUniqueViolation(err) {
				return nil, problem.Conflictf("number_taken", fmt.Sprintf("numbers[%d].phone", i), "%s already sends for another account", n.Phone)
			}
			if err != nil {
				return nil, wrap("insert number", err)
			}
		}
		out = append(out, num)
	}
	if err := moveWaitingMessages(ctx, tx, accountID, out); err != nil {
		return nil, err
	}
	return out, nil
}

// NumbersSettle is how long after a change of an account's numbers every
// process has stopped handing out the numbers it cached (see cacheFor): a
// message made meanwhile by another process may name a number that is gone.
const NumbersSettle = cacheFor + time.Second

// MoveWaitingMessages moves the account's messages still to be sent to
// the numbers it has now (see moveWaitingMessages). Setting the numbers
// does it at once; run again once NumbersSettle has passed, it also moves
// what other processes made meanwhile on numbers they still had cached.
func (s *Store) MoveWaitingMessages(ctx context.Context, accountID string) error {
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		nums, err := numbersIn(ctx, tx, accountID)
		if err != nil {
			return err
		}
		return moveWaitingMessages(ctx, tx, accountID, nums)
	})
}

// numbersIn reads the account's numbers in tx, past the cache: their ids,
// phones and kinds.
func numbersIn(ctx context.Context, tx *sql.Tx, accountID string) ([]Number, error) {
	rows, err := tx.QueryContext(ctx, `SELECT id, phone, kind FROM sender_numbers WHERE account_id = $1`, accountID)
	if err != nil {
		return nil, wrap("numbers", err)
	}
	defer rows.Close()
	var nums []Number
	for rows.Next() {
		n := Number{AccountID: accountID}
		if err := rows.Scan(&n.ID, &n.Phone, &n.Kind); err != nil {
			return nil, wrap("numbers", err)
		}
		nums = append(nums, n)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap("numbers", err)
	}
	return nums, nil
}

// moveWaitingMessages puts each message of the account that is still to
// be sent on the number that sends its kind, as a new message would be:
// marketing on the marketing number, every other kind on the
// transactional one, a number of kind both taking either. A message being
// sent moves too, so that a retry is claimed by a number the account has;
// its phone stays until the attempt on its way is recorded with the phone
// it went from.
func moveWaitingMessages(ctx context.Context, tx *sql.Tx, accountID string, nums []Number) error {
	for _, n := range nums {
		var which string
		switch n.Kind {
		case NumberMarketing:
			which = "kind = 'marketing'"
		case NumberTransactional:
			which = "kind <> 'marketing'"
		default:
			which = "1 = 1"
		}
		_, err := tx.ExecContext(ctx, `UPDATE messages SET number_id = $2,
			from_phone = CASE WHEN status = 'sending' THEN from_phone ELSE $3 END
			WHERE account_id = $1 AND status IN ('queued', 'rate_limited', 'scheduled', 'limit_queued', 'sending')
			AND `+which+` AND (number_id IS NULL OR number_id <> $2 OR (from_phone <> $3 AND status <> 'sending'))`,
			accountID, n.ID, n.Phone)
		if err != nil {
			return wrap("move waiting messages", err)
		}
	}
	return nil
}

// Numbers returns an account's sender numbers.
func (s *Store) Numbers(ctx context.Context, accountID string) ([]Number, error) {
	if nums, ok := s.numbers.Get(accountID); ok {
		return slices.Clone(nums), nil
	}
	began := s.numbers.Now()
	rows, err := s.db.Read().QueryContext(ctx,
		`SELECT id, account_id, phone, kind, mps, created_at FROM sender_numbers WHERE account_id = $1 ORDER BY kind, id`, accountID)
	if err != nil {
		return nil, wrap("numbers", err)
	}
	defer rows.Close()
	out := []Number{}
	for rows.Next() {
		var n Number
		if err := rows.Scan(&n.ID, &n.AccountID, &n.Phone, &n.Kind, &n.MPS, &n.CreatedAt); err != nil {
			return nil, wrap("numbers", err)
		}
		out = append(out, n)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap("numbers", err)
	}
	s.numbers.Put(accountID, slices.Clone(out), began)
	return out, nil
}
