package contact

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// csvReadAll drains an import: its rows, and its row errors as "line:code".
func csvReadAll(t testing.TB, r *ImportReader, maxCalls int) (rows []ImportRow, rowErrs []string) {
	t.Helper()
	for range maxCalls {
		row, err := r.Next()
		if errors.Is(err, io.EOF) {
			return rows, rowErrs
		}
		var re *RowError
		if errors.As(err, &re) {
			rowErrs = append(rowErrs, fmt.Sprintf("%d:%s", re.Line, re.Code))
			continue
		}
		require.NoError(t, err)
		rows = append(rows, row)
	}
	t.Fatalf("no io.EOF after %d calls to Next", maxCalls)
	return nil, nil
}

func TestNewImportReaderErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in string
		want     error
	}{
		{"empty", "", ErrImportEmpty},
		{"only a BOM", "\uFEFF", ErrImportEmpty},
		{"only empty lines", "\n\r\n\n", ErrImportEmpty},
		{"UTF-16 little endian", "\xFF\xFEp\x00h\x00o\x00n\x00e\x00", ErrImportEncoding},
		{"Latin-1 header", "phone,Pr\xE9nom\n", ErrImportEncoding},
		{"header left out", "(734) 626-3333,Ann\n", ErrImportNoHeader},
		{"no phone or id column", "first_name,last_name\nAnn,Arbor\n", ErrImportNoIdentifier},
		{"id column prefixed as attribute", "attr:phone,name\n", ErrImportNoIdentifier},
		{"same name twice", "phone,first_name,Phone\n", ErrImportDuplicateColumn},
		{"two phone aliases", "Phone Number,Mobile\n", ErrImportDuplicateColumn},
		{"opt-in and preference", "phone,sms_preference,SMS Opt-In\n", ErrImportDuplicateColumn},
		{"two external id aliases", "ExternalID,external_id\n", ErrImportDuplicateColumn},
		{"two time zone aliases", "phone,TZ,Time Zone\n", ErrImportDuplicateColumn},
		{"same attribute twice", "phone,Loyalty Tier,loyalty-tier\n", ErrImportDuplicateColumn},
		{"prefixed attribute twice", "phone,attr:tier,attributes.Tier\n", ErrImportDuplicateColumn},
		{"attribute name without ASCII", "phone,等级\n", ErrImportBadHeader},
		{"attribute name of punctuation", "phone,???\n", ErrImportBadHeader},
		{"attribute name too long", "phone," + strings.Repeat("a", 65) + "\n", ErrImportBadHeader},
		{"too many columns", "phone" + strings.Repeat(",c", 200) + "\n", ErrImportBadHeader},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, err := NewImportReader(strings.NewReader(tt.in))
			require.ErrorIs(t, err, tt.want)
			require.Nil(t, r)
		})
	}
	t.Run("malformed header", func(t *testing.T) {
		t.Parallel()
		_, err := NewImportReader(strings.NewReader("phone,na\"me\n"))
		var pe *csv.ParseError
		require.ErrorAs(t, err, &pe)
	})
}

func TestImportReaderRows(t *testing.T) {
	t.Parallel()
	type row = ImportRow
	type attrs = map[string]any
	tests := []struct {
		name, in string
		rows     []ImportRow
		errs     []string
	}{
		{"minimal", "phone\n7346263333\n", []row{{Line: 2, Phone: "7346263333"}}, nil},
		{
			"aliases, case and spacing", "Phone Number, First Name ,Last-Name,E-mail,External ID\n734 626 3333 , Ann,Arbor,ann@example.com,c1\n",
			[]row{{Line: 2, Phone: "734 626 3333", FirstName: "Ann", LastName: "Arbor", Email: "ann@example.com", ExternalID: "c1"}}, nil,
		},
		{"BOM and CRLF", "\uFEFFphone,first_name\r\n+17346263333,Ann\r\n", []row{{Line: 2, Phone: "+17346263333", FirstName: "Ann"}}, nil},
		{
			"quoted comma and quote", "phone,last_name\n1,\"Smith, Jr.\"\n2,\"O\"\"Brien\"\n",
			[]row{{Line: 2, Phone: "1", LastName: "Smith, Jr."}, {Line: 3, Phone: "2", LastName: `O"Brien`}}, nil,
		},
		{
			"quoted line break moves later lines", "phone,note\n1,\"a\r\nb\"\n2,c\n",
			[]row{{Line: 2, Phone: "1", Attributes: attrs{"note": "a\nb"}}, {Line: 4, Phone: "2", Attributes: attrs{"note": "c"}}}, nil,
		},
		{
			"empty lines and blank rows skipped", "phone,first_name\n\n1,Ann\n,\n  ,  \n\n2,Bob\n",
			[]row{{Line: 3, Phone: "1", FirstName: "Ann"}, {Line: 7, Phone: "2", FirstName: "Bob"}}, nil,
		},
		{
			"too few cells, then the next row", "phone,first_name,last_name\n1,Ann\n2,Bob,Smith\n",
			[]row{{Line: 3, Phone: "2", FirstName: "Bob", LastName: "Smith"}}, []string{"2:bad_row"},
		},
		{
			"too many cells; blank extras pass", "phone,first_name\n1,Ann,extra\n2,Bob,,\n",
			[]row{{Line: 3, Phone: "2", FirstName: "Bob"}}, []string{"2:bad_row"},
		},
		{
			"bare quote, then the next row", "phone,first_name\n1,An\"n\n2,Bob\n",
			[]row{{Line: 3, Phone: "2", FirstName: "Bob"}}, []string{"2:bad_row"},
		},
		{"unterminated quote eats the rest", "phone,first_name\n1,\"Ann\n2,Bob\n", nil, []string{"2:bad_row"}},
		{"neither phone nor id", "phone,external_id,first_name\n,,Ann\n", nil, []string{"2:missing_identity"}},
		{"external id alone", "external_id,first_name\nc1,Ann\n", []row{{Line: 2, ExternalID: "c1", FirstName: "Ann"}}, nil},
		{"id is the external id", "ID,phone\n42,\n", []row{{Line: 2, ExternalID: "42"}}, nil},
		{"id beside external_id is ignored", "id,external_id,phone\nct_9,c1,1\n", []row{{Line: 2, ExternalID: "c1", Phone: "1"}}, nil},
		{
			"derived export columns ignored", "phone,phone_e164,phone_valid,phone_country,created_at\n1,+1,true,US,2024-01-01T00:00:00Z\n",
			[]row{{Line: 2, Phone: "1"}}, nil,
		},
		{
			"preferences", "phone,sms_preference,transactional_preference,marketing_preference\n1,Opted In,opted-out,UNKNOWN\n2,,,\n3,maybe,,\n",
			[]row{
				{Line: 2, Phone: "1", SMSPreference: "opted_in", TransactionalPreference: "opted_out", MarketingPreference: "unknown"},
				{Line: 3, Phone: "2"},
			},
			[]string{"4:invalid_preference"},
		},
		{
			"opt-in column", "phone,SMS Opt-In\n1,Yes\n2,n\n3,\n4,0\n",
			[]row{{Line: 2, Phone: "1", SMSPreference: "opted_in"}, {Line: 3, Phone: "2", SMSPreference: "opted_out"}, {Line: 4, Phone: "3"}, {Line: 5, Phone: "4", SMSPreference: "opted_out"}},
			nil,
		},
		{
			"email", "phone,email\n1,ann@example.com\n2,Ann <ann@example.com>\n3,not-an-email\n",
			[]row{{Line: 2, Phone: "1", Email: "ann@example.com"}}, []string{"3:invalid_email", "4:invalid_email"},
		},
		{
			"time zone", "phone,time_zone\n1,America/Chicago\n2,\n3,Mars/Olympus\n4,Local\n5, Europe/Paris \n",
			[]row{{Line: 2, Phone: "1", TimeZone: "America/Chicago"}, {Line: 3, Phone: "2"}, {Line: 6, Phone: "5", TimeZone: "Europe/Paris"}},
			[]string{"4:invalid_time_zone", "5:invalid_time_zone"},
		},
		{
			"attribute columns", "phone,Loyalty Tier,attr:email,attributes.Points,empty\n1,gold,alt@example.com,12,\n",
			[]row{{Line: 2, Phone: "1", Attributes: attrs{"loyalty_tier": "gold", "email": "alt@example.com", "points": "12"}}}, nil,
		},
		{
			"attributes JSON, columns win", "phone,attributes,tier\n1,\"{\"\"tier\"\":\"\"x\"\",\"\"n\"\":12345678901234567890,\"\"vip\"\":true}\",gold\n",
			[]row{{Line: 2, Phone: "1", Attributes: attrs{"tier": "gold", "n": json.Number("12345678901234567890"), "vip": true}}}, nil,
		},
		{
			"attributes JSON not an object", "phone,attributes\n1,[1]\n2,{}x\n3,null\n4,{}\n",
			[]row{{Line: 5, Phone: "4"}}, []string{"2:invalid_attribute", "3:invalid_attribute", "4:invalid_attribute"},
		},
		{
			"export guard undone", "phone,first_name,note\n+17346263333,'=Ann,'tis\n",
			[]row{{Line: 2, Phone: "+17346263333", FirstName: "=Ann", Attributes: attrs{"note": "'tis"}}}, nil,
		},
		{"Latin-1 cell", "phone,first_name\n1,Ren\xE9\n", nil, []string{"2:invalid_text"}},
		{
			"NUL character", "phone,first_name,note,attributes\n1,A\x00nn,,\n2,,b\x00,\n3,,,\"{\"\"k\"\":\"\"\\u0000\"\"}\"\n4,,,\"{\"\"\\u0000\"\":1}\"\n5,Bo,ok,\n",
			[]row{{Line: 6, Phone: "5", FirstName: "Bo", Attributes: attrs{"note": "ok"}}},
			[]string{"2:invalid_text", "3:invalid_text", "4:invalid_text", "5:invalid_text"},
		},
		{"huge cell", "phone,note\n1," + strings.Repeat("x", importMaxCellBytes+1) + "\n", nil, []string{"2:too_long"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, err := NewImportReader(strings.NewReader(tt.in))
			require.NoError(t, err)
			rows, errs := csvReadAll(t, r, 100)
			require.Equal(t, tt.rows, rows)
			require.Equal(t, tt.errs, errs)
		})
	}
}

func TestImportReaderTimeZoneHeaders(t *testing.T) {
	t.Parallel()
	for _, h := range []string{"time_zone", "timezone", "tz", "time zone", "Time Zone", "TimeZone", "TZ", "time-zone"} {
		t.Run(h, func(t *testing.T) {
			t.Parallel()
			r, err := NewImportReader(strings.NewReader("phone," + h + "\n1,Asia/Tokyo\n"))
			require.NoError(t, err)
			rows, errs := csvReadAll(t, r, 10)
			require.Empty(t, errs)
			require.Equal(t, []ImportRow{{Line: 2, Phone: "1", TimeZone: "Asia/Tokyo"}}, rows)
		})
	}
	t.Run("attr:tz is an attribute", func(t *testing.T) {
		t.Parallel()
		r, err := NewImportReader(strings.NewReader("phone,attr:tz\n1,Mars/Olympus\n"))
		require.NoError(t, err)
		rows, errs := csvReadAll(t, r, 10)
		require.Empty(t, errs)
		require.Equal(t, []ImportRow{{Line: 2, Phone: "1", Attributes: map[string]any{"tz": "Mars/Olympus"}}}, rows)
	})
}

func TestImportReaderBadTimeZone(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in string
		line     int
	}{
		{"unknown zone", "phone,first_name,Time Zone\n1,Ann,America/Chicago\n2,Bob,Mars/Olympus\n3,Cy,UTC\n", 3},
		{"the server's zone", "phone,first_name,Time Zone\n1,Ann,America/Chicago\n2,Bob,Local\n3,Cy,UTC\n", 3},
		{"after a quoted line break", "phone,first_name,Time Zone\n1,\"A\nnn\",America/Chicago\n2,Bob,Local\n3,Cy,UTC\n", 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, err := NewImportReader(strings.NewReader(tt.in))
			require.NoError(t, err)
			_, err = r.Next()
			require.NoError(t, err)
			_, err = r.Next()
			var re *RowError
			require.ErrorAs(t, err, &re)
			require.Equal(t, tt.line, re.Line)
			require.Equal(t, RowBadTimeZone, re.Code)
			require.Equal(t, "Time Zone", re.Column)
			require.Contains(t, re.Message, "Time Zone")
			row, err := r.Next()
			require.NoError(t, err, "the next row is read")
			require.Equal(t, "UTC", row.TimeZone)
		})
	}
}

func TestImportReaderFixture(t *testing.T) {
	t.Parallel()
	f, err := os.Open("testdata/contacts.csv")
	require.NoError(t, err)
	t.Cleanup(func() { _ = f.Close() })
	r, err := NewImportReader(f)
	require.NoError(t, err)
	rows, errs := csvReadAll(t, r, 100)

	// Line 6 has no id or phone, 7 a bad email, 8 the preference "maybe",
	// 13 four cells of nine; lines 9 and 14 are blank.
	require.Equal(t, []string{"6:missing_identity", "7:invalid_email", "8:invalid_preference", "13:bad_row"}, errs)
	var lines []int
	for _, row := range rows {
		lines = append(lines, row.Line)
	}
	require.Equal(t, []int{2, 3, 4, 5, 10, 11, 12, 15, 17}, lines)
	require.Equal(t, ImportRow{
		Line: 2, ExternalID: "cus_1001", Phone: "(734) 626-3333", FirstName: "Ann", LastName: "Arbor",
		Email: "ann@example.com", SMSPreference: "opted_in",
		Attributes: map[string]any{"loyalty_tier": "gold", "signup_source": "widget", "points": "1200"},
	}, rows[0])
	require.Equal(t, "Smith, Jr.", rows[1].LastName)
	require.Equal(t, map[string]any{"loyalty_tier": "silver", "points": "350"}, rows[1].Attributes)
	require.Equal(t, "Chloé", rows[2].FirstName)
	require.Empty(t, rows[3].Phone)
	require.Equal(t, "referral, friend", rows[5].Attributes["signup_source"])
	require.Equal(t, `=HYPERLINK("http://evil.example","click")`, rows[6].FirstName)
	require.Equal(t, ImportRow{Line: 15, ExternalID: "cus_1012", Phone: "734-626-3336", FirstName: "Multi",
		LastName: "Line\nName", Email: "ml@example.com", SMSPreference: "opted_out"}, rows[7])
}

func TestGuardCell(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"", ""},
		{"Ann", "Ann"},
		{"1+1", "1+1"},
		{"+17346263333", "+17346263333"},
		{"-12.5", "-12.5"},
		{"+42", "+42"},
		{"=1+1", "'=1+1"},
		{"=HYPERLINK(\"http://evil.example\")", "'=HYPERLINK(\"http://evil.example\")"},
		{"+1 734 626 3333", "'+1 734 626 3333"},
		{"-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"},
		{"@SUM(A1:A2)", "'@SUM(A1:A2)"},
		{"\tfoo", "'\tfoo"},
		{"\rfoo", "'\rfoo"},
		{"-", "'-"},
		{"+", "'+"},
		{"+1.5.2", "'+1.5.2"},
		{"+1e10", "'+1e10"},
		{"-.5", "'-.5"},
		{"＝1+1", "'＝1+1"},
		{"'=already", "'=already"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, guardCell(tt.in))
		})
	}
}

func TestExportWriter(t *testing.T) {
	t.Parallel()
	const header = "id,external_id,phone,phone_e164,phone_valid,phone_country,first_name,last_name,email,time_zone," +
		"sms_preference,transactional_preference,marketing_preference,created_at,attributes\r\n"
	tests := []struct {
		name string
		rows []ExportRow
		want string
	}{
		{"no contacts", nil, header},
		{
			"a contact", []ExportRow{{
				ID: "ct_1", ExternalID: "cus_1001", Phone: "(734) 626-3333", PhoneE164: "+17346263333",
				PhoneValid: true, Country: "US", FirstName: "Ann", LastName: "Smith, Jr.", Email: "ann@example.com",
				TimeZone: "America/Detroit", SMSPreference: "opted_in", TransactionalPreference: "opted_in", MarketingPreference: "opted_out",
				CreatedAt:  time.Date(2024, 3, 1, 12, 30, 0, 0, time.FixedZone("EST", -5*3600)),
				Attributes: map[string]any{"tier": "gold", "points": 1200, "note": "<b>&</b>"},
			}},
			header + `ct_1,cus_1001,(734) 626-3333,+17346263333,true,US,Ann,"Smith, Jr.",ann@example.com,America/Detroit,` +
				`opted_in,opted_in,opted_out,2024-03-01T17:30:00Z,"{""note"":""<b>&</b>"",""points"":1200,""tier"":""gold""}"` + "\r\n",
		},
		{
			"formulas defused", []ExportRow{{ID: "ct_2", Phone: "=cmd|' /C calc'!A0", FirstName: "+1 734", LastName: "-", Email: "@home"}},
			header + "ct_2,,'=cmd|' /C calc'!A0,,false,,'+1 734,'-,'@home,,,,,,\r\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			w := NewExportWriter(&buf)
			for _, row := range tt.rows {
				require.NoError(t, w.Write(row))
			}
			require.NoError(t, w.Flush())
			require.Equal(t, tt.want, buf.String())
		})
	}
}

type csvFailingWriter struct{}

func (csvFailingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestExportWriterReportsWriteErrors(t *testing.T) {
	t.Parallel()
	w := NewExportWriter(csvFailingWriter{})
	require.NoError(t, w.Write(ExportRow{ID: "ct_1"})) // buffered
	require.ErrorContains(t, w.Flush(), "disk full")
	require.Error(t, w.Write(ExportRow{ID: "ct_2"}))
}

func TestExportThenImport(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	w := NewExportWriter(&buf)
	require.NoError(t, w.Write(ExportRow{
		ID: "ct_1", ExternalID: "cus_1", Phone: "+1 734 626 3333", PhoneE164: "+17346263333", PhoneValid: true,
		Country: "US", FirstName: "=Ann", LastName: "@Arbor", Email: "ann@example.com", TimeZone: "America/Argentina/Buenos_Aires",
		SMSPreference: "opted_out", TransactionalPreference: "opted_in", MarketingPreference: "opted_out",
		CreatedAt: time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC), Attributes: map[string]any{"tier": "gold", "points": 7},
	}))
	require.NoError(t, w.Write(ExportRow{ID: "ct_2", Phone: "7346263334"}))
	require.NoError(t, w.Flush())

	r, err := NewImportReader(&buf)
	require.NoError(t, err)
	rows, errs := csvReadAll(t, r, 10)
	require.Empty(t, errs)
	require.Equal(t, []ImportRow{
		{
			Line: 2, ExternalID: "cus_1", Phone: "+1 734 626 3333", FirstName: "=Ann", LastName: "@Arbor",
			Email: "ann@example.com", TimeZone: "America/Argentina/Buenos_Aires", SMSPreference: "opted_out", TransactionalPreference: "opted_in",
			MarketingPreference: "opted_out", Attributes: map[string]any{"tier": "gold", "points": json.Number("7")},
		},
		{Line: 3, Phone: "7346263334"},
	}, rows)
}

// FuzzImportReader feeds arbitrary files to the reader: it must not panic,
// must end, and every row it returns must be a data row (never the header)
// that names a contact.
func FuzzImportReader(f *testing.F) {
	fixture, err := os.ReadFile("testdata/contacts.csv")
	require.NoError(f, err)
	for _, seed := range []string{
		string(fixture), "phone\n1\n", "\uFEFFphone,a\r\n1,\"x\r\ny\"\r\n", "phone,first_name\n1,An\"n\n2,Bob\n",
		"id,external_id,phone,attributes\n1,2,3,\"{\"\"a\"\":1}\"\n", "phone,sms_opt_in\n1,yes\n,\n",
		"\n\nphone\n\n\n1\n", "phone,\"x\ny\"\n1,2\n", "phone,tz\n1,Europe/Paris\n2,Local\n3,../../etc/passwd\n",
	} {
		f.Add(seed)
	}
	prefs := map[string]bool{"": true, "unknown": true, "opted_in": true, "opted_out": true}
	f.Fuzz(func(t *testing.T, in string) {
		r, err := NewImportReader(strings.NewReader(in))
		if err != nil {
			require.Nil(t, r)
			return
		}
		for range strings.Count(in, "\n") + strings.Count(in, "\r") + 2 {
			row, err := r.Next()
			if errors.Is(err, io.EOF) {
				return
			}
			var re *RowError
			if errors.As(err, &re) {
				require.Greater(t, re.Line, 1)
				require.NotEmpty(t, re.Code)
				continue
			}
			require.NoError(t, err)
			require.Greater(t, row.Line, 1)
			require.True(t, row.Phone != "" || row.ExternalID != "")
			require.True(t, prefs[row.SMSPreference] && prefs[row.TransactionalPreference] && prefs[row.MarketingPreference])
			require.True(t, row.TimeZone == "" || validTimeZone(row.TimeZone), row.TimeZone)
		}
		t.Fatal("Next did not reach io.EOF")
	})
}

// BenchmarkImportReader reads a file of 10,000 contacts per op; ns/row is
// the reader's share of an import's time budget.
func BenchmarkImportReader(b *testing.B) {
	var in strings.Builder
	in.WriteString("external_id,phone,first_name,last_name,email,sms_opt_in,tier,source\r\n")
	const rows = 10_000
	for i := range rows {
		fmt.Fprintf(&in, "cus_%d,(734) 626-%04d,Ann,\"Smith, Jr.\",ann%d@example.com,yes,gold,widget\r\n", i, i, i)
	}
	data := in.String()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		r, err := NewImportReader(strings.NewReader(data))
		require.NoError(b, err)
		got, errs := csvReadAll(b, r, rows+1)
		require.Len(b, got, rows)
		require.Empty(b, errs)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*rows), "ns/row")
}

func BenchmarkExportWriter(b *testing.B) {
	row := ExportRow{
		ID: "ct_01HV", ExternalID: "cus_1", Phone: "(734) 626-3333", PhoneE164: "+17346263333", PhoneValid: true,
		Country: "US", FirstName: "Ann", LastName: "Smith, Jr.", Email: "ann@example.com", SMSPreference: "opted_in",
		CreatedAt: time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC), Attributes: map[string]any{"tier": "gold", "points": 7},
	}
	w := NewExportWriter(io.Discard)
	b.ReportAllocs()
	for b.Loop() {
		require.NoError(b, w.Write(row))
	}
	require.NoError(b, w.Flush())
}
