package contact

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/mail"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/heraldsms/herald/internal/storable"
)

// This file reads contact CSV files row by row and writes contact exports.
// It knows nothing of the store: rows are checked for form only, and the
// import service validates them against the account.

// Errors from NewImportReader: the file cannot be imported at all.
var (
	ErrImportEmpty           = errors.New("contact: import: the file is empty")
	ErrImportEncoding        = errors.New(`contact: import: the file is not UTF-8 text (save it as "CSV UTF-8")`)
	ErrImportNoHeader        = errors.New("contact: import: the first row holds data, not column names")
	ErrImportNoIdentifier    = errors.New("contact: import: a phone or external_id column is required")
	ErrImportDuplicateColumn = errors.New("contact: import: two columns hold the same field")
	ErrImportBadHeader       = errors.New("contact: import: bad column name")
)

// Import limits. A cell longer than any field allows is reported with the
// row rather than read into memory unchecked; the store enforces the
// tighter per-field limits.
const (
	importMaxColumns   = 200
	importMaxCellBytes = 8 << 10
	importMaxKeyBytes  = 64
)

// RowError codes.
const (
	RowBadRow            = "bad_row"            // malformed CSV, or a field count unlike the header's
	RowBadEncoding       = "invalid_text"       // a cell is not UTF-8
	RowTooLong           = "too_long"           // a cell over the import limit
	RowMissingIdentifier = "missing_identity"   // neither phone nor external_id
	RowBadPreference     = "invalid_preference" // not opted_in, opted_out, unknown, yes or no
	RowBadEmail          = "invalid_email"      // not a bare address
	RowBadTimeZone       = "invalid_time_zone"  // not an IANA zone name
	RowBadAttributes     = "invalid_attribute"  // the attributes cell is not a JSON object
)

// RowError is a row that cannot be imported. The reader goes on with the
// next row after one.
type RowError struct {
	Line    int    // the row's first line in the file, counting from 1
	Code    string // one of the Row… codes
	Column  string // the header cell at fault, when one is
	Message string
}

func (e *RowError) Error() string {
	return fmt.Sprintf("line %d: %s", e.Line, e.Message)
}

// ImportRow is one parsed CSV row, before validation against the store.
// Values are trimmed, and an apostrophe that ExportWriter put before a
// leading = + - or @ is removed; an empty string means an empty cell.
type ImportRow struct {
	Line       int
	ExternalID string
	Phone      string
	FirstName  string
	LastName   string
	Email      string
	TimeZone   string // an IANA zone name, such as America/Chicago
	// SMSPreference applies to every sender kind; the per-kind ones come
	// from an export's columns. Each is "", "unknown", "opted_in" or
	// "opted_out".
	SMSPreference           string
	TransactionalPreference string
	MarketingPreference     string
	// Attributes holds one string per attribute column with a value, over
	// the members of an "attributes" JSON column. Nil when there are none.
	Attributes map[string]any
}

// importFields maps a normalised column name to the field it fills, named
// as in the export. "" marks a column Herald derives and exports, which is
// ignored when read back.
var importFields = map[string]string{
	"external_id": "external_id", "externalid": "external_id", "id": "external_id",
	"phone": "phone", "phone_number": "phone", "phonenumber": "phone", "mobile": "phone",
	"mobile_number": "phone", "mobile_phone": "phone", "cell": "phone", "cell_phone": "phone",
	"first_name": "first_name", "firstname": "first_name", "given_name": "first_name",
	"last_name": "last_name", "lastname": "last_name", "surname": "last_name", "family_name": "last_name",
	"email": "email", "email_address": "email", "e_mail": "email",
	"time_zone": "time_zone", "timezone": "time_zone", "tz": "time_zone",
	"sms_preference": "sms_preference", "sms_opt_in": "sms_preference", "sms_optin": "sms_preference",
	"transactional_preference": "transactional_preference",
	"marketing_preference":     "marketing_preference",
	"attributes":               "attributes",
	"phone_e164":               "", "phone_valid": "", "phone_country": "", "created_at": "",
}

// attributePrefixes mark a column as an attribute even when its name is a
// standard one ("attributes.email" is an attribute named email).
var attributePrefixes = []string{"attributes.", "attr:"}

type importColumn struct {
	name  string // as in the header
	field string // from importFields; "" for an ignored column or an attribute
	key   string // the attribute's name, for an attribute column
}

// ImportReader reads contacts from a CSV file with a header row, one row at
// a time, so a file of any length is read in constant memory.
type ImportReader struct {
	csv  *csv.Reader
	cols []importColumn
}

// NewImportReader reads the header row of r. Column names are matched
// case-insensitively, with runs of spaces and punctuation read as "_" (so
// "First Name" is first_name), and with aliases: phone_number, mobile, cell
// for phone; id for external_id (unless an external_id column exists, as in
// an export, where id is Herald's own and ignored); firstname, surname and
// the like; timezone and tz for time_zone; sms_opt_in for sms_preference.
// Any other column, and any column named "attributes.<name>" or
// "attr:<name>", is an attribute, named by its normalised name. A column
// with a blank name is ignored. A UTF-8 byte order mark is skipped.
func NewImportReader(r io.Reader) (*ImportReader, error) {
	br := bufio.NewReader(r)
	if bom, _ := br.Peek(3); bytes.HasPrefix(bom, []byte("\xEF\xBB\xBF")) {
		_, _ = br.Discard(3)
	} else if bytes.HasPrefix(bom, []byte("\xFF\xFE")) || bytes.HasPrefix(bom, []byte("\xFE\xFF")) {
		return nil, ErrImportEncoding // UTF-16, as spreadsheets write "Unicode text"
	}
	cr := csv.NewReader(br)
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	cr.ReuseRecord = true
	header, err := cr.Read()
	switch {
	case errors.Is(err, io.EOF):
		return nil, ErrImportEmpty
	case err != nil:
		return nil, fmt.Errorf("contact: import: header: %w", err)
	}
	cols, err := importColumns(header)
	if err != nil {
		return nil, err
	}
	return &ImportReader{csv: cr, cols: cols}, nil
}

// importColumns resolves the header cells to fields and attributes.
func importColumns(header []string) ([]importColumn, error) {
	if len(header) > importMaxColumns {
		return nil, fmt.Errorf("%w: more than %d columns", ErrImportBadHeader, importMaxColumns)
	}
	hasExternalID := false
	for _, h := range header {
		norm := normalizeColumnName(h)
		hasExternalID = hasExternalID || (norm != "id" && importFields[norm] == "external_id")
	}
	cols := make([]importColumn, len(header))
	seen := map[string]string{} // field, or "attribute:" and its key → its column
	for i, h := range header {
		col, err := importColumnFor(h, hasExternalID)
		if err != nil {
			return nil, err
		}
		cols[i] = col
		target := col.field
		if col.key != "" {
			target = "attribute:" + col.key
		}
		if first, dup := seen[target]; dup && target != "" {
			return nil, fmt.Errorf("%w: %q and %q", ErrImportDuplicateColumn, first, h)
		}
		seen[target] = h
	}
	if seen["phone"] == "" && seen["external_id"] == "" {
		if looksLikeData(header) {
			return nil, ErrImportNoHeader
		}
		return nil, ErrImportNoIdentifier
	}
	return cols, nil
}

// importColumnFor resolves one header cell.
func importColumnFor(h string, hasExternalID bool) (importColumn, error) {
	col := importColumn{name: h}
	if !utf8.ValidString(h) {
		return col, ErrImportEncoding
	}
	name := strings.ToLower(strings.TrimSpace(h))
	if name == "" {
		return col, nil
	}
	prefixed := false
	for _, p := range attributePrefixes {
		if rest, ok := strings.CutPrefix(name, p); ok {
			name, prefixed = rest, true
			break
		}
	}
	norm := normalizeColumnName(name)
	if field, ok := importFields[norm]; ok && !prefixed {
		if norm == "id" && hasExternalID {
			field = ""
		}
		col.field = field
		return col, nil
	}
	col.key = norm
	if col.key == "" || len(col.key) > importMaxKeyBytes {
		return col, fmt.Errorf("%w: %q: an attribute name needs 1 to %d ASCII letters or digits",
			ErrImportBadHeader, h, importMaxKeyBytes)
	}
	return col, nil
}

// normalizeColumnName lower-cases s and joins its runs of ASCII letters and
// digits with "_": "First Name" and "first-name" are both "first_name".
func normalizeColumnName(s string) string {
	var b strings.Builder
	gap := false
	for _, r := range strings.ToLower(s) {
		if (r < 'a' || r > 'z') && (r < '0' || r > '9') {
			gap = true
			continue
		}
		if gap && b.Len() > 0 {
			b.WriteByte('_')
		}
		b.WriteRune(r)
		gap = false
	}
	return b.String()
}

// looksLikeData reports whether a header row has a cell that looks like a
// phone number (seven digits or more and no letters): the header row was
// left out.
func looksLikeData(header []string) bool {
	for _, h := range header {
		digits := 0
		for _, r := range h {
			if r >= '0' && r <= '9' {
				digits++
			}
		}
		if digits >= 7 && strings.IndexFunc(h, unicode.IsLetter) < 0 {
			return true
		}
	}
	return false
}

// Next returns the next row, io.EOF after the last, or a *RowError for a row
// that cannot be read, after which it can be called again. Rows whose cells
// are all blank are skipped. Any other error ends the file.
func (r *ImportReader) Next() (ImportRow, error) {
	for {
		rec, err := r.csv.Read()
		if errors.Is(err, io.EOF) {
			return ImportRow{}, io.EOF
		}
		if pe := (*csv.ParseError)(nil); errors.As(err, &pe) {
			return ImportRow{}, &RowError{Line: max(pe.StartLine, 2), Code: RowBadRow,
				Message: "the row is not well-formed CSV: " + pe.Err.Error()}
		}
		if err != nil {
			return ImportRow{}, fmt.Errorf("contact: import: %w", err)
		}
		line, _ := r.csv.FieldPos(0)
		row, ok, err := r.row(rec, max(line, 2))
		if err != nil || ok {
			return row, err
		}
	}
}

// row turns a record into an ImportRow; ok is false for a blank row.
func (r *ImportReader) row(rec []string, line int) (row ImportRow, ok bool, err error) {
	fail := func(code, column, format string, args ...any) (ImportRow, bool, error) {
		return ImportRow{}, false, &RowError{Line: line, Code: code, Column: column, Message: fmt.Sprintf(format, args...)}
	}
	lastValue := -1
	for i, v := range rec {
		if strings.TrimSpace(v) != "" {
			lastValue = i
		}
	}
	switch {
	case lastValue < 0:
		return ImportRow{}, false, nil
	case len(rec) < len(r.cols) || lastValue >= len(r.cols): // blank cells past the last column are fine
		return fail(RowBadRow, "", "the row has %d cells but the header has %d", len(rec), len(r.cols))
	}
	row.Line = line
	for i, col := range r.cols {
		v := unguardCell(rec[i])
		switch {
		case !utf8.ValidString(v):
			return fail(RowBadEncoding, col.name, `%s is not UTF-8 text (save the file as "CSV UTF-8")`, col.name)
		case !storable.Text(v):
			return fail(RowBadEncoding, col.name, "%s %s", col.name, storable.Why(v))
		case len(v) > importMaxCellBytes:
			return fail(RowTooLong, col.name, "%s is longer than %d bytes", col.name, importMaxCellBytes)
		}
		if code, msg := row.set(col, strings.TrimSpace(v)); code != "" {
			return fail(code, col.name, "%s: %s", col.name, msg)
		}
	}
	if row.Phone == "" && row.ExternalID == "" {
		return fail(RowMissingIdentifier, "", "the row has neither a phone number nor an external id")
	}
	return row, true, nil
}

// set stores one trimmed cell in the row, or returns a RowError code and
// message.
func (row *ImportRow) set(col importColumn, v string) (code, msg string) {
	switch col.field {
	case "external_id":
		row.ExternalID = v
	case "phone":
		row.Phone = v
	case "first_name":
		row.FirstName = v
	case "last_name":
		row.LastName = v
	case "email":
		if addr, err := mail.ParseAddress(v); v != "" && (err != nil || addr.Address != v) {
			return RowBadEmail, "not an address like name@example.com"
		}
		row.Email = v
	case "time_zone":
		if v != "" && !validTimeZone(v) {
			return RowBadTimeZone, fmt.Sprintf("%q is not an IANA time zone such as America/Chicago", v)
		}
		row.TimeZone = v
	case "sms_preference":
		return setPreference(&row.SMSPreference, v)
	case "transactional_preference":
		return setPreference(&row.TransactionalPreference, v)
	case "marketing_preference":
		return setPreference(&row.MarketingPreference, v)
	case "attributes":
		return row.setAttributesJSON(v)
	case "":
		if col.key != "" && v != "" {
			row.setAttribute(col.key, v)
		}
	}
	return "", ""
}

func setPreference(dst *string, v string) (code, msg string) {
	p, ok := importPreferences[normalizeColumnName(v)]
	if !ok {
		return RowBadPreference, fmt.Sprintf("%q is not opted_in, opted_out, unknown, yes or no", v)
	}
	*dst = p
	return "", ""
}

// importPreferences maps a normalised preference cell to a preference. The
// yes/no forms serve opt-in columns ("SMS opt-in: yes").
var importPreferences = map[string]string{
	"": "", "unknown": "unknown", "opted_in": "opted_in", "opted_out": "opted_out",
	"yes": "opted_in", "y": "opted_in", "true": "opted_in", "1": "opted_in",
	"no": "opted_out", "n": "opted_out", "false": "opted_out", "0": "opted_out",
}

func (row *ImportRow) setAttribute(key string, v any) {
	if row.Attributes == nil {
		row.Attributes = map[string]any{}
	}
	row.Attributes[key] = v
}

// setAttributesJSON reads an export's attributes column. Attribute columns
// win over its members, whichever comes first.
func (row *ImportRow) setAttributesJSON(v string) (code, msg string) {
	if v == "" {
		return "", ""
	}
	dec := json.NewDecoder(strings.NewReader(v))
	dec.UseNumber() // keep 12345678901234567890 as written
	var attrs map[string]any
	if err := dec.Decode(&attrs); err != nil || attrs == nil || dec.More() {
		return RowBadAttributes, `not a JSON object like {"tier":"gold"}`
	}
	if !storable.JSON(attrs) {
		return RowBadEncoding, `a member holds a NUL character (\u0000), which text may not contain`
	}
	for k, val := range attrs {
		if _, set := row.Attributes[k]; !set {
			row.setAttribute(k, val)
		}
	}
	return "", ""
}

// exportHeader names the export's columns. Read back by NewImportReader, the
// derived ones (phone_e164, phone_valid, phone_country, created_at) and id
// are ignored and the rest update the contact.
var exportHeader = []string{
	"id", "external_id", "phone", "phone_e164", "phone_valid", "phone_country",
	"first_name", "last_name", "email", "time_zone", "sms_preference",
	"transactional_preference", "marketing_preference", "created_at", "attributes",
}

// ExportRow is one contact as exported.
type ExportRow struct {
	ID, ExternalID, Phone, PhoneE164, FirstName, LastName, Email, TimeZone string
	SMSPreference, TransactionalPreference, MarketingPreference            string
	PhoneValid                                                             bool
	Country                                                                string
	CreatedAt                                                              time.Time
	// Attributes are written as one JSON object with sorted keys.
	Attributes map[string]any
}

// ExportWriter writes contacts as CSV (RFC 4180, CRLF line ends), header
// first, guarding every cell against formula injection (see guardCell).
type ExportWriter struct {
	csv *csv.Writer
	rec []string
}

// NewExportWriter returns a writer of contacts to w that has written the
// header row into its buffer. Call Flush at the end.
func NewExportWriter(w io.Writer) *ExportWriter {
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	_ = cw.Write(exportHeader) // an error here sticks and comes back from Write or Flush
	return &ExportWriter{csv: cw, rec: make([]string, 0, len(exportHeader))}
}

// Write writes one contact.
func (e *ExportWriter) Write(c ExportRow) error {
	attrs := ""
	if len(c.Attributes) > 0 {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(c.Attributes); err != nil { // maps encode with sorted keys
			return fmt.Errorf("contact: export %s: attributes: %w", c.ID, err)
		}
		attrs = strings.TrimSuffix(buf.String(), "\n")
	}
	created := ""
	if !c.CreatedAt.IsZero() {
		created = c.CreatedAt.UTC().Format(time.RFC3339)
	}
	e.rec = append(e.rec[:0], c.ID, c.ExternalID, c.Phone, c.PhoneE164, strconv.FormatBool(c.PhoneValid), c.Country,
		c.FirstName, c.LastName, c.Email, c.TimeZone, c.SMSPreference,
		c.TransactionalPreference, c.MarketingPreference, created, attrs)
	for i, v := range e.rec {
		e.rec[i] = guardCell(v)
	}
	if err := e.csv.Write(e.rec); err != nil {
		return fmt.Errorf("contact: export: %w", err)
	}
	return nil
}

// Flush writes any buffered data to the underlying writer.
func (e *ExportWriter) Flush() error {
	e.csv.Flush()
	if err := e.csv.Error(); err != nil {
		return fmt.Errorf("contact: export: %w", err)
	}
	return nil
}

// guardCell defuses a cell a spreadsheet would run as a formula: one that
// starts with = + - @ (ASCII or fullwidth), a tab or a carriage return gets
// a leading apostrophe, which spreadsheets read as "this is text". A cell
// that is only a signed decimal number ("+17346263333", "-12.5") is left
// alone: with no operator, name or reference after the sign, a spreadsheet
// can only read it as a number, so E.164 numbers export unchanged.
func guardCell(v string) string {
	r, _ := utf8.DecodeRuneInString(v)
	if !isFormulaStart(r) || isSignedNumber(v) {
		return v
	}
	return "'" + v
}

// unguardCell undoes guardCell, so an exported file imports as it was.
func unguardCell(v string) string {
	if len(v) > 1 && v[0] == '\'' {
		if r, _ := utf8.DecodeRuneInString(v[1:]); isFormulaStart(r) {
			return v[1:]
		}
	}
	return v
}

func isFormulaStart(r rune) bool {
	return strings.ContainsRune("=+-@\t\r＝＋－＠", r)
}

// isSignedNumber reports whether v is an optional sign, ASCII digits and at
// most one decimal point between digits.
func isSignedNumber(v string) bool {
	if v != "" && (v[0] == '+' || v[0] == '-') {
		v = v[1:]
	}
	whole, frac, hasPoint := strings.Cut(v, ".")
	return allDigits(whole) && (!hasPoint || allDigits(frac))
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
