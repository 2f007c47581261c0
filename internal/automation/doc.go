// Package automation holds the pure rules of automations: what a definition
// may say (Definition.Validate), whether an event and a contact meet its
// conditions (Matcher), when a marketing message may reach its recipient
// (NextOpen, CapAllows), and when a scheduled trigger fires next
// (Trigger.Next).
//
// Nothing here touches a database, a queue or the network, and nothing reads
// the clock: every function that depends on time takes it as an argument. The
// store, the API and the runner are built on top, so the rules can be tested
// exhaustively with fixed times and no set-up, and fuzzed.
//
// Times are returned in UTC; the local-time reasoning (sending windows, cron
// schedules, daylight-saving transitions) happens inside, with IANA zones
// from the system's time-zone database.
package automation
