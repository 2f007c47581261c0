package twilio

import "strings"

// Twilio's message statuses, in the order a message moves through them.
//
//   - accepted: a Messaging Service took the request and has not yet chosen a
//     sender.
//   - scheduled: the message waits for its SendAt time.
//   - queued: waiting in Twilio's queue for the sender's rate.
//   - sending: being handed to the carrier.
//   - sent: the carrier accepted it.
//   - delivery_unknown: the carrier said nothing about delivery, or said so
//     late; a delivery receipt may still follow.
//   - delivered, undelivered, failed, canceled, partially_delivered: final.
//     failed means Twilio could not send it; undelivered means the carrier
//     could not deliver it; canceled means a scheduled message was cancelled.
//   - read: a read receipt (channels that have them, not SMS); it can only
//     follow delivered.
//
// Inbound statuses (receiving, received) do not describe outbound messages
// and rank as unknown.
var statusRanks = map[string]int{
	"accepted":            1,
	"scheduled":           2,
	"queued":              3,
	"sending":             4,
	"sent":                5,
	"delivery_unknown":    6,
	"delivered":           7,
	"undelivered":         7,
	"failed":              7,
	"canceled":            7,
	"partially_delivered": 7,
	"read":                8,
}

// StatusRank orders statuses so that a message's status only moves forward:
// store a callback's status only when its rank is greater than the stored
// one's. Callbacks can arrive out of order (a late "sent" after "delivered"),
// and this rule drops the stale ones. The final statuses share one rank, so
// none of them ever replaces another. An unknown or empty status ranks 0 and
// so never replaces a known one.
func StatusRank(status string) int {
	return statusRanks[strings.ToLower(strings.TrimSpace(status))]
}
