// Command herald is the SMS engagement engine: see "herald help".
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/heraldsms/herald/internal/app"
)

func main() {
	app.TuneGC(os.Getenv)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := app.Main(ctx, os.Args[1:], app.Env{Stdout: os.Stdout, Stderr: os.Stderr, Stdin: os.Stdin})
	stop()
	os.Exit(code)
}
