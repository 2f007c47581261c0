package app

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/heraldsms/herald/internal/account"
	"github.com/heraldsms/herald/internal/config"
	"github.com/heraldsms/herald/internal/sim"
	"github.com/heraldsms/herald/internal/user"
)

const usage = `herald: SMS engagement for referral and loyalty programs

Usage:
  herald serve [--demo] [flags]             run the HTTP server and workers
  herald migrate [flags]                    apply database migrations and exit
  herald account create --name NAME [--json] create an account and its first admin API key
  herald operator key [--json]              create an operator API key
  herald user create --email E --role R [--account ID] [--password P] [--json]
                                            create a user of the admin web (the operator: no --account)
  herald sim [--addr A] [--inbound-url U]   run the carrier simulator alone

Every command takes the flags below; each also reads its HERALD_* variable.
`

// Env is what a command reads from and writes to, so tests can run
// commands without a process of their own.
type Env struct {
	Stdout, Stderr io.Writer
	Stdin          io.Reader
	Getenv         func(string) string
}

// Main runs the command named by args (without the program name) and
// returns the process exit code.
func Main(ctx context.Context, args []string, env Env) int {
	if env.Getenv == nil {
		env.Getenv = os.Getenv
	}
	if err := run(ctx, args, env); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintln(env.Stderr, "herald:", err)
		return 1
	}
	return 0
}

func run(ctx context.Context, args []string, env Env) error {
	if len(args) == 0 {
		fmt.Fprint(env.Stderr, usage)
		return errors.New("name a command")
	}
	switch cmd := strings.Join(args[:min(2, len(args))], " "); {
	case args[0] == "serve":
		return serve(ctx, args[1:], env)
	case args[0] == "migrate":
		return migrate(ctx, args[1:], env)
	case cmd == "account create":
		return accountCreate(ctx, args[2:], env)
	case cmd == "operator key":
		return operatorKey(ctx, args[2:], env)
	case cmd == "user create":
		return userCreate(ctx, args[2:], env)
	case args[0] == "sim":
		return simulator(ctx, args[1:], env)
	case args[0] == "help" || args[0] == "-h" || args[0] == "--help":
		fmt.Fprint(env.Stdout, usage)
		return nil
	default:
		fmt.Fprint(env.Stderr, usage)
		return fmt.Errorf("unknown command %q", strings.Join(args, " "))
	}
}

// setup parses flags, validates the config and opens the app.
func setup(ctx context.Context, name string, args []string, env Env, extra func(*flag.FlagSet)) (*App, error) {
	fs := flag.NewFlagSet("herald "+name, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	cfg := config.Bind(fs, env.Getenv)
	if extra != nil {
		extra(fs)
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return Open(ctx, *cfg, newLogger(cfg, env.Stderr))
}

func newLogger(cfg *config.Config, w io.Writer) *slog.Logger {
	level, _ := cfg.Level()
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

func serve(ctx context.Context, args []string, env Env) error {
	a, err := setup(ctx, "serve", args, env, nil)
	if err != nil {
		return err
	}
	defer a.Close()
	return a.Serve(ctx, func(addr string) {
		a.Log.Info("listening", "addr", addr, "public_url", a.Config.PublicURL, "engine", a.DB.Engine)
		if a.Config.Demo {
			if err := a.announceDemo(ctx, env.Stdout); err != nil {
				a.Log.Error("demo seed failed", "err", err)
			}
		}
	})
}

func migrate(ctx context.Context, args []string, env Env) error {
	a, err := setup(ctx, "migrate", args, env, nil)
	if err != nil {
		return err
	}
	defer a.Close()
	fmt.Fprintf(env.Stdout, "migrations applied on %s\n", a.DB.Engine)
	return nil
}

func accountCreate(ctx context.Context, args []string, env Env) error {
	var name string
	var asJSON bool
	a, err := setup(ctx, "account create", args, env, func(fs *flag.FlagSet) {
		fs.StringVar(&name, "name", "", "the account's name (required)")
		fs.BoolVar(&asJSON, "json", false, "print one JSON object")
	})
	if err != nil {
		return err
	}
	defer a.Close()
	if name == "" {
		return errors.New("account create: --name is required")
	}
	acct, key, err := a.Accounts.CreateAccount(ctx, account.NewAccount{Name: name})
	if err != nil {
		return err
	}
	if asJSON {
		return json.NewEncoder(env.Stdout).Encode(map[string]string{"account_id": acct.ID, "api_key": key})
	}
	fmt.Fprintf(env.Stdout, "account %s created\nAPI key (shown once): %s\n", acct.ID, key)
	return nil
}

func operatorKey(ctx context.Context, args []string, env Env) error {
	var asJSON bool
	a, err := setup(ctx, "operator key", args, env, func(fs *flag.FlagSet) {
		fs.BoolVar(&asJSON, "json", false, "print one JSON object")
	})
	if err != nil {
		return err
	}
	defer a.Close()
	_, key, err := a.Accounts.CreateOperatorKey(ctx, "operator key")
	if err != nil {
		return err
	}
	if asJSON {
		return json.NewEncoder(env.Stdout).Encode(map[string]string{"api_key": key})
	}
	fmt.Fprintf(env.Stdout, "operator API key (shown once): %s\n", key)
	return nil
}

// userCreate adds a user of the admin web. Without --password it makes one
// and prints it once; with --password - it reads the password from stdin's
// first line, so it stays out of the shell's history.
func userCreate(ctx context.Context, args []string, env Env) error {
	var n user.New
	var role, password string
	var asJSON bool
	a, err := setup(ctx, "user create", args, env, func(fs *flag.FlagSet) {
		fs.StringVar(&n.AccountID, "account", "", "the account the user belongs to (none for the operator)")
		fs.StringVar(&n.Email, "email", "", "the email the user signs in with (required)")
		fs.StringVar(&n.Name, "name", "", "the user's name")
		fs.StringVar(&role, "role", "", "viewer, editor, admin or operator (required)")
		fs.StringVar(&password, "password", "", "the password; '-' reads it from stdin; empty makes one")
		fs.BoolVar(&asJSON, "json", false, "print one JSON object")
	})
	if err != nil {
		return err
	}
	defer a.Close()
	generated := false
	switch password {
	case "":
		password, generated = rand.Text(), true // 128 bits, base32
	case "-":
		if password, err = readLine(env.Stdin); err != nil {
			return fmt.Errorf("user create: read password: %w", err)
		}
	}
	n.Role, n.Password = account.Role(role), password
	u, err := a.Users.Create(ctx, n)
	if err != nil {
		return err
	}
	out := map[string]string{"user_id": u.ID, "email": u.Email, "role": string(u.Role)}
	if generated {
		out["password"] = password
	}
	if asJSON {
		return json.NewEncoder(env.Stdout).Encode(out)
	}
	fmt.Fprintf(env.Stdout, "user %s (%s, %s) created\n", u.ID, u.Email, u.Role)
	if generated {
		fmt.Fprintf(env.Stdout, "password (shown once): %s\n", password)
	}
	return nil
}

func readLine(r io.Reader) (string, error) {
	if r == nil {
		return "", errors.New("no stdin")
	}
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	return strings.TrimRight(line, "\r\n"), nil
}

// simulator runs the Twilio-compatible carrier alone, for a Herald in
// another process (or several): point an account's twilio.base_url at it.
func simulator(ctx context.Context, args []string, env Env) error {
	fs := flag.NewFlagSet("herald sim", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	addr := fs.String("addr", "127.0.0.1:8090", "address to listen on")
	inbound := fs.String("inbound-url", "http://127.0.0.1:8080/webhooks/twilio/inbound", "where handsets' replies are posted")
	delay := fs.Duration("delay", time.Second, "wait before each status callback")
	if err := fs.Parse(args); err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(env.Stderr, nil))
	s := sim.New(sim.Config{CallbackDelay: *delay, InboundURL: *inbound, Logger: log})
	defer s.Close()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shut)
	}()
	fmt.Fprintf(env.Stdout, "carrier simulator on http://%s (use it as twilio.base_url)\n", ln.Addr())
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
