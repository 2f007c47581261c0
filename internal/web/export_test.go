package web

// Route is one route of the admin web, as tests see it.
type Route struct {
	Method, Path string
	// Access is who may use it: public, signed_in, viewer, editor, admin
	// or operator.
	Access string
}

var accessName = map[access]string{public: "public", signedIn: "signed_in", viewer: "viewer", editor: "editor", admin: "admin", operator: "operator"}

// Routes lists every page and action, so tests can walk them all.
func (s *Server) Routes() []Route {
	var out []Route
	for _, p := range s.routes() {
		out = append(out, Route{Method: p.method, Path: p.path, Access: accessName[p.access]})
	}
	return out
}
