package web

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"
)

//go:embed templates
var templateFS embed.FS

// pageSet holds each page's template: the layout and partials, cloned,
// with the page's own file parsed over them.
type pageSet struct {
	byName map[string]*template.Template
}

func mustParsePages() *pageSet {
	base := template.Must(template.New("").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/partials/*.html"))
	files, err := fs.Glob(templateFS, "templates/pages/*.html")
	if err != nil {
		panic(err)
	}
	ps := &pageSet{byName: make(map[string]*template.Template, len(files))}
	for _, f := range files {
		t := template.Must(template.Must(base.Clone()).ParseFS(templateFS, f))
		ps.byName[strings.TrimSuffix(path.Base(f), ".html")] = t
	}
	return ps
}

// render writes a whole page: the layout around the named page's
// "content". It renders into a buffer first, so a template error becomes a
// clean 500 instead of half a page.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name string, v *view, data any) error {
	return s.execute(w, status, name, "layout", v, data)
}

// fragment writes one named template of a page, for an htmx swap.
func (s *Server) fragment(w http.ResponseWriter, status int, name, block string, v *view, data any) error {
	return s.execute(w, status, name, block, v, data)
}

func (s *Server) execute(w http.ResponseWriter, status int, name, block string, v *view, data any) error {
	t, ok := s.pages.byName[name]
	if !ok {
		return fmt.Errorf("web: no page template %q", name)
	}
	v.Data = data
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, block, v); err != nil {
		return fmt.Errorf("web: render %s/%s: %w", name, block, err)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, err := buf.WriteTo(w)
	return err
}

// funcs are the helpers templates may call. html/template escapes every
// value it prints, so none of these return template.HTML from user data.
var funcs = template.FuncMap{
	// time formats a time for people; zero times show as a dash.
	"time": func(t any) string {
		switch t := t.(type) {
		case time.Time:
			if t.IsZero() {
				return "—"
			}
			return t.UTC().Format("2006-01-02 15:04 UTC")
		case *time.Time:
			if t == nil || t.IsZero() {
				return "—"
			}
			return t.UTC().Format("2006-01-02 15:04 UTC")
		}
		return "—"
	},
	// json is a value as JSON text, for data-* attributes read by scripts.
	"json": func(v any) (string, error) {
		b, err := json.Marshal(v)
		return string(b), err
	},
	// query is the current query with one key set (or removed when the
	// value is empty), for filter links and pagers.
	"query": func(q url.Values, kv ...string) string {
		out := url.Values{}
		for k, vs := range q {
			out[k] = append([]string(nil), vs...)
		}
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i+1] == "" {
				out.Del(kv[i])
			} else {
				out.Set(kv[i], kv[i+1])
			}
		}
		if len(out) == 0 {
			return ""
		}
		return "?" + out.Encode()
	},
	// badge is the CSS modifier for a status word.
	"badge": func(status string) string {
		switch status {
		case "approved", "delivered", "sent", "completed", "opted_in", "enabled", "published", "active":
			return "good"
		case "failed", "undelivered", "rejected", "opted_out", "cancelled":
			return "bad"
		case "pending", "pending_review", "limit_queued", "rate_limited", "scheduled", "processing", "queued", "sending", "draft":
			return "wait"
		}
		return "plain"
	},
	// asset is the path of a vendored front-end file; the version is in
	// the name, so a new version is one change here.
	"asset": func(name string) string {
		return map[string]string{
			"htmx":      "/static/htmx-2.0.11.min.js",
			"uplot.js":  "/static/uplot-1.6.32.min.js",
			"uplot.css": "/static/uplot-1.6.32.min.css",
		}[name]
	},
	// csrfHeaders is the hx-headers value that makes every htmx request
	// carry the session's CSRF token.
	"csrfHeaders": func(token string) (string, error) {
		b, err := json.Marshal(map[string]string{"X-CSRF-Token": token})
		return string(b), err
	},
	"join": strings.Join,
	"add":  func(a, b int) int { return a + b },
}
