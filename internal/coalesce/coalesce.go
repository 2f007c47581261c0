// Package coalesce turns concurrent look-ups of single keys into look-ups
// of many.
//
// Every message accepted through the API reads its contact by key: one
// statement each, 20,000 of them for 20,000 messages, most of PostgreSQL's
// statements in a run and each one parsed and planned anew. A Loader
// gathers the keys asked for while a fetch is running and fetches them
// together next, so under load a few statements do the work of many, and a
// caller alone is answered at once.
//
// The DataLoader libraries batch by waiting: each key waits a fixed window
// for company, which a caller alone pays in full. Here nothing waits for
// company; a batch is whatever queued behind the fetches in flight.
package coalesce

import (
	"context"
	"sync"
)

// Fetch looks keys up and returns what it found; a key it did not find is
// absent from the map.
type Fetch[K comparable, V any] func(ctx context.Context, keys []K) (map[K]V, error)

// Loader gathers concurrent Loads into calls of its Fetch. It is safe for
// concurrent use; the zero value is not usable.
type Loader[K comparable, V any] struct {
	fetch    Fetch[K, V]
	maxKeys  int // keys per fetch
	inFlight int // fetches at once

	mu      sync.Mutex
	queued  []*request[K, V]
	running int
}

type request[K comparable, V any] struct {
	key  K
	ctx  context.Context
	done chan result[V]
}

type result[V any] struct {
	value V
	found bool
	err   error
}

// New returns a Loader that runs at most inFlight fetches at once, each of
// at most maxKeys keys.
func New[K comparable, V any](inFlight, maxKeys int, fetch Fetch[K, V]) *Loader[K, V] {
	return &Loader[K, V]{fetch: fetch, maxKeys: max(maxKeys, 1), inFlight: max(inFlight, 1)}
}

// Load returns the value for key, and whether it was found. It fetches at
// once when fewer than inFlight fetches are running; otherwise it waits
// for the next fetch, which takes the keys queued by then (up to maxKeys
// of them). A fetch's error is the error of every key in it. When ctx
// ends first, Load returns ctx's error; the fetch goes on for the others.
func (l *Loader[K, V]) Load(ctx context.Context, key K) (V, bool, error) {
	r := &request[K, V]{key: key, ctx: ctx, done: make(chan result[V], 1)}
	l.mu.Lock()
	l.queued = append(l.queued, r)
	lead := l.running < l.inFlight
	if lead {
		l.running++
	}
	l.mu.Unlock()
	if lead {
		l.runOnce(context.WithoutCancel(ctx))
	}
	select {
	case res := <-r.done:
		return res.value, res.found, res.err
	case <-ctx.Done():
		var zero V
		return zero, false, ctx.Err()
	}
}

// runOnce fetches one batch of the queue and hands the rest, if any, to a
// goroutine of its own, so the caller that led the fetch returns with its
// own answer rather than serving the callers behind it.
func (l *Loader[K, V]) runOnce(ctx context.Context) {
	batch := l.take()
	if len(batch) == 0 {
		return
	}
	l.serve(ctx, batch)
	l.mu.Lock()
	more := len(l.queued) > 0
	if !more {
		l.running--
	}
	l.mu.Unlock()
	if more {
		go l.runOnce(ctx)
	}
}

// take removes from the queue the requests for up to maxKeys keys, every
// request for each of those keys among them, and drops those whose callers
// have gone; with nothing to take it gives up its running slot.
func (l *Loader[K, V]) take() []*request[K, V] {
	l.mu.Lock()
	defer l.mu.Unlock()
	var batch []*request[K, V]
	keys := map[K]bool{}
	rest := l.queued[:0]
	for _, r := range l.queued {
		switch {
		case r.ctx.Err() != nil:
		case keys[r.key] || len(keys) < l.maxKeys:
			keys[r.key] = true
			batch = append(batch, r)
		default:
			rest = append(rest, r)
		}
	}
	clear(l.queued[len(rest):])
	l.queued = rest
	if len(batch) == 0 {
		l.running--
	}
	return batch
}

// serve fetches the batch's keys and answers every request.
func (l *Loader[K, V]) serve(ctx context.Context, batch []*request[K, V]) {
	keys := make([]K, 0, len(batch))
	seen := make(map[K]bool, len(batch))
	for _, r := range batch {
		if !seen[r.key] {
			seen[r.key] = true
			keys = append(keys, r.key)
		}
	}
	found, err := l.fetch(ctx, keys)
	for _, r := range batch {
		v, ok := found[r.key]
		r.done <- result[V]{value: v, found: ok && err == nil, err: err}
	}
}
