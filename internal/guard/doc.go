// Package guard holds the rules that hold marketing texts back: the
// recipient's local sending window (NextOpen) and the per-contact frequency
// cap (CapAllows). Transactional messages pass both untouched.
//
// The rules are pure: they read no clock and touch no database, so the
// message service applies them when a message is made and again right
// before it is sent, and the tables in the tests can cover every state and
// time zone with fixed times. They live in a package of their own because
// both the message service and the automations that fan promotions out need
// them, and automation already depends on message.
package guard
