// Package app is Herald's composition root: it turns a Config into an open
// database, the domain services and the HTTP server, runs them, and shuts
// them down in order. Nothing else builds long-lived dependencies.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/heraldsms/herald/internal/account"
	"github.com/heraldsms/herald/internal/api"
	"github.com/heraldsms/herald/internal/clock"
	"github.com/heraldsms/herald/internal/config"
	"github.com/heraldsms/herald/internal/contact"
	"github.com/heraldsms/herald/internal/db"
)

// App is a running Herald: its database, services and server.
type App struct {
	Config   config.Config
	Log      *slog.Logger
	DB       *db.DB
	Clock    clock.Clock
	Accounts *account.Store
	Contacts *contact.Service
	API      *api.Server
}

// Open connects to the database, applies migrations and builds the services.
func Open(ctx context.Context, cfg config.Config, log *slog.Logger) (*App, error) {
	d, err := db.Open(ctx, db.Options{URL: cfg.DatabaseURL, DataDir: cfg.DataDir})
	if err != nil {
		return nil, err
	}
	n, err := d.Migrate(ctx)
	if err != nil {
		_ = d.Close()
		return nil, err
	}
	if n > 0 {
		log.Info("migrated", "engine", d.Engine, "applied", n)
	}
	a := &App{Config: cfg, Log: log, DB: d, Clock: clock.System{}}
	a.Accounts = account.NewStore(d, a.Clock)
	a.Contacts = contact.NewService(d, a.Clock, a.Accounts)
	a.API = api.New(api.Deps{DB: d, Accounts: a.Accounts, Contacts: a.Contacts, Clock: a.Clock, Logger: log})
	return a, nil
}

// Close releases the database.
func (a *App) Close() error { return a.DB.Close() }

// Handler is everything the HTTP server serves.
func (a *App) Handler() http.Handler { return a.API }

// Serve listens on the configured address until ctx is done, then stops
// taking requests and lets those in flight finish (up to 15 s).
func (a *App) Serve(ctx context.Context, ready func(addr string)) error {
	ln, err := net.Listen("tcp", a.Config.Addr)
	if err != nil {
		return fmt.Errorf("app: listen: %w", err)
	}
	srv := &http.Server{
		Handler:           a.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       2 * time.Minute,
		WriteTimeout:      5 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(a.Log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	if ready != nil {
		ready(ln.Addr().String())
	}
	select {
	case err := <-errc:
		return fmt.Errorf("app: serve: %w", err)
	case <-ctx.Done():
	}
	a.Log.Info("shutting down")
	shutCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutCtx); err != nil {
		return fmt.Errorf("app: shutdown: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
