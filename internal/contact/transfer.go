package contact

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/heraldsms/herald/internal/consent"
	"github.com/heraldsms/herald/internal/problem"
)

const (
	// importBatch rows are written per transaction: one commit per row
	// would cap an import at the engine's commit rate.
	importBatch = 500
	// maxReportedErrors bounds the error list of an import; failures past
	// it are still counted.
	maxReportedErrors = 1000
	// exportPage rows are read per query, so an export holds neither the
	// whole list in memory nor a read transaction open for its length.
	exportPage = 1000
)

// ImportResult says what an import did.
type ImportResult struct {
	Created int           `json:"created"`
	Updated int           `json:"updated"`
	Failed  int           `json:"failed"`
	Errors  []ImportError `json:"errors"`
}

// ImportError is one row that was not imported.
type ImportError struct {
	Row     int    `json:"row"`
	Code    string `json:"code"`
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
}

func (r *ImportResult) fail(row int, err error) {
	r.Failed++
	if len(r.Errors) >= maxReportedErrors {
		return
	}
	e := ImportError{Row: row, Code: "invalid_row", Message: err.Error()}
	var rowErr *RowError
	if p, ok := problem.As(err); ok {
		e.Code, e.Field, e.Message = p.Code, p.Field, p.Message
	} else if errors.As(err, &rowErr) {
		e.Code, e.Field, e.Message = rowErr.Code, rowErr.Column, rowErr.Message
	}
	r.Errors = append(r.Errors, e)
}

type importRow struct {
	line int
	in   checked
}

// optimizeAfter is how many created contacts make an import refresh the
// planner's statistics.
const optimizeAfter = 1000

// Import creates or updates contacts from CSV. A bad row is reported and
// skipped; it never stops the good ones. The reader is consumed as a
// stream, so the file's size does not set the memory used.
func (s *Service) Import(ctx context.Context, accountID string, r io.Reader, ch Change) (ImportResult, error) {
	res := ImportResult{Errors: []ImportError{}}
	sc, err := s.scope(ctx, accountID)
	if err != nil {
		return res, err
	}
	rd, err := NewImportReader(r)
	if err != nil {
		return res, importFileProblem(err)
	}
	ch.Source = consent.SourceImport
	batch := make([]importRow, 0, importBatch)
	for {
		row, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		var rowErr *RowError
		if errors.As(err, &rowErr) {
			res.fail(rowErr.Line, rowErr)
			continue
		}
		if err != nil {
			return res, fmt.Errorf("contact: import: read: %w", err)
		}
		in, err := row.input().check(sc.region)
		if err != nil {
			res.fail(row.Line, err)
			continue
		}
		if batch = append(batch, importRow{row.Line, in}); len(batch) == importBatch {
			if err := s.importBatch(ctx, sc, batch, ch, &res); err != nil {
				return res, err
			}
			batch = batch[:0]
		}
	}
	err = s.importBatch(ctx, sc, batch, ch, &res)
	if err == nil && res.Created >= optimizeAfter {
		// So many new rows change the best plans; see db.Optimize.
		err = s.db.Optimize(ctx)
	}
	// Rows refused while reading are reported before rows refused in a
	// batch; a person reads the report in file order.
	sort.SliceStable(res.Errors, func(i, j int) bool { return res.Errors[i].Row < res.Errors[j].Row })
	return res, err
}

// importBatch writes rows in one transaction. Rows refused by a rule are
// reported without touching the transaction. If the database itself fails
// a statement, the batch is rolled back and replayed a row at a time, so one
// row's failure cannot take its neighbours with it.
func (s *Service) importBatch(ctx context.Context, sc scope, rows []importRow, ch Change, res *ImportResult) error {
	if len(rows) == 0 {
		return nil
	}
	var created, updated int
	var refused []importRow
	var refusals []error
	type change struct {
		c       Contact
		records []consent.Record
	}
	var changes []change
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		created, updated, refused, refusals, changes = 0, 0, refused[:0], refusals[:0], changes[:0]
		for _, row := range rows {
			c, isNew, records, err := s.upsertTx(ctx, tx, sc, row.in, ch)
			if err == nil && len(records) > 0 {
				changes = append(changes, change{c, records})
			}
			switch {
			case err == nil && isNew:
				created++
			case err == nil:
				updated++
			case isProblem(err):
				refused, refusals = append(refused, row), append(refusals, err)
			default:
				return err
			}
		}
		return nil
	})
	if err == nil {
		res.Created += created
		res.Updated += updated
		for i, row := range refused {
			res.fail(row.line, refusals[i])
		}
		for _, c := range changes {
			s.consented(ctx, c.c, c.records)
		}
		return nil
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	for _, row := range rows {
		_, isNew, err := s.upsert(ctx, sc, row.in.Input, ch)
		switch {
		case err == nil && isNew:
			res.Created++
		case err == nil:
			res.Updated++
		default:
			res.fail(row.line, err)
		}
	}
	return nil
}

// importFileProblem says why a file could not be read at all.
func importFileProblem(err error) error {
	codes := []struct {
		err  error
		code string
	}{
		{ErrImportEmpty, "empty_file"}, {ErrImportEncoding, "invalid_encoding"},
		{ErrImportNoHeader, "missing_header"}, {ErrImportNoIdentifier, "missing_identity"},
		{ErrImportDuplicateColumn, "duplicate_column"}, {ErrImportBadHeader, "invalid_header"},
	}
	for _, c := range codes {
		if errors.Is(err, c.err) {
			return problem.Invalidf(c.code, "", "%s", strings.TrimPrefix(err.Error(), "contact: import: "))
		}
	}
	var rowErr *RowError
	if errors.As(err, &rowErr) {
		return problem.Invalidf(rowErr.Code, rowErr.Column, "%s", rowErr.Message)
	}
	if isProblem(err) {
		return err
	}
	return fmt.Errorf("contact: import: %w", err)
}

func isProblem(err error) bool { _, ok := problem.As(err); return ok }

// input turns a parsed CSV row into the same Input the API takes.
func (row ImportRow) input() Input {
	in := Input{Attributes: row.Attributes}
	for _, f := range []struct {
		dst **string
		v   string
	}{
		{&in.ExternalID, row.ExternalID}, {&in.Phone, row.Phone}, {&in.FirstName, row.FirstName},
		{&in.LastName, row.LastName}, {&in.Email, row.Email}, {&in.TimeZone, row.TimeZone},
	} {
		if f.v != "" {
			v := f.v
			*f.dst = &v
		}
	}
	if row.SMSPreference != "" {
		in.SMSPreference = &row.SMSPreference
	}
	// An export carries a column per kind; a changed value of either is
	// applied to that kind alone.
	in.kindPreferences = map[consent.Kind]string{}
	if row.TransactionalPreference != "" {
		in.kindPreferences[consent.Transactional] = row.TransactionalPreference
	}
	if row.MarketingPreference != "" {
		in.kindPreferences[consent.Marketing] = row.MarketingPreference
	}
	return in
}

// Export writes an account's contacts matching f as CSV, page by page.
func (s *Service) Export(ctx context.Context, accountID string, f Filter, w io.Writer) error {
	out := NewExportWriter(w)
	f.Limit, f.Cursor = exportPage, ""
	for {
		page, err := list(ctx, s.db.Read(), accountID, f)
		if err != nil {
			return err
		}
		for i := range page.Data {
			if err := out.Write(exportRow(&page.Data[i])); err != nil {
				return fmt.Errorf("contact: export: %w", err)
			}
		}
		if err := out.Flush(); err != nil {
			return fmt.Errorf("contact: export: %w", err)
		}
		if page.NextCursor == "" {
			return nil
		}
		f.Cursor = page.NextCursor
	}
}

func exportRow(c *Contact) ExportRow {
	r := ExportRow{
		ID: c.ID, Phone: c.Phone, PhoneE164: c.E164(), FirstName: c.FirstName, LastName: c.LastName,
		Email: c.Email, TimeZone: c.TimeZone, SMSPreference: string(c.SMSPreference),
		TransactionalPreference: string(c.Preference(consent.Transactional)),
		MarketingPreference:     string(c.Preference(consent.Marketing)),
		PhoneValid:              c.PhoneValid, Country: c.PhoneCountry, CreatedAt: c.CreatedAt, Attributes: c.Attributes,
	}
	if c.ExternalID != nil {
		r.ExternalID = *c.ExternalID
	}
	return r
}
