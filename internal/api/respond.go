package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strings"

	"github.com/heraldsms/herald/internal/problem"
)

// maxBody is the largest JSON body the API reads. Imports have their own.
const maxBody = 1 << 20

// errorBody is the one error envelope every API error uses.
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string         `json:"code"`
	Message string         `json:"message"`
	Field   string         `json:"field,omitempty"`
	Detail  map[string]any `json:"detail,omitempty"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(true)
	_ = enc.Encode(v)
}

// writeError answers with the error envelope. A problem.Error says its own
// status and code; anything else is an internal error, logged once here
// with the request id and shown to the client only as that id.
func writeError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	if p, ok := problem.As(err); ok {
		writeJSON(w, p.Kind.HTTPStatus(), errorBody{errorDetail{Code: p.Code, Message: p.Message, Field: p.Field, Detail: p.Detail}})
		return
	}
	reqID := w.Header().Get("X-Request-Id")
	log.ErrorContext(r.Context(), "request failed", "err", err, "method", r.Method, "path", r.URL.Path, "request_id", reqID)
	writeJSON(w, http.StatusInternalServerError, errorBody{errorDetail{
		Code: "internal_error", Message: "something went wrong on our side; quote request " + reqID,
	}})
}

// decodeJSON reads a JSON body into v, refusing a wrong content type, a
// body over the limit, malformed JSON, unknown fields, wrong types, text
// holding a NUL character and trailing data, each with its own code.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	raw, err := decodeBody(w, r, v)
	if err != nil {
		return err
	}
	return refuseNUL(raw)
}

// decodeBody is decodeJSON without the check for NUL characters, for a
// body whose parts are checked one by one (an event batch); it returns
// the body read.
func decodeBody(w http.ResponseWriter, r *http.Request, v any) ([]byte, error) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/json" {
			return nil, problem.New(problem.Malformed, "unsupported_media_type", "", "send the body as application/json")
		}
	}
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		return nil, jsonProblem(err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return nil, jsonProblem(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, problem.New(problem.Malformed, "malformed_json", "", "the body has data after its JSON value")
	}
	return raw, nil
}

// refuseNUL refuses a JSON value any of whose strings (keys included)
// holds U+0000, naming the top-level field it is in. PostgreSQL's text
// cannot hold the character, so such a value failed there as an internal
// error where SQLite stored it; both now refuse it alike. A body without
// the escape is not read again.
func refuseNUL(raw []byte) error {
	if !bytes.Contains(raw, []byte(`\u0000`)) {
		return nil
	}
	var fields map[string]json.RawMessage
	if json.Unmarshal(raw, &fields) != nil {
		fields = map[string]json.RawMessage{"": raw} // not an object: no field to name
	}
	for name, v := range fields {
		if strings.ContainsRune(name, 0) || holdsNUL(v) {
			return problem.Invalidf("invalid_text", name, "%s holds a NUL character (\\u0000), which text may not contain", fieldName(name))
		}
	}
	return nil
}

// holdsNUL reports whether any string in the JSON value raw holds U+0000.
func holdsNUL(raw []byte) bool {
	if !bytes.Contains(raw, []byte(`\u0000`)) {
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	for {
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		if str, ok := tok.(string); ok && strings.ContainsRune(str, 0) {
			return true
		}
	}
}

func jsonProblem(err error) error {
	var (
		maxErr    *http.MaxBytesError
		syntaxErr *json.SyntaxError
		typeErr   *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &maxErr):
		return problem.New(problem.TooLarge, "body_too_large", "", fmt.Sprintf("the body is over %d bytes", maxErr.Limit))
	case errors.Is(err, io.EOF):
		return problem.New(problem.Malformed, "empty_body", "", "the body is empty; send a JSON object")
	case errors.As(err, &syntaxErr), errors.Is(err, io.ErrUnexpectedEOF):
		return problem.New(problem.Malformed, "malformed_json", "", "the body is not valid JSON: "+err.Error())
	case errors.As(err, &typeErr):
		return problem.New(problem.Invalid, "invalid_type", typeErr.Field,
			fmt.Sprintf("%s must be %s, not %s", fieldName(typeErr.Field), jsonType(typeErr.Type.Kind().String()), typeErr.Value))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return problem.New(problem.Malformed, "unknown_field", name, fmt.Sprintf("%q is not a field of this request", name))
	}
	return problem.New(problem.Malformed, "malformed_json", "", "the body could not be read: "+err.Error())
}

func fieldName(f string) string {
	if f == "" {
		return "the body"
	}
	return f
}

func jsonType(kind string) string {
	switch kind {
	case "string":
		return "a string"
	case "map", "struct":
		return "an object"
	case "slice", "array":
		return "an array"
	case "bool":
		return "true or false"
	case "ptr", "interface":
		return "a value of the right type"
	}
	return "a number"
}
