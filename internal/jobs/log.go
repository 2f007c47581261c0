package jobs

import (
	"context"
	"log/slog"
)

// quiet passes on River's warnings and errors only: at info level River
// narrates every start, stop and migration step, which says nothing an
// operator of Herald needs.
type quiet struct{ slog.Handler }

func (q quiet) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelWarn && q.Handler.Enabled(ctx, l)
}

func (q quiet) WithAttrs(attrs []slog.Attr) slog.Handler { return quiet{q.Handler.WithAttrs(attrs)} }

func (q quiet) WithGroup(name string) slog.Handler { return quiet{q.Handler.WithGroup(name)} }

// riverLogger is the logger handed to River.
func riverLogger(log *slog.Logger) *slog.Logger {
	return slog.New(quiet{log.Handler()}).With("component", "jobs")
}
