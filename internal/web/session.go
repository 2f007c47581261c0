package web

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/heraldsms/herald/internal/problem"
	"github.com/heraldsms/herald/internal/user"
)

// Cookie names. The __Host- prefix, used over HTTPS, pins a cookie to this
// host and path / so no subdomain can set or shadow it.
const (
	sessionCookie = "herald_session"
	// preCookie carries the CSRF token of the sign-in form, before there
	// is a session to keep it in.
	preCookie    = "herald_signin"
	noticeCookie = "herald_notice"
)

// secure reports whether cookies must be Secure: when this request came
// over TLS, or Herald's public URL is https (TLS ended at a proxy).
func (s *Server) secure(r *http.Request) bool {
	return r.TLS != nil || strings.HasPrefix(s.PublicURL, "https://")
}

func (s *Server) cookieName(r *http.Request, name string) string {
	if s.secure(r) {
		return "__Host-" + name
	}
	return name
}

func (s *Server) setCookie(w http.ResponseWriter, r *http.Request, name, value string, maxAge time.Duration) {
	c := &http.Cookie{Name: s.cookieName(r, name), Value: value, Path: "/", HttpOnly: true,
		Secure: s.secure(r), SameSite: http.SameSiteLaxMode}
	if maxAge < 0 {
		c.MaxAge = -1
	} else if maxAge > 0 {
		c.MaxAge = int(maxAge.Seconds())
	}
	http.SetCookie(w, c)
}

func (s *Server) cookie(r *http.Request, name string) string {
	c, err := r.Cookie(s.cookieName(r, name))
	if err != nil {
		return ""
	}
	return c.Value
}

// newView loads the session, if any, and what every page shows.
func (s *Server) newView(w http.ResponseWriter, r *http.Request) (*view, error) {
	v := &view{Simulator: s.Sim != nil, Path: r.URL.Path, Query: r.URL.Query()}
	if msg := s.cookie(r, noticeCookie); msg != "" {
		v.Notice, _ = url.QueryUnescape(msg)
		s.setCookie(w, r, noticeCookie, "", -1)
	}
	token := s.cookie(r, sessionCookie)
	if token == "" {
		v.CSRF = s.cookie(r, preCookie)
		return v, nil
	}
	sess, err := s.Users.Session(r.Context(), token)
	if errors.Is(err, user.ErrNoSession) {
		s.setCookie(w, r, sessionCookie, "", -1)
		v.CSRF = s.cookie(r, preCookie)
		return v, nil
	}
	if err != nil {
		return v, err
	}
	v.User, v.CSRF, v.Principal = &sess.User, sess.CSRF, sess.User.Principal()
	if sess.User.AccountID != "" {
		a, err := s.Accounts.Get(r.Context(), sess.User.AccountID)
		if err != nil {
			return v, err
		}
		v.Account = &a
	}
	return v, nil
}

// notice shows msg once, on the next page the browser loads.
func (s *Server) notice(w http.ResponseWriter, r *http.Request, msg string) {
	s.setCookie(w, r, noticeCookie, url.QueryEscape(msg), time.Minute)
}

// redirect answers a form with See Other, the Post/Redirect/Get pattern;
// for htmx it asks for a full navigation instead.
func redirect(w http.ResponseWriter, r *http.Request, to string) {
	if r.Header.Get("HX-Request") == "true" {
		w.Header().Set("HX-Redirect", to)
		w.WriteHeader(http.StatusNoContent)
		return
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

type signInData struct {
	Email string
	Next  string
	Error string
}

// signInPage shows the form. Its CSRF token lives in a short cookie until
// a session exists, so a sign-in cannot be forged from another site
// (login CSRF).
func (s *Server) signInPage(w http.ResponseWriter, r *http.Request, v *view) error {
	if v.User != nil {
		http.Redirect(w, r, s.home(v), http.StatusSeeOther)
		return nil
	}
	s.ensurePreToken(w, r, v)
	return s.render(w, r, http.StatusOK, "signin", v, signInData{Next: safeNext(r.URL.Query().Get("next"))})
}

func (s *Server) ensurePreToken(w http.ResponseWriter, r *http.Request, v *view) {
	if v.CSRF == "" {
		b := make([]byte, 32)
		_, _ = rand.Read(b)
		v.CSRF = base64.RawURLEncoding.EncodeToString(b)
		s.setCookie(w, r, preCookie, v.CSRF, time.Hour)
	}
}

// signIn checks the email and password and starts a session.
func (s *Server) signIn(w http.ResponseWriter, r *http.Request, v *view) error {
	email, next := r.PostFormValue("email"), safeNext(r.PostFormValue("next"))
	u, err := s.Users.Authenticate(r.Context(), email, r.PostFormValue("password"))
	if errors.Is(err, user.ErrBadCredentials) {
		s.ensurePreToken(w, r, v)
		return s.render(w, r, http.StatusUnauthorized, "signin", v,
			signInData{Email: email, Next: next, Error: "That email and password do not match. Try again."})
	}
	if err != nil {
		return err
	}
	if v.User != nil {
		_ = s.Users.EndSession(r.Context(), s.cookie(r, sessionCookie))
	}
	token, sess, err := s.Users.StartSession(r.Context(), u)
	if err != nil {
		return err
	}
	// A new session gets a new cookie: a token planted before sign-in
	// (session fixation) opens nothing.
	s.setCookie(w, r, sessionCookie, token, 0)
	s.setCookie(w, r, preCookie, "", -1)
	v.User, v.Principal, v.CSRF = &sess.User, sess.User.Principal(), sess.CSRF
	if next == "" {
		next = s.home(v)
	}
	redirect(w, r, next)
	return nil
}

// signOut ends the session.
func (s *Server) signOut(w http.ResponseWriter, r *http.Request, v *view) error {
	if token := s.cookie(r, sessionCookie); token != "" {
		if err := s.Users.EndSession(r.Context(), token); err != nil {
			return err
		}
	}
	s.setCookie(w, r, sessionCookie, "", -1)
	redirect(w, r, "/signin")
	return nil
}

// safeNext keeps a post-sign-in destination on this site: a path, never
// another host ("//evil.example" or "/\evil.example" included).
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return ""
	}
	u, err := url.Parse(next)
	if err != nil || u.Host != "" || u.Scheme != "" {
		return ""
	}
	return next
}

// fail answers an error: sign in for a visitor, else a page that says
// what went wrong and what to do.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, v *view, err error) {
	if errors.Is(err, errSignIn) {
		to := "/signin"
		if r.Method == http.MethodGet {
			to += "?next=" + url.QueryEscape(r.URL.RequestURI())
		}
		redirect(w, r, to)
		return
	}
	status, msg := http.StatusInternalServerError, ""
	if p, ok := problem.As(err); ok {
		status, msg = p.Kind.HTTPStatus(), p.Message
	}
	if status >= 500 {
		reqID := newRequestID()
		s.Logger.Error("web", "method", r.Method, "path", r.URL.Path, "err", err, "request_id", reqID)
		msg = "Something went wrong on our side. If it keeps happening, quote " + reqID + "."
	}
	if rerr := s.render(w, r, status, "error", v, errorData{Status: status, Message: msg}); rerr != nil {
		s.Logger.Error("web: error page", "err", rerr)
		http.Error(w, msg, status)
	}
}

type errorData struct {
	Status  int
	Message string
}

func newRequestID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
