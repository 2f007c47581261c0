package web

import (
	"embed"
	"io/fs"
	"net/http"
)

// The front-end files are vendored (htmx, uPlot, each with its licence and
// version in its name) and embedded, so building Herald needs only Go.
//
//go:embed static
var staticFS embed.FS

// staticHandler serves the embedded files. Their names carry versions, so
// browsers may keep them for a day.
func staticHandler() http.Handler {
	sub, err := fs.Sub(staticFS, "static")
	if err != nil {
		panic(err)
	}
	files := http.FileServerFS(sub)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=86400")
		files.ServeHTTP(w, r)
	})
}
