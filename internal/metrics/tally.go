package metrics

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"time"

	"github.com/heraldsms/herald/internal/db"
)

// The rollups, one table per grain; each change is added to all three.
// Hourly rows by template are the finest. Hourly rows by program (template
// ”) make the series cheap: five programs, not fifty templates, per hour.
// Daily rows (UTC days) make the tables cheap over long ranges; the hours
// at a range's ends that are not whole UTC days come from the hourly rows.
const (
	hourly        = "sms_metrics_hourly"
	hourlyProgram = "sms_metrics_program_hourly"
	daily         = "sms_metrics_daily"
)

// Change is one counted thing: a message made ("created"), a message
// reaching a status the dashboard counts, or an opt-out ("opted_out",
// with no program or template).
type Change struct {
	AccountID, ProgramID, TemplateID string
	What                             string
	At                               time.Time
	// Segments are the message's; they count when it is sent.
	Segments int64
}

type rollupKey struct {
	table     string
	accountID string
	bucket    time.Time
	programID string
	tmplID    string
}

type rollupValue struct {
	Counts
	optOuts int64
}

// Tally sums changes per rollup row, to be added to the tables in one go.
type Tally struct{ rows map[rollupKey]*rollupValue }

// NewTally returns an empty Tally.
func NewTally() *Tally { return &Tally{rows: map[rollupKey]*rollupValue{}} }

// Add counts a change in each of the rollups.
func (t *Tally) Add(c Change) {
	hour := c.At.UTC().Truncate(time.Hour)
	day := time.Date(hour.Year(), hour.Month(), hour.Day(), 0, 0, 0, 0, time.UTC)
	for _, k := range []rollupKey{
		{hourly, c.AccountID, hour, c.ProgramID, c.TemplateID},
		{hourlyProgram, c.AccountID, hour, c.ProgramID, ""},
		{daily, c.AccountID, day, c.ProgramID, c.TemplateID},
	} {
		v := t.row(k)
		if c.What == "opted_out" {
			v.optOuts++
		} else {
			v.bump(c.What, c.Segments)
		}
	}
}

// Merge adds another tally's counts to this one.
func (t *Tally) Merge(o *Tally) {
	for k, ov := range o.rows {
		v := t.row(k)
		v.Counts.add(ov.Counts)
		v.optOuts += ov.optOuts
	}
}

// row returns the counts of one rollup row, made empty on first use.
func (t *Tally) row(k rollupKey) *rollupValue {
	v := t.rows[k]
	if v == nil {
		v = &rollupValue{}
		t.rows[k] = v
	}
	return v
}

var rollupColumns = []string{"account_id", "bucket", "program_id", "template_id", "created", "sent", "delivered",
	"undelivered", "failed", "skipped", "limit_queued", "cancelled", "segments_sent", "opt_outs"}

// upsert adds a batch's counts to the rows already there, per table; the
// three tables share their columns.
var upsert = map[string]string{hourly: addTo(hourly), hourlyProgram: addTo(hourlyProgram), daily: addTo(daily)}

func addTo(table string) string {
	set := "ON CONFLICT (account_id, bucket, program_id, template_id) DO UPDATE SET "
	for i, c := range rollupColumns[4:] {
		if i > 0 {
			set += ", "
		}
		set += c + " = " + table + "." + c + " + excluded." + c
	}
	return set
}

// addChunk is the rows of one upsert. Statements of one size are prepared
// once per connection and reused; and the SQLite driver looks each bound
// parameter's name up in a list, so binding costs the square of the
// parameters in a statement: a few hundred per statement is cheapest.
const addChunk = 32

// Write adds the tally to the rollups inside tx. Rows go in key order, so
// concurrent writers of the same rows lock them in one order.
func (t *Tally) Write(ctx context.Context, tx *sql.Tx) error {
	keys := make([]rollupKey, 0, len(t.rows))
	for k := range t.rows {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].less(keys[j]) })
	for start := 0; start < len(keys); {
		table := keys[start].table
		var rows [][]any
		for ; start < len(keys) && keys[start].table == table && len(rows) < addChunk; start++ {
			k := keys[start]
			v := t.rows[k]
			rows = append(rows, []any{k.accountID, k.bucket, k.programID, k.tmplID, v.Created, v.Sent, v.Delivered,
				v.Undelivered, v.Failed, v.Skipped, v.LimitQueued, v.Cancelled, v.SegmentsSent, v.optOuts})
		}
		if err := db.InsertRows(ctx, tx, table, rollupColumns, rows, upsert[table]); err != nil {
			return fmt.Errorf("metrics: add to %s: %w", table, err)
		}
	}
	return nil
}

func (a rollupKey) less(b rollupKey) bool {
	switch {
	case a.table != b.table:
		return a.table < b.table
	case a.accountID != b.accountID:
		return a.accountID < b.accountID
	case !a.bucket.Equal(b.bucket):
		return a.bucket.Before(b.bucket)
	case a.programID != b.programID:
		return a.programID < b.programID
	}
	return a.tmplID < b.tmplID
}

// Len is how many rollup rows the tally adds to.
func (t *Tally) Len() int { return len(t.rows) }
