package app

import (
	"context"
	"time"

	"github.com/heraldsms/herald/internal/consent"
	"github.com/heraldsms/herald/internal/contact"
	"github.com/heraldsms/herald/internal/inbound"
	"github.com/heraldsms/herald/internal/message"
	"github.com/heraldsms/herald/internal/webhook"
)

// The data of each event, as docs/webhooks.md describes it.

type consentData struct {
	ContactID  string         `json:"contact_id"`
	ExternalID *string        `json:"external_id"`
	Phone      string         `json:"phone"`
	Preference string         `json:"preference"`
	Kinds      []consent.Kind `json:"kinds"`
	Source     string         `json:"source"`
	OccurredAt time.Time      `json:"occurred_at"`
}

type messageData struct {
	MessageID  string  `json:"message_id"`
	Status     string  `json:"status"`
	Reason     string  `json:"reason,omitempty"`
	ErrorCode  string  `json:"error_code,omitempty"`
	Kind       string  `json:"kind"`
	To         string  `json:"to"`
	ContactID  *string `json:"contact_id"`
	TemplateID *string `json:"template_id"`
}

type inboundData struct {
	InboundID string  `json:"inbound_id"`
	From      string  `json:"from"`
	To        string  `json:"to"`
	Body      string  `json:"body"`
	Intent    string  `json:"intent"`
	Action    string  `json:"action"`
	ContactID *string `json:"contact_id"`
}

var messageEvents = map[message.Status]string{
	message.Delivered: webhook.MessageDelivered, message.Undelivered: webhook.MessageFailed,
	message.Failed: webhook.MessageFailed, message.Skipped: webhook.MessageSkipped,
	message.LimitQueued: webhook.MessageLimitQueued,
}

// wireEvents tells the account's webhooks what happens in the domain. Each
// hook runs after its change has committed, so an event is never sent for
// a change that was rolled back (a crash between the two loses the event,
// not the change).
func (a *App) wireEvents() {
	a.Contacts.OnConsent = func(ctx context.Context, c contact.Contact, records []consent.Record) {
		byPref := map[consent.Preference][]consent.Kind{}
		for _, r := range records {
			byPref[r.To] = append(byPref[r.To], r.Kind)
		}
		for pref, kinds := range byPref {
			event := webhook.ContactOptedOut
			if pref == consent.OptedIn {
				event = webhook.ContactOptedIn
			} else if pref != consent.OptedOut {
				continue
			}
			a.emit(ctx, c.AccountID, event, consentData{ContactID: c.ID, ExternalID: c.ExternalID, Phone: c.E164(),
				Preference: string(pref), Kinds: kinds, Source: string(records[0].Source), OccurredAt: records[0].OccurredAt})
		}
	}
	a.Messages.OnOutcome = func(ctx context.Context, m *message.Message) {
		a.emit(ctx, m.AccountID, messageEvents[m.Status], messageData{MessageID: m.ID, Status: string(m.Status),
			Reason: m.Reason, ErrorCode: m.ErrorCode, Kind: string(m.Kind), To: m.To, ContactID: m.ContactID, TemplateID: m.TemplateID})
	}
	a.Inbound.OnReceived = func(ctx context.Context, accountID string, m inbound.Message) {
		a.emit(ctx, accountID, webhook.InboundReceived, inboundData{InboundID: m.ID, From: m.From, To: m.To, Body: m.Body,
			Intent: m.Intent, Action: m.Action, ContactID: m.ContactID})
	}
}

func (a *App) emit(ctx context.Context, accountID, event string, data any) {
	if event == "" {
		return
	}
	if err := a.Webhooks.Emit(ctx, nil, accountID, event, data); err != nil {
		a.Log.ErrorContext(ctx, "webhook event not emitted", "err", err, "event", event, "account_id", accountID)
	}
}
