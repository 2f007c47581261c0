// Package readcache keeps recently read rows for a moment.
//
// Every message Herald accepts reads the same few rows again: the API key
// that sent it, its account, the account's sender numbers, the template's
// approved version. On PostgreSQL those reads were most of the statements
// the server ran for an accepted message. A Cache answers them from memory
// for a short time. The store that owns a cache forgets an entry when it
// changes that row, so this process sees its own changes at once; a change
// made by another process is seen once the entry is older than the
// cache's age limit.
package readcache

import (
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
)

// Cache holds up to a fixed number of values, each for at most maxAge. It
// is safe for concurrent use.
type Cache[K comparable, V any] struct {
	entries *lru.Cache[K, entry[V]]
	maxAge  time.Duration
	now     func() time.Time
}

// entry is a value and when it was read, or, when forgotten is set, when
// its row last changed.
type entry[V any] struct {
	value     V
	at        time.Time
	forgotten bool
}

// New returns a Cache of size entries, each kept at most maxAge.
func New[K comparable, V any](size int, maxAge time.Duration) *Cache[K, V] {
	entries, err := lru.New[K, entry[V]](size)
	if err != nil {
		panic(err) // only for a size below one, a programming error
	}
	return &Cache[K, V]{entries: entries, maxAge: maxAge, now: time.Now}
}

// Get returns the value kept for key, if it is young enough.
func (c *Cache[K, V]) Get(key K) (V, bool) {
	e, ok := c.entries.Get(key)
	if !ok || e.forgotten || c.now().Sub(e.at) >= c.maxAge {
		var zero V
		return zero, false
	}
	return e.value, true
}

// Put keeps value for key. read is when the reading began (from Now): a
// value read before a change that Forget announced may be the old one, so
// Put keeps nothing read before the key's last Forget.
func (c *Cache[K, V]) Put(key K, value V, read time.Time) {
	if old, ok := c.entries.Peek(key); ok && old.forgotten && !read.After(old.at) {
		return
	}
	c.entries.Add(key, entry[V]{value: value, at: read})
}

// Forget drops key's value: its row has changed. Call it after the change
// has committed.
func (c *Cache[K, V]) Forget(key K) {
	c.entries.Add(key, entry[V]{at: c.now(), forgotten: true})
}

// Purge drops everything.
func (c *Cache[K, V]) Purge() { c.entries.Purge() }

// Now is the time to pass to Put for a value about to be read.
func (c *Cache[K, V]) Now() time.Time { return c.now() }
