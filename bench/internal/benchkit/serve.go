package benchkit

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"runtime/pprof"
	"sync"
	"syscall"

	"github.com/heraldsms/herald/internal/app"
	"github.com/heraldsms/herald/internal/config"
)

// Serve runs a whole Herald (API, workers, built-in simulator) on a
// loopback port, on a fresh SQLite directory or a fresh PostgreSQL schema
// of its own. adjust may change the configuration before it opens. The
// cleanup stops it and removes its data; it is safe to call more than once.
func Serve(ctx context.Context, engine, dbURL string, adjust func(*config.Config), opts ...app.Option) (a *app.App, base string, cleanup func(), err error) {
	var cleanups []func()
	var once sync.Once
	cleanup = func() {
		once.Do(func() {
			for i := len(cleanups) - 1; i >= 0; i-- {
				cleanups[i]()
			}
		})
	}
	fail := func(err error) (*app.App, string, func(), error) {
		cleanup()
		return nil, "", nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fail(err)
	}
	cleanups = append(cleanups, func() { _ = ln.Close() })
	base = "http://" + ln.Addr().String()
	cfg := config.Config{Addr: ln.Addr().String(), PublicURL: base, SecretKey: "herald benchmark",
		Simulator: true, LogLevel: "warn", LogFormat: "text"}
	switch engine {
	case "sqlite":
		dir, err := os.MkdirTemp("", "herald-bench-")
		if err != nil {
			return fail(err)
		}
		cleanups = append(cleanups, func() { _ = os.RemoveAll(dir) })
		cfg.DataDir = dir
	case "postgres":
		u, drop, err := FreshSchema(ctx, dbURL)
		if err != nil {
			return fail(err)
		}
		cleanups = append(cleanups, drop)
		cfg.DatabaseURL = u
	default:
		return fail(fmt.Errorf("engine %q: want sqlite or postgres", engine))
	}
	if adjust != nil {
		adjust(&cfg)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	a, err = app.Open(ctx, cfg, log, opts...)
	if err != nil {
		return fail(err)
	}
	serveCtx, stopServe := context.WithCancel(ctx)
	served := make(chan struct{})
	go func() {
		defer close(served)
		if err := a.ServeListener(serveCtx, ln, nil); err != nil {
			fmt.Fprintln(os.Stderr, "bench: serve:", err)
		}
	}()
	cleanups = append(cleanups, func() {
		stopServe()
		<-served
		_ = a.Close()
	})
	return a, base, cleanup, nil
}

// CleanupOnSignal makes an interrupted run (Ctrl-C, SIGTERM) still stop
// its CPU profile and run cleanup, dropping its schema or directory, before
// it exits. The returned function stops listening.
func CleanupOnSignal(cleanup func()) (stop func()) {
	sigc := make(chan os.Signal, 1)
	signal.Notify(sigc, os.Interrupt, syscall.SIGTERM)
	go func() {
		if _, ok := <-sigc; ok {
			pprof.StopCPUProfile()
			cleanup()
			os.Exit(130)
		}
	}()
	return func() {
		signal.Stop(sigc)
		close(sigc)
	}
}
