package api

import (
	"encoding/csv"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/heraldsms/herald/internal/db"
	"github.com/heraldsms/herald/internal/db/dbtest"
)

func TestContactLifecycle(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		b := setup(t, d)
		res := b.do("POST", "/api/v1/contacts", b.admin, map[string]any{
			"external_id": "adv-1", "phone": "(734) 626-3333", "first_name": "Ava", "attributes": map[string]any{"tier": "gold"}})
		require.Equal(t, http.StatusCreated, res.status, "%s", res.body)
		c := res.json(t)
		for _, field := range []string{"id", "external_id", "phone", "phone_e164", "phone_valid", "phone_type", "phone_country",
			"sms_capable", "first_name", "last_name", "email", "attributes", "sms_preference", "sms_preferences", "created_at", "updated_at"} {
			require.Contains(t, c, field)
		}
		require.Equal(t, "+17346263333", c["phone_e164"])
		require.Equal(t, "US", c["phone_country"])
		require.Equal(t, "unknown", c["sms_preference"])
		id := c["id"].(string)

		res = b.do("POST", "/api/v1/contacts", b.admin, map[string]any{"external_id": "adv-1", "last_name": "Reyes"})
		require.Equal(t, http.StatusOK, res.status, "an update answers 200")
		require.Equal(t, id, res.json(t)["id"])

		res = b.do("POST", "/api/v1/contacts", b.admin, map[string]any{"external_id": "adv-2", "phone": "+1 734 626 3333"})
		require.Equal(t, http.StatusConflict, res.status)
		require.Equal(t, "phone_taken", res.errorCode(t))

		res = b.do("POST", "/api/v1/contacts", b.admin, map[string]any{"phone": "12"})
		require.Equal(t, http.StatusUnprocessableEntity, res.status)
		require.Equal(t, "invalid_phone", res.errorCode(t))

		res = b.do("PUT", "/api/v1/contacts/"+id+"/sms-preference", b.admin, map[string]any{
			"preference": "opted_out", "source": "api", "evidence": map[string]any{"ticket": 42}})
		require.Equal(t, http.StatusOK, res.status, "%s", res.body)
		require.Equal(t, "opted_out", res.json(t)["sms_preference"])

		for _, bad := range []struct {
			body map[string]any
			code string
		}{
			{map[string]any{"preference": "maybe"}, "invalid_preference"},
			{map[string]any{}, "required"},
			{map[string]any{"preference": "opted_in", "source": "keyword"}, "invalid_source"},
			{map[string]any{"preference": "opted_in", "source": "telepathy"}, "invalid_source"},
			{map[string]any{"preference": "opted_in", "kind": "promo"}, "invalid_kind"},
			{map[string]any{"preference": "opted_in", "evidence": "a string"}, "invalid_evidence"},
		} {
			res := b.do("PUT", "/api/v1/contacts/"+id+"/sms-preference", b.admin, bad.body)
			require.Equal(t, 422, res.status, "%v: %s", bad.body, res.body)
			require.Equal(t, bad.code, res.errorCode(t))
		}

		res = b.do("GET", "/api/v1/contacts/"+id+"/consents", b.admin, nil)
		require.Equal(t, http.StatusOK, res.status)
		records := res.json(t)["data"].([]any)
		require.Len(t, records, 2)
		first := records[0].(map[string]any)
		require.Equal(t, "unknown", first["from"])
		require.Equal(t, "opted_out", first["to"])
		require.Equal(t, map[string]any{"ticket": float64(42)}, first["evidence"])

		res = b.do("GET", "/api/v1/contacts?sms_preference=opted_out", b.admin, nil)
		require.Len(t, res.json(t)["data"], 1)
		res = b.do("GET", "/api/v1/contacts?sms_preference=yes", b.admin, nil)
		require.Equal(t, "invalid_preference", res.errorCode(t))
		require.Equal(t, "invalid_cursor", b.do("GET", "/api/v1/contacts?cursor=!!", b.admin, nil).errorCode(t))
		require.Equal(t, "invalid_limit", b.do("GET", "/api/v1/contacts?limit=0", b.admin, nil).errorCode(t))

		require.Equal(t, http.StatusNoContent, b.do("DELETE", "/api/v1/contacts/"+id, b.admin, nil).status)
		require.Equal(t, http.StatusNotFound, b.do("GET", "/api/v1/contacts/"+id, b.admin, nil).status)
		res = b.do("GET", "/api/v1/contacts/"+id+"/consents", b.admin, nil)
		require.Equal(t, http.StatusOK, res.status, "the ledger outlives the contact")
		require.Len(t, res.json(t)["data"], 2)
	})
}

func TestImportAndExport(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		b := setup(t, d)
		csvBody := "external_id,phone,first_name,email,sms_preference,city\r\n" +
			"a1,(734) 626-3333,Ava,ava@example.com,opted_in,Ann Arbor\r\n" +
			"a2,not a phone,Ben,ben@example.com,,Boston\r\n" + // kept: the external id identifies it
			",12,Nobody,,,\r\n" + // refused: a bad phone is all there is
			"a3,+14155550142,Chloe,not-an-email,,\r\n" + // refused: bad email
			"a4,+14155550142,Dev,dev@example.com,perhaps,\r\n" + // refused: bad preference
			"a5,415 555 0142,Eli,eli@example.com,opted_out,\r\n" +
			"a6,734-626-3333,Fay,,,\r\n" // refused: a1 has the phone
		res := b.do("POST", "/api/v1/contacts/import", b.admin, csvBody, "Content-Type", "text/csv")
		require.Equal(t, http.StatusOK, res.status, "%s", res.body)
		out := res.json(t)
		require.Equal(t, float64(3), out["created"], "%s", res.body)
		require.Equal(t, float64(0), out["updated"])
		require.Equal(t, float64(4), out["failed"])
		var rows []float64
		var codes []string
		for _, e := range out["errors"].([]any) {
			rows = append(rows, e.(map[string]any)["row"].(float64))
			codes = append(codes, e.(map[string]any)["code"].(string))
		}
		require.Equal(t, []float64{4, 5, 6, 8}, rows)
		require.Equal(t, []string{"invalid_phone", "invalid_email", "invalid_preference", "phone_taken"}, codes)

		// The same file again updates instead of duplicating.
		res = b.do("POST", "/api/v1/contacts/import", b.admin, csvBody, "Content-Type", "text/csv")
		require.Equal(t, float64(3), res.json(t)["updated"])

		res = b.do("GET", "/api/v1/contacts/export.csv?sms_preference=opted_in", b.admin, nil)
		require.Equal(t, http.StatusOK, res.status)
		require.Contains(t, res.header.Get("Content-Type"), "text/csv")
		records, err := csv.NewReader(strings.NewReader(string(res.body))).ReadAll()
		require.NoError(t, err)
		require.Len(t, records, 2, "header and the one opted-in contact")
		require.Contains(t, strings.Join(records[1], ","), "+17346263333")
		require.Contains(t, strings.Join(records[1], ","), "Ann Arbor")

		// The export imports back.
		all := b.do("GET", "/api/v1/contacts/export.csv", b.admin, nil)
		res = b.do("POST", "/api/v1/contacts/import", b.admin, string(all.body), "Content-Type", "text/csv")
		require.Equal(t, http.StatusOK, res.status, "%s", res.body)
		require.Equal(t, float64(3), res.json(t)["updated"], "%s", res.body)
		require.Equal(t, float64(0), res.json(t)["failed"], "%s", res.body)
	})
}

func TestImportRefusesBadFiles(t *testing.T) {
	t.Parallel()
	b := setupSQLite(t)
	cases := []struct {
		name, body, contentType string
		status                  int
	}{
		{"json content type", "phone\n+17346263333\n", "application/json", 400},
		{"empty", "", "text/csv", 422},
		{"no identifying column", "first_name,email\nAva,a@example.com\n", "text/csv", 422},
		{"duplicate header", "phone,phone\n1,2\n", "text/csv", 422},
	}
	for _, tc := range cases {
		res := b.do("POST", "/api/v1/contacts/import", b.admin, tc.body, "Content-Type", tc.contentType)
		require.Equal(t, tc.status, res.status, "%s: %s", tc.name, res.body)
		res.errorCode(t)
	}
}

func TestExportGuardsAgainstFormulas(t *testing.T) {
	t.Parallel()
	b := setupSQLite(t)
	res := b.do("POST", "/api/v1/contacts", b.admin, map[string]any{"phone": "+17346263333", "first_name": "=HYPERLINK(\"http://evil\")"})
	require.Equal(t, http.StatusCreated, res.status)
	exp := b.do("GET", "/api/v1/contacts/export.csv", b.admin, nil)
	r := csv.NewReader(strings.NewReader(string(exp.body)))
	_, err := r.Read()
	require.NoError(t, err)
	row, err := r.Read()
	require.NoError(t, err)
	require.Contains(t, row, "'=HYPERLINK(\"http://evil\")")
	require.Contains(t, row, "+17346263333", "a phone is not mistaken for a formula")
	_, err = r.Read()
	require.ErrorIs(t, err, io.EOF)
}

// Text holding a NUL character, which PostgreSQL cannot store, is refused
// alike on both engines, naming the field, and writes nothing. A backslash
// followed by "u0000" is ordinary text.
func TestTextWithANULCharacterIsRefused(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		b := setup(t, d)
		for _, bad := range []struct {
			body  string
			field string
		}{
			{`{"external_id": "adv-\u0000", "phone": "+17346263333"}`, "external_id"},
			{`{"phone": "+17346263333", "first_name": "A\u0000va"}`, "first_name"},
			{`{"phone": "+17346263333", "attributes": {"tier": ["gold", "\u0000"]}}`, "attributes"},
			{`{"phone": "+17346263333", "attributes": {"ti\u0000er": "gold"}}`, "attributes"},
		} {
			res := b.do("POST", "/api/v1/contacts", b.admin, bad.body)
			require.Equal(t, http.StatusUnprocessableEntity, res.status, "%s: %s", bad.body, res.body)
			require.Equal(t, "invalid_text", res.errorCode(t), bad.body)
			var env struct {
				Error struct{ Field string } `json:"error"`
			}
			require.NoError(t, json.Unmarshal(res.body, &env))
			require.Equal(t, bad.field, env.Error.Field, bad.body)
		}
		list := b.do("GET", "/api/v1/contacts", b.admin, nil).json(t)
		require.Empty(t, list["data"], "nothing was written")

		res := b.do("POST", "/api/v1/contacts", b.admin, `{"external_id": "adv-\\u0000", "phone": "+17346263333"}`)
		require.Equal(t, http.StatusCreated, res.status, "%s", res.body)
		require.Equal(t, `adv-\u0000`, res.json(t)["external_id"])
	})
}
