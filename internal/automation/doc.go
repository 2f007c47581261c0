// Package automation holds the pure rules of automations: what a definition
// may say (Definition.Validate), whether an event and a contact meet its
// conditions (Matcher), and when a scheduled trigger fires next
// (Trigger.Next). When a marketing message may reach its recipient is
// package guard's, which the message service applies.
//
// Those rules touch no database, queue or network, and none of them reads
// the clock: every function that depends on time takes it as an argument. The
// store, the API and the runner are built on top, so the rules can be tested
// exhaustively with fixed times and no set-up, and fuzzed.
//
// Built on those rules, in their own files: the store of events,
// automations (immutable versions, so a run keeps the version it started
// on) and runs (store.go, runs.go); the Service that accepts events and
// edits, publishes and enables automations (events.go, service.go); the
// River workers that match an event and run each step, a wait being a
// scheduled job (runner.go); scheduled automations, whose fire jobs start
// a run per fire time and whose sends page through the audience in batches
// with a durable cursor (promotion.go, fanout.go); and reminders, whose
// runs a matching stop event such as reward.redeemed cancels as it is
// ingested (reminder.go).
//
// Times are returned in UTC; the local-time reasoning (cron schedules,
// daylight-saving transitions) happens inside, with IANA zones
// from the system's time-zone database.
package automation
