package enroll

import (
	"encoding/json"
	"errors"
	"mime"
	"net/http"
	"strings"

	"github.com/heraldsms/herald/internal/problem"
)

// errorBody is the API's error envelope, so a script that talks to the
// API and to this endpoint reads one shape. A refused form carries every
// field's problem in detail.errors.
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string         `json:"code"`
	Message string         `json:"message"`
	Field   string         `json:"field,omitempty"`
	Detail  map[string]any `json:"detail,omitempty"`
}

func statusOf(k problem.Kind) int {
	switch k {
	case problem.Invalid:
		return http.StatusUnprocessableEntity
	case problem.Malformed:
		return http.StatusBadRequest
	case problem.NotFound:
		return http.StatusNotFound
	case problem.Conflict:
		return http.StatusConflict
	case problem.TooLarge:
		return http.StatusRequestEntityTooLarge
	case problem.TooMany:
		return http.StatusTooManyRequests
	case problem.Unavailable:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// fail answers an error as JSON or as a page. Errors that are not the
// visitor's are logged here, once, and shown only as "try again".
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, asJSON bool, err error) {
	var inv *InvalidError
	var body errorBody
	status := http.StatusInternalServerError
	p, isProblem := problem.As(err)
	switch {
	case errors.As(err, &inv):
		first := inv.Fields[0]
		status = http.StatusUnprocessableEntity
		body.Error = errorDetail{Code: first.Code, Message: first.Message, Field: first.Field,
			Detail: map[string]any{"errors": inv.Fields}}
	case isProblem && p.Kind == problem.NotFound:
		h.notFound(w, r)
		return
	case isProblem:
		status = statusOf(p.Kind)
		body.Error = errorDetail{Code: p.Code, Message: p.Message, Field: p.Field}
	default:
		h.log.ErrorContext(r.Context(), "enroll: request failed", "err", err, "method", r.Method, "path", r.URL.Path)
		body.Error = errorDetail{Code: "internal_error", Message: "Something went wrong on our side. Please try again in a few minutes."}
	}
	if asJSON {
		writeJSON(w, status, body)
		return
	}
	h.render(w, r, status, "error", body.Error)
}

// notFound answers an unknown program or path: a page for people, the
// envelope for scripts.
func (h *Handler) notFound(w http.ResponseWriter, r *http.Request) {
	if wantsJSON(r) {
		writeJSON(w, http.StatusNotFound, errorBody{errorDetail{Code: "not_found",
			Message: "There is no sign-up form at this address. Check the link you were given."}})
		return
	}
	h.render(w, r, http.StatusNotFound, "notfound", nil)
}

// wantsJSON reports whether the client reads JSON: it sent JSON, or asked
// for it (the widget does).
func wantsJSON(r *http.Request) bool {
	return isJSON(r.Header.Get("Content-Type")) || strings.Contains(r.Header.Get("Accept"), "application/json")
}

func isJSON(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && mt == "application/json"
}
