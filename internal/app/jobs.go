package app

import (
	"context"
	"time"

	"github.com/riverqueue/river"

	"github.com/heraldsms/herald/internal/jobs"
	"github.com/heraldsms/herald/internal/message"
	"github.com/heraldsms/herald/internal/secret"
	"github.com/heraldsms/herald/internal/webhook"
)

// openJobs migrates River's tables, then builds the webhook service and
// the job queue that runs its deliveries. The service comes first: the
// queue needs its worker, and the service needs the queue to emit.
func (a *App) openJobs(ctx context.Context, box *secret.Box, o options) error {
	if err := jobs.Migrate(ctx, a.DB, a.Log); err != nil {
		return err
	}
	wcfg := webhook.Config{}
	if o.webhooks != nil {
		o.webhooks(&wcfg)
	}
	a.Webhooks = webhook.NewService(a.DB, a.Clock, a.Log, box, wcfg)
	workers := river.NewWorkers()
	a.Webhooks.AddWorkers(workers)
	a.Automations.AddWorkers(workers)
	jcfg := jobs.Config{Queues: map[string]int{jobs.QueueDefault: 10, webhook.Queue: webhook.Workers},
		Periodic: a.Webhooks.PeriodicJobs()}
	if o.jobs != nil {
		o.jobs(&jcfg)
	}
	q, err := jobs.New(a.DB, a.Log, workers, jcfg)
	if err != nil {
		return err
	}
	a.Jobs = q
	a.Webhooks.SetQueue(q)
	a.Automations.SetQueue(q)
	a.Messages.OnMark = a.emitUsageMark
	a.Accounts.OnCarrierRefused = a.emitCarrierRefused
	return nil
}

// emitCarrierRefused tells the account's webhooks that the carrier began
// refusing its credentials; the store calls it once the refusal is noted.
func (a *App) emitCarrierRefused(ctx context.Context, accountID string, at time.Time) {
	acct, err := a.Accounts.Get(ctx, accountID)
	if err == nil {
		data := webhook.CarrierRefusedData{RefusedAt: at}
		if acct.Twilio != nil {
			data.AccountSID = acct.Twilio.AccountSID
		}
		err = a.Webhooks.Emit(ctx, nil, accountID, webhook.CarrierRefused, data)
	}
	if err != nil {
		a.Log.ErrorContext(ctx, "carrier refusal webhook not emitted", "err", err, "account_id", accountID)
	}
}

// emitUsageMark tells the account's webhooks that this month's messages
// crossed a mark of its monthly limit. The message service calls it after
// the reservation that crossed the mark has committed.
func (a *App) emitUsageMark(ctx context.Context, accountID string, mark int) {
	acct, err := a.Accounts.Get(ctx, accountID)
	if err == nil {
		var u message.Usage
		if u, err = a.Messages.UsageOf(ctx, acct); err == nil {
			err = a.Webhooks.Emit(ctx, nil, accountID, webhook.UsageThreshold,
				webhook.UsageThresholdData{Mark: mark, Month: u.Month, Used: u.Used, Limit: u.Limit})
		}
	}
	if err != nil {
		a.Log.ErrorContext(ctx, "usage webhook not emitted", "err", err, "account_id", accountID, "mark", mark)
	}
}

// runJobs works jobs until ctx is done, then stops taking new ones and
// lets running ones finish (River cancels them after its stop timeout).
func (a *App) runJobs(ctx context.Context) {
	if err := a.Jobs.Start(context.WithoutCancel(ctx)); err != nil {
		a.Log.Error("job queue did not start", "err", err)
		return
	}
	<-ctx.Done()
	stopCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := a.Jobs.Stop(stopCtx); err != nil {
		a.Log.Error("job queue did not stop cleanly", "err", err)
	}
}
