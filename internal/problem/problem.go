// Package problem is the vocabulary domain packages use to say what went
// wrong with a request, without handling HTTP themselves: a kind (invalid, not
// found, conflict…), a stable snake_case code a client can branch on, the
// field at fault, and a message a person can act on. Kind.HTTPStatus is the
// one mapping from a kind to the status the API and the admin web answer with.
package problem

import (
	"errors"
	"fmt"
	"net/http"
)

// Kind says what sort of failure an Error is.
type Kind uint8

// The kinds of failure.
const (
	Invalid      Kind = iota + 1 // the input breaks a rule
	Malformed                    // the input cannot be read at all
	NotFound                     // no such thing in the caller's account
	Conflict                     // it clashes with what exists
	Forbidden                    // the caller may not do this
	Unauthorized                 // the caller is not known
	TooLarge                     // the input is over a size limit
	TooMany                      // a rate limit was hit
	Unavailable                  // a dependency is down; try again
)

// Error is a failure a client should see.
type Error struct {
	Kind    Kind
	Code    string
	Field   string
	Message string
	// Detail carries extra machine-readable data (such as a merge tag's
	// position) to the client.
	Detail map[string]any
}

func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("%s (%s): %s", e.Code, e.Field, e.Message)
	}
	return e.Code + ": " + e.Message
}

// New returns an Error of the given kind.
func New(kind Kind, code, field, message string) *Error {
	return &Error{Kind: kind, Code: code, Field: field, Message: message}
}

// Invalidf returns an Invalid error for a field.
func Invalidf(code, field, format string, args ...any) *Error {
	return &Error{Kind: Invalid, Code: code, Field: field, Message: fmt.Sprintf(format, args...)}
}

// NotFoundf returns a NotFound error with code "not_found".
func NotFoundf(format string, args ...any) *Error {
	return &Error{Kind: NotFound, Code: "not_found", Message: fmt.Sprintf(format, args...)}
}

// Conflictf returns a Conflict error.
func Conflictf(code, field, format string, args ...any) *Error {
	return &Error{Kind: Conflict, Code: code, Field: field, Message: fmt.Sprintf(format, args...)}
}

// Forbiddenf returns a Forbidden error with code "forbidden".
func Forbiddenf(format string, args ...any) *Error {
	return &Error{Kind: Forbidden, Code: "forbidden", Message: fmt.Sprintf(format, args...)}
}

// As returns err as an *Error when it is (or wraps) one.
func As(err error) (*Error, bool) {
	var p *Error
	ok := errors.As(err, &p)
	return p, ok
}

// Is reports whether err is a problem of the given kind.
func Is(err error, kind Kind) bool {
	p, ok := As(err)
	return ok && p.Kind == kind
}

var httpStatus = map[Kind]int{
	Invalid:      http.StatusUnprocessableEntity,
	Malformed:    http.StatusBadRequest,
	NotFound:     http.StatusNotFound,
	Conflict:     http.StatusConflict,
	Forbidden:    http.StatusForbidden,
	Unauthorized: http.StatusUnauthorized,
	TooLarge:     http.StatusRequestEntityTooLarge,
	TooMany:      http.StatusTooManyRequests,
	Unavailable:  http.StatusServiceUnavailable,
}

// HTTPStatus is the HTTP status that answers this kind of failure, in the
// API and the admin web alike.
func (k Kind) HTTPStatus() int {
	if s, ok := httpStatus[k]; ok {
		return s
	}
	return http.StatusInternalServerError
}
