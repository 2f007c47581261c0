// Package id makes the identifiers of Herald's rows: a short type prefix and
// a ULID, so ids sort by creation time (cursor pagination walks them in
// order) and a stray id in a log says what it names ("con_…" is a contact).
package id

import (
	"crypto/rand"
	"strings"
	"sync"
	"time"

	"github.com/oklog/ulid/v2"
)

// Prefixes of the ids Herald makes.
const (
	Account    = "acc"
	Program    = "prg"
	User       = "usr"
	APIKey     = "key"
	Contact    = "con"
	Consent    = "cst"
	Number     = "num"
	Template   = "tpl"
	Version    = "tpv"
	Decision   = "tpd"
	Message    = "msg"
	Event      = "evt"
	Inbound    = "inb"
	Webhook    = "whk"
	Delivery   = "whd"
	Automation = "aut"
	Run        = "run"
)

var (
	mu      sync.Mutex
	entropy = ulid.Monotonic(rand.Reader, 0)
)

// New returns a fresh id with the given prefix, e.g. "con_01JD…". Ids made in
// one process are strictly increasing.
func New(prefix string) string {
	mu.Lock()
	u := ulid.MustNew(ulid.Timestamp(time.Now()), entropy)
	mu.Unlock()
	return prefix + "_" + strings.ToLower(u.String())
}

// HasPrefix reports whether s looks like an id of the given kind. It is a
// cheap guard, not a validation of the ULID part.
func HasPrefix(s, prefix string) bool {
	return len(s) == len(prefix)+1+ulid.EncodedSize && strings.HasPrefix(s, prefix+"_")
}
