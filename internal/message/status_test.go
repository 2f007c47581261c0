package message_test

import (
	"context"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldsms/herald/internal/account"
	"github.com/heraldsms/herald/internal/db"
	"github.com/heraldsms/herald/internal/db/dbtest"
	"github.com/heraldsms/herald/internal/message"
	"github.com/heraldsms/herald/internal/problem"
)

// Carrier reports that arrive together are applied together: out of order,
// repeated within the batch and across batches, and ahead of the send
// result they belong to. Each message ends where its life says, logs each
// status once, and is announced once; only the reports that moved a
// message, or wait for one, keep their tokens.
func TestCarrierReportsTogether(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		b := setup(t, d, 100)
		announced := b.inGroup(t, d, 30*time.Millisecond)

		first, second, late := b.send(t), b.send(t), b.send(t)
		claimed, err := b.svc.Claim(b.ctx, *first.NumberID, 10, time.Minute)
		require.NoError(t, err)
		require.Len(t, claimed, 3)
		byID := map[string]*message.Message{}
		for _, m := range claimed {
			byID[m.ID] = m
		}
		sent := func(m *message.Message, carrierID string) message.Outcome {
			return message.Outcome{Message: byID[m.ID], Status: message.Sent, Carrier: "twilio", CarrierID: carrierID}
		}
		require.NoError(t, b.svc.Record(b.ctx, b.acct, []message.Outcome{sent(first, "SM1"), sent(second, "SM2")}))

		reports := []message.CarrierStatus{
			{CarrierID: "SM1", Status: "delivered", Token: "t1-delivered"},
			{CarrierID: "SM1", Status: "sent", Token: "t1-sent"}, // late: never moves it back
			{CarrierID: "SM1", Status: "delivered", Token: "t1-delivered"},
			{CarrierID: "SM2", Status: "undelivered", ErrorCode: "30007", Token: "t2"},
			{CarrierID: "SM2", Status: "undelivered", ErrorCode: "30007", Token: "t2"},
			{CarrierID: "SM3", Status: "delivered", Token: "t3"}, // before its send result
			{CarrierID: "SM404", Status: "delivered", Token: "t404"},
			{CarrierID: "SM1", Status: "queued", Token: "t1-queued"}, // says nothing new
		}
		var wg sync.WaitGroup
		for _, r := range reports {
			wg.Add(1)
			go func() {
				defer wg.Done()
				require.NoError(t, b.svc.ApplyCarrierStatus(b.ctx, b.acct.ID, r))
			}()
		}
		wg.Wait()
		require.NoError(t, b.svc.ApplyCarrierStatus(b.ctx, b.acct.ID, reports[0]), "a repeat in a later batch")
		require.NoError(t, b.svc.Record(b.ctx, b.acct, []message.Outcome{sent(late, "SM3")}))

		want := map[string]struct {
			status  message.Status
			code    string
			history []message.Status
		}{
			first.ID:  {message.Delivered, "", []message.Status{message.Queued, message.Sending, message.Sent, message.Delivered}},
			second.ID: {message.Undelivered, "30007", []message.Status{message.Queued, message.Sending, message.Sent, message.Undelivered}},
			late.ID:   {message.Delivered, "", []message.Status{message.Queued, message.Sending, message.Sent, message.Delivered}},
		}
		for id, w := range want {
			got, err := b.svc.Get(b.ctx, b.acct.ID, id)
			require.NoError(t, err)
			require.Equal(t, w.status, got.Status, id)
			require.Equal(t, w.code, got.ErrorCode, id)
			require.Equal(t, w.history, statuses(got), id)
			require.Equal(t, []message.Status{w.status}, announced.of(id), "announced once, with its outcome")
		}
		require.Equal(t, 1, parked(t, b, d), "only the report for a message Herald never sent waits")
		require.ElementsMatch(t, []string{"t1-delivered", "t2", "t3", "t404"}, tokens(t, b, d),
			"a report that moved nothing, or said nothing new, keeps no token")

		// Carrier filtering is counted and shown, by its code.
		f, err := message.ParseFilter(url.Values{"error_code": {"30007"}}.Get)
		require.NoError(t, err)
		page, err := b.svc.List(b.ctx, b.acct.ID, f)
		require.NoError(t, err)
		require.Len(t, page.Data, 1)
		require.Equal(t, second.ID, page.Data[0].ID)
		counts, err := b.svc.CountOutcomes(b.ctx, b.acct.ID, f)
		require.NoError(t, err)
		require.Equal(t, 1, counts["failed"], "undelivered is a failed outcome: %v", counts)
		require.Equal(t, 1, sum(counts), "%v", counts)
		for _, bad := range []string{"3000x", "12345678901234567", "30007,30008", " 30007"} {
			_, err := message.ParseFilter(url.Values{"error_code": {bad}}.Get)
			p, ok := problem.As(err)
			require.True(t, ok, "%q: %v", bad, err)
			require.Equal(t, "invalid_error_code", p.Code, bad)
		}
	})
}

func sum(counts map[string]int) int {
	n := 0
	for _, c := range counts {
		n += c
	}
	return n
}

// A report parked by a transaction that committed after the send result
// took what was parked is applied by one of the two second passes: the
// report's own unpark, or the send's sweep. Each runs in the reports'
// group commit and leaves the message delivered, its history whole, the
// report gone from the parking and the outcome announced once.
func TestParkedReportsAreTakenByEitherSecondPass(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		b := setup(t, d, 100)
		announced := b.inGroup(t, d, 2*time.Millisecond)

		passes := map[string]func(m *message.Message) error{
			"SM-unpark": func(m *message.Message) error { return message.Unpark(b.svc, b.ctx, b.acct.ID, *m.CarrierID) },
			"SM-sweep":  func(m *message.Message) error { return message.SweepPending(b.svc, b.ctx, []*message.Message{m}) },
		}
		for carrierID, pass := range passes {
			m := b.send(t)
			claimed, err := b.svc.Claim(b.ctx, *m.NumberID, 1, time.Minute)
			require.NoError(t, err)
			require.Len(t, claimed, 1)
			require.NoError(t, b.svc.Record(b.ctx, b.acct, []message.Outcome{
				{Message: claimed[0], Status: message.Sent, Carrier: "twilio", CarrierID: carrierID}}))
			// Parked after the result's own look at the parking.
			_, err = d.Write().ExecContext(b.ctx, `INSERT INTO pending_statuses (carrier_id, account_id, status, error_code, received_at)
				VALUES ($1, $2, 'delivered', '', $3)`, carrierID, b.acct.ID, b.clock.Now())
			require.NoError(t, err)

			sent, err := b.svc.Get(b.ctx, b.acct.ID, m.ID)
			require.NoError(t, err)
			require.NoError(t, pass(sent), carrierID)
			require.NoError(t, pass(sent), "%s: a second run finds nothing left", carrierID)

			got, err := b.svc.Get(b.ctx, b.acct.ID, m.ID)
			require.NoError(t, err)
			require.Equal(t, message.Delivered, got.Status, carrierID)
			require.Equal(t, []message.Status{message.Queued, message.Sending, message.Sent, message.Delivered}, statuses(got), carrierID)
			require.Equal(t, []message.Status{message.Delivered}, announced.of(m.ID), "%s: announced once", carrierID)
		}
		require.Zero(t, parked(t, b, d))
	})
}

// Reports that name their message and arrive while its send's result is
// still to be written wait for that write, then apply: the carrier's
// callbacks often beat the result to the database. When each report
// returns, the message has already moved; nothing is parked; the history
// is whole and the outcome announced once.
func TestReportsNamingTheirMessageWaitForItsResult(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		b := setup(t, d, 100)
		announced := b.inGroup(t, d, 2*time.Millisecond)

		m := b.send(t)
		claimed, err := b.svc.Claim(b.ctx, *m.NumberID, 1, time.Minute)
		require.NoError(t, err)
		require.Len(t, claimed, 1)
		b.svc.Expect(m.ID)

		reports := []message.CarrierStatus{
			{CarrierID: "SM-early", Status: "sent", Token: "t-sent", MessageID: m.ID},
			{CarrierID: "SM-early", Status: "delivered", Token: "t-delivered", MessageID: m.ID},
		}
		seen := make(chan message.Status, len(reports)) // the message's status when each report returned
		for _, r := range reports {
			go func() {
				if err := b.svc.ApplyCarrierStatus(b.ctx, b.acct.ID, r); err != nil {
					t.Error(err)
				}
				got, err := b.svc.Get(b.ctx, b.acct.ID, m.ID)
				if err != nil {
					t.Error(err)
				}
				seen <- got.Status
			}()
		}
		select {
		case s := <-seen:
			t.Fatalf("a report returned before its send's result was written, with the message %s", s)
		case <-time.After(100 * time.Millisecond):
		}

		require.NoError(t, b.svc.Record(b.ctx, b.acct, []message.Outcome{
			{Message: claimed[0], Status: message.Sent, Carrier: "twilio", CarrierID: "SM-early"}}))
		for range reports {
			select {
			case s := <-seen:
				require.Contains(t, []message.Status{message.Sent, message.Delivered}, s)
			case <-time.After(10 * time.Second):
				t.Fatal("a report still waits after its send's result was written")
			}
		}

		got, err := b.svc.Get(b.ctx, b.acct.ID, m.ID)
		require.NoError(t, err)
		require.Equal(t, message.Delivered, got.Status)
		require.Equal(t, []message.Status{message.Queued, message.Sending, message.Sent, message.Delivered}, statuses(got))
		require.Equal(t, []message.Status{message.Delivered}, announced.of(m.ID), "announced once")
		require.Zero(t, parked(t, b, d))
	})
}

// The carrier's "sent" report for a send this process has recorded as
// sent tells Herald nothing: it answers at once, even while the database
// takes no writes, and leaves no trace. A report the process cannot answer
// alone (another account, another carrier id, no message named) takes the
// database's path and waits.
func TestASentReportForARecordedSendAnswersAtOnce(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		b := setup(t, d, 100)
		m := b.send(t)
		claimed, err := b.svc.Claim(b.ctx, *m.NumberID, 1, time.Minute)
		require.NoError(t, err)
		require.Len(t, claimed, 1)
		b.svc.Expect(m.ID)
		require.NoError(t, b.svc.Record(b.ctx, b.acct, []message.Outcome{
			{Message: claimed[0], Status: message.Sent, Carrier: "twilio", CarrierID: "SM-1"}}))

		other, _, err := b.accounts.CreateAccount(b.ctx, account.NewAccount{Name: "Other"})
		require.NoError(t, err)

		release := holdWrites(t, d)
		named := message.CarrierStatus{CarrierID: "SM-1", Status: "sent", Token: "t-sent", MessageID: m.ID}
		ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
		defer cancel()
		require.NoError(t, b.svc.ApplyCarrierStatus(ctx, b.acct.ID, named), "answered while writes wait")
		queued := message.CarrierStatus{CarrierID: "SM-1", Status: "queued", Token: "t-queued", MessageID: m.ID}
		require.NoError(t, b.svc.ApplyCarrierStatus(ctx, b.acct.ID, queued), "a word Herald does not act on")

		// Not for this account, another carrier id, or no message named:
		// each goes to the database, which holds it until writes resume.
		waiting := []struct {
			account string
			cs      message.CarrierStatus
		}{
			{other.ID, message.CarrierStatus{CarrierID: "SM-1", Status: "sent", Token: "t-other", MessageID: m.ID}},
			{b.acct.ID, message.CarrierStatus{CarrierID: "SM-2", Status: "sent", Token: "t-2", MessageID: m.ID}},
			{b.acct.ID, message.CarrierStatus{CarrierID: "SM-1", Status: "sent", Token: "t-unnamed"}},
		}
		done := make(chan error, len(waiting))
		for _, w := range waiting {
			go func() { done <- b.svc.ApplyCarrierStatus(b.ctx, w.account, w.cs) }()
		}
		select {
		case err := <-done:
			t.Fatalf("a report the process cannot answer alone did not wait for the database (%v)", err)
		case <-time.After(200 * time.Millisecond):
		}
		release()
		for range waiting {
			select {
			case err := <-done:
				require.NoError(t, err)
			case <-time.After(10 * time.Second):
				t.Fatal("a report still waits after writes resumed")
			}
		}

		got, err := b.svc.Get(b.ctx, b.acct.ID, m.ID)
		require.NoError(t, err)
		require.Equal(t, []message.Status{message.Queued, message.Sending, message.Sent}, statuses(got))
		// The two reports for carrier ids the account never sent are kept
		// for a send result yet to come, as any such report is.
		require.ElementsMatch(t, []string{"t-other", "t-2"}, tokens(t, b, d), "reports that move nothing keep no token")
		require.Equal(t, 2, parked(t, b, d))
	})
}

// holdWrites keeps every write to messages waiting until release: on
// SQLite by holding the one write connection in a transaction, on
// PostgreSQL by locking the table against reads and writes.
func holdWrites(t *testing.T, d *db.DB) (release func()) {
	t.Helper()
	ctx := context.Background()
	tx, err := d.Write().BeginTx(ctx, nil)
	require.NoError(t, err)
	if d.Engine == db.Postgres {
		_, err = tx.ExecContext(ctx, `LOCK TABLE messages IN ACCESS EXCLUSIVE MODE`)
		require.NoError(t, err)
	}
	var once sync.Once
	release = func() { once.Do(func() { require.NoError(t, tx.Rollback()) }) }
	t.Cleanup(release)
	return release
}

// announcements records the outcomes the service announces, by message.
type announcements struct {
	mu   sync.Mutex
	byID map[string][]message.Status
}

func (a *announcements) of(id string) []message.Status {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.byID[id]
}

// inGroup makes the service commit all its work in one group with the
// given window, as SQLite's writer does, and records what it announces.
func (b *testBundle) inGroup(t *testing.T, d *db.DB, window time.Duration) *announcements {
	ctx, cancel := context.WithCancel(b.ctx)
	t.Cleanup(cancel)
	g := db.NewGroup(ctx, d, window, 64)
	b.svc.SetGroups(message.Groups{Accept: g, Dispatch: g, Reports: g})
	a := &announcements{byID: map[string][]message.Status{}}
	b.svc.OnOutcome = func(_ context.Context, m *message.Message) {
		a.mu.Lock()
		defer a.mu.Unlock()
		a.byID[m.ID] = append(a.byID[m.ID], m.Status)
	}
	return a
}

// statuses is a message's history as the statuses it went through.
func statuses(m *message.Message) []message.Status {
	var out []message.Status
	for _, e := range m.History {
		out = append(out, e.Status)
	}
	return out
}

// tokens lists the carrier reports' idempotency tokens Herald recorded.
func tokens(t *testing.T, b *testBundle, d *db.DB) []string {
	t.Helper()
	rows, err := d.Read().QueryContext(b.ctx, `SELECT token FROM carrier_callbacks`)
	require.NoError(t, err)
	defer rows.Close()
	var out []string
	for rows.Next() {
		var token string
		require.NoError(t, rows.Scan(&token))
		out = append(out, token)
	}
	require.NoError(t, rows.Err())
	return out
}

// parked is how many carrier reports wait in the parking for their
// messages' send results.
func parked(t *testing.T, b *testBundle, d *db.DB) int {
	t.Helper()
	var n int
	if err := d.Read().QueryRowContext(b.ctx, `SELECT count(*) FROM pending_statuses`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
