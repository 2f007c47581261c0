package api

import (
	"bytes"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"unicode/utf8"

	"github.com/heraldsms/herald/internal/account"
	"github.com/heraldsms/herald/internal/msgtemplate"
	"github.com/heraldsms/herald/internal/problem"
)

// decodeText is decodeJSON for bodies that carry message text. Go's JSON
// decoder quietly turns bytes that are not UTF-8 into U+FFFD, which would
// then be sent to phones; such a body is refused first, naming the field.
// With optional, an empty body is no body.
func decodeText(w http.ResponseWriter, r *http.Request, v any, optional bool) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
			return decodeJSON(w, r, v) // refuses the content type, in the usual words
		}
	}
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		return jsonProblem(err)
	}
	if optional && len(bytes.TrimSpace(raw)) == 0 {
		return nil
	}
	if !utf8.Valid(raw) {
		field := invalidUTF8Field(raw)
		return problem.Invalidf(msgtemplate.CodeInvalidUTF8, field, "%s is not valid UTF-8; send text as UTF-8", fieldName(field))
	}
	r.Body = io.NopCloser(bytes.NewReader(raw))
	return decodeJSON(w, r, v)
}

// invalidUTF8Field names the top-level field whose value holds the bad
// bytes, or "" when it cannot tell.
func invalidUTF8Field(raw []byte) string {
	var fields map[string]json.RawMessage
	if json.Unmarshal(raw, &fields) != nil {
		return ""
	}
	for name, v := range fields {
		if !utf8.Valid(v) {
			return name
		}
	}
	return ""
}

// templateID returns the request's {id} after checking that the caller's
// account has that template, so another account's id answers 404 whatever
// the request body holds.
func (s *Server) templateID(r *http.Request, p account.Principal) (string, error) {
	id := r.PathValue("id")
	return id, s.Templates.Exists(r.Context(), p.AccountID, id)
}

func (s *Server) listTemplates(w http.ResponseWriter, r *http.Request, p account.Principal) error {
	q := r.URL.Query()
	f, err := msgtemplate.ParseFilter(q.Get("status"), q.Get("kind"), q.Get("cursor"), q.Get("limit"))
	if err != nil {
		return err
	}
	page, err := s.Templates.List(r.Context(), p.AccountID, f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, page)
	return nil
}

// createTemplate makes a template from a body or from a gallery entry.
func (s *Server) createTemplate(w http.ResponseWriter, r *http.Request, p account.Principal) error {
	var in msgtemplate.NewTemplate
	if err := decodeText(w, r, &in, false); err != nil {
		return err
	}
	t, err := s.Templates.Create(r.Context(), p.AccountID, in, p.Actor())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, t)
	return nil
}

func (s *Server) getTemplate(w http.ResponseWriter, r *http.Request, p account.Principal) error {
	t, err := s.Templates.Get(r.Context(), p.AccountID, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, t)
	return nil
}

// patchTemplate renames and edits; a new body or kind makes a new draft
// version (see msgtemplate.Service.Update).
func (s *Server) patchTemplate(w http.ResponseWriter, r *http.Request, p account.Principal) error {
	id, err := s.templateID(r, p)
	if err != nil {
		return err
	}
	var in msgtemplate.Change
	if err := decodeText(w, r, &in, false); err != nil {
		return err
	}
	t, err := s.Templates.Update(r.Context(), p.AccountID, id, in, p.Actor())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, t)
	return nil
}

// deleteTemplate archives: past messages keep pointing at the template.
func (s *Server) deleteTemplate(w http.ResponseWriter, r *http.Request, p account.Principal) error {
	if err := s.Templates.Archive(r.Context(), p.AccountID, r.PathValue("id"), p.Actor()); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// previewTemplate is the editor's live counter.
func (s *Server) previewTemplate(w http.ResponseWriter, r *http.Request, p account.Principal) error {
	var in msgtemplate.PreviewInput
	if err := decodeText(w, r, &in, false); err != nil {
		return err
	}
	out, err := s.Templates.Preview(r.Context(), p.AccountID, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) templateGallery(w http.ResponseWriter, r *http.Request, p account.Principal) error {
	items, err := s.Templates.Gallery(r.Context(), p.AccountID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": items})
	return nil
}
