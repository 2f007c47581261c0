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
	"os"
	"time"

	"github.com/heraldsms/herald/internal/account"
	"github.com/heraldsms/herald/internal/api"
	"github.com/heraldsms/herald/internal/automation"
	"github.com/heraldsms/herald/internal/clock"
	"github.com/heraldsms/herald/internal/config"
	"github.com/heraldsms/herald/internal/contact"
	"github.com/heraldsms/herald/internal/db"
	"github.com/heraldsms/herald/internal/delivery"
	"github.com/heraldsms/herald/internal/enroll"
	"github.com/heraldsms/herald/internal/inbound"
	"github.com/heraldsms/herald/internal/jobs"
	"github.com/heraldsms/herald/internal/message"
	"github.com/heraldsms/herald/internal/metrics"
	"github.com/heraldsms/herald/internal/msgtemplate"
	"github.com/heraldsms/herald/internal/provider/twilio"
	"github.com/heraldsms/herald/internal/secret"
	"github.com/heraldsms/herald/internal/sim"
	"github.com/heraldsms/herald/internal/user"
	"github.com/heraldsms/herald/internal/web"
	"github.com/heraldsms/herald/internal/webhook"
)

// App is a running Herald: its database, services and server.
type App struct {
	Config     config.Config
	Log        *slog.Logger
	DB         *db.DB
	Clock      clock.Clock
	Accounts   *account.Store
	Contacts   *contact.Service
	Templates  *msgtemplate.Service
	Messages   *message.Service
	Inbound    *inbound.Service
	Dispatcher *delivery.Dispatcher
	// Jobs is the durable job queue (River); Webhooks emits events to the
	// accounts' endpoints and delivers them on it.
	Jobs     *jobs.Queue
	Webhooks *webhook.Service
	// Automations takes program events in and runs automations on Jobs.
	Automations *automation.Service
	stopGroup   func()
	// Sim is the built-in carrier, nil when HERALD_SIMULATOR is off.
	Sim *sim.Sim
	API *api.Server
	// Metrics keeps the SMS dashboard's rollups; Run folds them.
	Metrics *metrics.Service
	// Users sign in to the admin web, Web.
	Users *user.Store
	Web   *web.Server
	// Enroll is the public enrollment page, widget and endpoint.
	Enroll *enroll.Handler
}

// Option adjusts how an App is built; tests use them to shorten waits.
type Option func(*options)

type options struct {
	delivery func(*delivery.Config)
	sim      func(*sim.Config)
	jobs     func(*jobs.Config)
	webhooks func(*webhook.Config)
	users    []user.Option
}

// WithDelivery adjusts the dispatcher's configuration.
func WithDelivery(f func(*delivery.Config)) Option { return func(o *options) { o.delivery = f } }

// WithSimulator adjusts the built-in simulator's configuration.
func WithSimulator(f func(*sim.Config)) Option { return func(o *options) { o.sim = f } }

// WithJobs adjusts the job queue's configuration.
func WithJobs(f func(*jobs.Config)) Option { return func(o *options) { o.jobs = f } }

// WithWebhooks adjusts webhook delivery (timeouts, retry backoff).
func WithWebhooks(f func(*webhook.Config)) Option { return func(o *options) { o.webhooks = f } }

// WithUsers adjusts the store of admin-web users (tests lower the cost of
// password hashing).
func WithUsers(opts ...user.Option) Option { return func(o *options) { o.users = opts } }

// Open connects to the database, applies migrations and builds the services.
func Open(ctx context.Context, cfg config.Config, log *slog.Logger, opts ...Option) (*App, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	proxies, err := cfg.Proxies()
	if err != nil {
		return nil, err
	}
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
	box, err := secret.FromSetting(cfg.SecretKey, cfg.DataDir)
	if err != nil {
		_ = d.Close()
		return nil, err
	}
	a := &App{Config: cfg, Log: log, DB: d, Clock: clock.System{}}
	a.Accounts = account.NewStore(d, a.Clock, account.WithSecrets(box))
	a.Contacts = contact.NewService(d, a.Clock, a.Accounts)
	source := &message.TemplateSource{}
	a.Messages = message.NewService(d, a.Clock, log, a.Accounts, a.Contacts, source)
	a.Messages.SetCarrierActions(a.Contacts)
	groupCtx, stopGroup := context.WithCancel(context.Background())
	a.stopGroup = stopGroup
	groups := messageGroups(groupCtx, d)
	a.Messages.SetGroups(groups)
	a.Templates = msgtemplate.NewService(d, a.Clock, a.Accounts, a.Messages, log)
	source.Templates = a.Templates
	a.Inbound = inbound.NewService(d, a.Clock, log, a.Accounts, a.Contacts)
	enrollments := enroll.NewService(d, a.Clock, log, a.Accounts, a.Contacts, a.Messages)
	a.Inbound.Confirmer = enrollments
	limits := enroll.DefaultLimits
	limits.TrustedProxies = proxies
	a.Enroll = enroll.NewHandler(enrollments, log, a.Clock, limits)
	dcfg := delivery.Config{Holder: holderName(), StatusCallback: cfg.PublicURL + "/webhooks/twilio/status"}
	if o.delivery != nil {
		o.delivery(&dcfg)
	}
	a.Dispatcher = delivery.New(dcfg, d, a.Messages, a.Accounts, twilio.New(twilio.NewHTTPClient(30*time.Second), log), a.Clock, log)
	a.Messages.SetWaker(a.Dispatcher)
	a.Automations = automation.NewService(d, a.Clock, log, a.Accounts, a.Contacts, a.Templates, a.Messages)
	a.Automations.SetGroup(runsGroup(d, groups))
	if err := a.openJobs(ctx, box, o); err != nil {
		_ = d.Close()
		return nil, err
	}
	a.wireEvents()
	if cfg.Simulator {
		scfg := sim.Config{
			CallbackDelay: cfg.SimDelay,
			InboundURL:    cfg.PublicURL + "/webhooks/twilio/inbound",
			Logger:        log,
		}
		if o.sim != nil {
			o.sim(&scfg)
		}
		a.Sim = sim.New(scfg)
	}
	a.Metrics = metrics.NewService(d, a.Clock, log)
	a.API = api.New(api.Deps{DB: d, Metrics: a.Metrics, Accounts: a.Accounts, Contacts: a.Contacts, Messages: a.Messages,
		Webhooks:    a.Webhooks,
		Automations: a.Automations,
		Inbound:     a.Inbound, Templates: a.Templates, PublicURL: cfg.PublicURL, Sim: a.Sim, Clock: a.Clock, Logger: log})
	a.Users = user.NewStore(d, a.Clock, o.users...)
	a.Web = web.New(web.Deps{Accounts: a.Accounts, Users: a.Users, Contacts: a.Contacts, Messages: a.Messages,
		Templates: a.Templates, Automations: a.Automations, Inbound: a.Inbound, Webhooks: a.Webhooks,
		Metrics: a.Metrics, Sim: a.Sim, PublicURL: cfg.PublicURL, Clock: a.Clock, Logger: log})
	return a, nil
}

// holderName names this process in number leases.
func holderName() string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s-%d-%d", host, os.Getpid(), time.Now().UnixNano()%1_000_000)
}

// Close stops the simulator and releases the database.
func (a *App) Close() error {
	a.stopGroup()
	if a.Sim != nil {
		a.Sim.Close()
	}
	return a.DB.Close()
}

// Handler is everything the HTTP server serves: the API, carrier webhooks
// and health checks; the simulator under /sim/ when it is on; the public
// enrollment pages under /enroll/; and the admin web at everything else.
func (a *App) Handler() http.Handler {
	mux := http.NewServeMux()
	for _, prefix := range []string{"/api/", "/webhooks/", "/healthz", "/readyz"} {
		mux.Handle(prefix, a.API)
	}
	if a.Sim != nil {
		mux.Handle("/sim/", http.StripPrefix("/sim", a.Sim.Handler()))
	}
	mux.Handle("/enroll/", a.Enroll)
	mux.Handle("/", a.Web)
	return mux
}

// Run starts the background workers (the dispatcher and the job queue)
// until ctx is done, and returns a function that waits for them to stop.
func (a *App) Run(ctx context.Context) (wait func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := a.Dispatcher.Run(ctx); err != nil {
			a.Log.Error("dispatcher stopped", "err", err)
		}
	}()
	housekept := make(chan struct{})
	go func() {
		defer close(housekept)
		a.housekeep(ctx)
	}()
	worked := make(chan struct{})
	go func() {
		defer close(worked)
		a.runJobs(ctx)
	}()
	folded := make(chan struct{})
	go func() {
		defer close(folded)
		a.Metrics.Run(ctx, metricsEvery)
	}()
	return func() {
		<-done
		<-housekept
		<-folded
		<-worked
	}
}

// metricsEvery is how often the dashboard's rollups catch up with the
// messages: the dashboard is this far behind, plus the time a fold takes.
const metricsEvery = 2 * time.Second

// statisticsEvery is how often the planner's statistics are checked: a
// promotion writes tens of thousands of messages in that time, and plans
// made for an empty table would read all of them.
const statisticsEvery = 10 * time.Second

// housekeep runs the periodic chores: releasing limit queues when a month
// begins (for accounts that chose it), pruning old callback records and
// ended sessions every minute, and keeping the query planner's statistics
// current every few seconds.
func (a *App) housekeep(ctx context.Context) {
	chores := time.NewTicker(time.Minute)
	defer chores.Stop()
	stats := time.NewTicker(statisticsEvery)
	defer stats.Stop()
	a.chores(ctx)
	a.optimize(ctx)
	for {
		select {
		case <-ctx.Done():
			return
		case <-chores.C:
			a.chores(ctx)
		case <-stats.C:
			a.optimize(ctx)
		}
	}
}

func (a *App) chores(ctx context.Context) {
	if n, err := a.Messages.ReleaseForNewMonth(ctx); err != nil && ctx.Err() == nil {
		a.Log.Error("monthly queue release failed", "err", err)
	} else if n > 0 {
		a.Log.Info("released last month's limit queue", "count", n)
	}
	if err := a.Messages.Prune(ctx); err != nil && ctx.Err() == nil {
		a.Log.Error("prune failed", "err", err)
	}
	if _, err := a.Users.PruneSessions(ctx); err != nil && ctx.Err() == nil {
		a.Log.Error("session prune failed", "err", err)
	}
}

func (a *App) optimize(ctx context.Context) {
	if err := a.DB.Optimize(ctx); err != nil && ctx.Err() == nil {
		a.Log.Error("planner statistics failed", "err", err)
	}
}

// Serve listens on the configured address until ctx is done, then stops
// taking requests and lets those in flight finish (up to 15 s).
func (a *App) Serve(ctx context.Context, ready func(addr string)) error {
	ln, err := net.Listen("tcp", a.Config.Addr)
	if err != nil {
		return fmt.Errorf("app: listen: %w", err)
	}
	return a.ServeListener(ctx, ln, ready)
}

// ServeListener is Serve on a listener the caller opened.
func (a *App) ServeListener(ctx context.Context, ln net.Listener, ready func(addr string)) error {
	srv := &http.Server{
		Handler:           a.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       2 * time.Minute,
		WriteTimeout:      5 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(a.Log.Handler(), slog.LevelWarn),
	}
	workCtx, stopWork := context.WithCancel(context.WithoutCancel(ctx))
	waitWork := a.Run(workCtx)
	defer func() {
		stopWork()
		waitWork()
	}()
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

// messageGroups gathers the message service's concurrent writes (new
// messages, claims and send results, carrier reports) into shared commits,
// which is what lets SQLite's one writer keep up: it gets one group, as
// its writes are serial anyway. On PostgreSQL a group's statements wait
// on round trips, not on the other groups, so each kind of work has its
// own and the three commit in parallel.
func messageGroups(ctx context.Context, d *db.DB) message.Groups {
	newGroup := func() *db.Group { return db.NewGroup(ctx, d, 2*time.Millisecond, 256) }
	if d.Engine == db.SQLite {
		g := newGroup()
		return message.Groups{Accept: g, Dispatch: g, Reports: g}
	}
	return message.Groups{Accept: newGroup(), Dispatch: newGroup(), Reports: newGroup()}
}

// runsGroup gathers the automation service's writes for events and runs
// into the one group of SQLite's writer. PostgreSQL gets none: a group's
// transactions run one at a time, and there the events' and runs' small
// transactions went faster side by side than queued behind each other
// (bench/automation -scenario events: 77 messages/s grouped against 94).
func runsGroup(d *db.DB, g message.Groups) *db.Group {
	if d.Engine == db.SQLite {
		return g.Accept
	}
	return nil
}
