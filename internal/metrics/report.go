package metrics

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/heraldsms/herald/internal/db"
	"github.com/heraldsms/herald/internal/problem"
)

// Report is an account's SMS dashboard over a range of dates.
type Report struct {
	From       string   `json:"from"`
	To         string   `json:"to"`
	Interval   Interval `json:"interval"`
	TimeZone   string   `json:"time_zone"`
	ProgramID  *string  `json:"program_id"`
	TemplateID *string  `json:"template_id"`
	// Series has one point per bucket, empty ones included.
	Series     []Point       `json:"series"`
	Totals     Totals        `json:"totals"`
	ByTemplate []TemplateRow `json:"by_template"`
	ByProgram  []ProgramRow  `json:"by_program"`
}

// Point is one bucket of the series. Opt-outs are the account's: a consent
// record names no program or template, so filters do not narrow them.
type Point struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	Counts
	OptOuts int64 `json:"opt_outs"`
}

// Totals are the whole range's figures.
type Totals struct {
	Counts
	OptOuts int64 `json:"opt_outs"`
}

// TemplateRow is one template's figures; a nil id gathers messages sent
// without a template (replies to keywords).
type TemplateRow struct {
	TemplateID   *string `json:"template_id"`
	TemplateName string  `json:"template_name"`
	Counts
}

// ProgramRow is one program's figures; a nil id gathers messages sent for
// no program.
type ProgramRow struct {
	ProgramID   *string `json:"program_id"`
	ProgramName string  `json:"program_name"`
	Counts
}

// rangeFilter is the WHERE every dashboard query shares. An empty program
// or template id means any.
const rangeFilter = `
WHERE account_id = $1 AND bucket >= $2 AND bucket < $3
	AND (CAST($4 AS TEXT) = '' OR program_id = $4) AND (CAST($5 AS TEXT) = '' OR template_id = $5)`

const sums = `SUM(created), SUM(sent), SUM(delivered), SUM(undelivered), SUM(failed), SUM(skipped),
	SUM(limit_queued), SUM(cancelled), SUM(segments_sent)`

// The series reads the program rollup (a few rows an hour) unless it is
// for one template, which reads that template's hours through its index:
// the template is named outright, as an OR with the "any" case would hide
// the index from the planner.
const (
	seriesQuery         = `SELECT bucket, ` + sums + `, SUM(opt_outs) FROM ` + hourlyProgram + rangeFilter + ` GROUP BY bucket`
	templateSeriesQuery = `SELECT bucket, ` + sums + `, SUM(opt_outs) FROM ` + hourly + `
WHERE account_id = $1 AND template_id = $5 AND bucket >= $2 AND bucket < $3
	AND (CAST($4 AS TEXT) = '' OR program_id = $4)
GROUP BY bucket`
)

// The tables read whole UTC days from the daily rollup and the hours at
// the range's ends from the hourly one.
const (
	dailyTablesQuery  = `SELECT program_id, template_id, ` + sums + ` FROM ` + daily + rangeFilter + ` GROUP BY program_id, template_id`
	hourlyTablesQuery = `SELECT program_id, template_id, ` + sums + ` FROM ` + hourly + rangeFilter + ` GROUP BY program_id, template_id`
)

// optOutsQuery reads the account's opt-outs when a filter hides the rows
// that hold them.
const optOutsQuery = `SELECT bucket, SUM(opt_outs) FROM ` + hourlyProgram + `
WHERE account_id = $1 AND bucket >= $2 AND bucket < $3 AND program_id = ''
GROUP BY bucket`

// Dashboard answers a query from the rollups. An empty interval is a day.
func (s *Service) Dashboard(ctx context.Context, accountID string, q Query) (*Report, error) {
	if q.Interval == "" {
		q.Interval = Day
	}
	tz, err := s.timeZone(ctx, accountID)
	if err != nil {
		return nil, err
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		loc, tz = time.UTC, "UTC"
	}
	if err := s.checkFilters(ctx, accountID, q); err != nil {
		return nil, err
	}
	sp, err := plan(q, loc, s.clock.Now().In(loc))
	if err != nil {
		return nil, err
	}
	r := &Report{From: sp.from.Format(dateLayout), To: sp.to.Format(dateLayout), Interval: q.Interval, TimeZone: tz,
		ProgramID: optional(q.ProgramID), TemplateID: optional(q.TemplateID)}
	if err := s.series(ctx, accountID, q, sp, r); err != nil {
		return nil, err
	}
	if err := s.tables(ctx, accountID, q, sp, r); err != nil {
		return nil, err
	}
	return r, nil
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func (s *Service) timeZone(ctx context.Context, accountID string) (string, error) {
	var tz string
	err := s.db.Read().QueryRowContext(ctx, `SELECT time_zone FROM accounts WHERE id = $1`, accountID).Scan(&tz)
	if errors.Is(err, sql.ErrNoRows) {
		return "", problem.NotFoundf("no account %q", accountID)
	}
	if err != nil {
		return "", fmt.Errorf("metrics: account: %w", err)
	}
	return tz, nil
}

// checkFilters refuses a program or template that is not the account's.
func (s *Service) checkFilters(ctx context.Context, accountID string, q Query) error {
	checks := []struct{ id, query, code, field, what string }{
		{q.ProgramID, `SELECT 1 FROM programs WHERE account_id = $1 AND id = $2`, "unknown_program", "program_id", "program"},
		{q.TemplateID, `SELECT 1 FROM templates WHERE account_id = $1 AND id = $2`, "unknown_template", "template_id", "template"},
	}
	for _, c := range checks {
		if c.id == "" {
			continue
		}
		var one int
		err := s.db.Read().QueryRowContext(ctx, c.query, accountID, c.id).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return problem.Invalidf(c.code, c.field, "this account has no %s %q", c.what, c.id)
		}
		if err != nil {
			return fmt.Errorf("metrics: check %s: %w", c.what, err)
		}
	}
	return nil
}

// series fills the points and the totals.
func (s *Service) series(ctx context.Context, accountID string, q Query, sp span, r *Report) error {
	r.Series = make([]Point, len(sp.starts))
	for i, start := range sp.starts {
		r.Series[i] = Point{Start: start.In(sp.loc), End: sp.bucketEnd(i).In(sp.loc)}
	}
	query := seriesQuery
	if q.TemplateID != "" {
		query = templateSeriesQuery
	}
	rows, err := s.db.Read().QueryContext(ctx, query, accountID, sp.start, sp.end, q.ProgramID, q.TemplateID)
	if err != nil {
		return fmt.Errorf("metrics: series: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			hour    time.Time
			c       Counts
			optOuts int64
		)
		if err := rows.Scan(append([]any{&hour}, append(c.fields(), &optOuts)...)...); err != nil {
			return fmt.Errorf("metrics: series: %w", err)
		}
		p := &r.Series[sp.bucketOf(hour)]
		p.add(c)
		p.OptOuts += optOuts
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("metrics: series: %w", err)
	}
	if q.ProgramID != "" || q.TemplateID != "" {
		if err := s.optOuts(ctx, accountID, sp, r); err != nil {
			return err
		}
	}
	for i := range r.Series {
		p := &r.Series[i]
		p.rate()
		r.Totals.add(p.Counts)
		r.Totals.OptOuts += p.OptOuts
	}
	r.Totals.rate()
	return nil
}

func (c *Counts) fields() []any {
	return []any{&c.Created, &c.Sent, &c.Delivered, &c.Undelivered, &c.Failed, &c.Skipped, &c.LimitQueued,
		&c.Cancelled, &c.SegmentsSent}
}

func (s *Service) optOuts(ctx context.Context, accountID string, sp span, r *Report) error {
	rows, err := s.db.Read().QueryContext(ctx, optOutsQuery, accountID, sp.start, sp.end)
	if err != nil {
		return fmt.Errorf("metrics: opt-outs: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			hour time.Time
			n    int64
		)
		if err := rows.Scan(&hour, &n); err != nil {
			return fmt.Errorf("metrics: opt-outs: %w", err)
		}
		r.Series[sp.bucketOf(hour)].OptOuts += n
	}
	return rows.Err()
}

// tables fills the by-template and by-program rows, busiest first.
func (s *Service) tables(ctx context.Context, accountID string, q Query, sp span, r *Report) error {
	byTemplate, byProgram := map[string]*Counts{}, map[string]*Counts{}
	for _, part := range sp.parts() {
		query := hourlyTablesQuery
		if part.daily {
			query = dailyTablesQuery
		}
		rows, err := s.db.Read().QueryContext(ctx, query, accountID, part.from, part.to, q.ProgramID, q.TemplateID)
		if err != nil {
			return fmt.Errorf("metrics: tables: %w", err)
		}
		for rows.Next() {
			var (
				programID, templateID string
				c                     Counts
			)
			if err := rows.Scan(append([]any{&programID, &templateID}, c.fields()...)...); err != nil {
				rows.Close()
				return fmt.Errorf("metrics: tables: %w", err)
			}
			if c.empty() {
				continue // the opt-outs' row
			}
			sumInto(byTemplate, templateID, c)
			sumInto(byProgram, programID, c)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("metrics: tables: %w", err)
		}
	}
	templateNames, err := s.names(ctx, `SELECT id, name FROM templates WHERE account_id = $1 AND id IN `, accountID, byTemplate)
	if err != nil {
		return err
	}
	programNames, err := s.names(ctx, `SELECT id, name FROM programs WHERE account_id = $1 AND id IN `, accountID, byProgram)
	if err != nil {
		return err
	}
	r.ByTemplate = []TemplateRow{}
	for _, id := range busiestFirst(byTemplate) {
		r.ByTemplate = append(r.ByTemplate, TemplateRow{TemplateID: optional(id), TemplateName: templateNames[id], Counts: *byTemplate[id]})
	}
	r.ByProgram = []ProgramRow{}
	for _, id := range busiestFirst(byProgram) {
		r.ByProgram = append(r.ByProgram, ProgramRow{ProgramID: optional(id), ProgramName: programNames[id], Counts: *byProgram[id]})
	}
	return nil
}

func sumInto(m map[string]*Counts, id string, c Counts) {
	if m[id] == nil {
		m[id] = &Counts{}
	}
	m[id].add(c)
}

// busiestFirst orders ids by messages created, then by id, and fills each
// one's delivery rate.
func busiestFirst(m map[string]*Counts) []string {
	ids := make([]string, 0, len(m))
	for id, c := range m {
		c.rate()
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool {
		a, b := m[ids[i]], m[ids[j]]
		if a.Created != b.Created {
			return a.Created > b.Created
		}
		return ids[i] < ids[j]
	})
	return ids
}

// names looks up the names of the ids of one table. head is a constant
// query ending in "id IN "; only the ids are bound.
func (s *Service) names(ctx context.Context, head, accountID string, ids map[string]*Counts) (map[string]string, error) {
	args := []any{accountID}
	for id := range ids {
		if id != "" {
			args = append(args, id)
		}
	}
	out := map[string]string{}
	if len(args) == 1 {
		return out, nil
	}
	rows, err := s.db.Read().QueryContext(ctx, head+"("+db.Placeholders(2, len(args)-1)+")", args...)
	if err != nil {
		return nil, fmt.Errorf("metrics: names: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, name string
		if err := rows.Scan(&id, &name); err != nil {
			return nil, fmt.Errorf("metrics: names: %w", err)
		}
		out[id] = name
	}
	return out, rows.Err()
}
