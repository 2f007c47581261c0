package enroll

import (
	"net/netip"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// limiter allows each client address a burst of submissions and then a
// steady trickle. Addresses idle for longer than idle are forgotten, so
// the table stays as small as the set of recent senders.
type limiter struct {
	mu        sync.Mutex
	every     time.Duration
	burst     int
	idle      time.Duration
	clients   map[netip.Prefix]*client
	lastSweep time.Time
}

type client struct {
	lim  *rate.Limiter
	seen time.Time
}

// newLimiter allows burst submissions at once per address, then one per
// every.
func newLimiter(every time.Duration, burst int) *limiter {
	return &limiter{every: every, burst: burst, idle: 10 * time.Minute, clients: map[netip.Prefix]*client{}}
}

// allow takes one submission from addr's allowance at now, and says how
// long to wait when there is none.
func (l *limiter) allow(addr netip.Addr, now time.Time) (bool, time.Duration) {
	key := clientKey(addr)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sweep(now)
	c, ok := l.clients[key]
	if !ok {
		c = &client{lim: rate.NewLimiter(rate.Every(l.every), l.burst)}
		l.clients[key] = c
	}
	c.seen = now
	r := c.lim.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

// sweep forgets idle addresses, at most once a minute. An idle address's
// bucket is full again by then, so forgetting it changes nothing.
func (l *limiter) sweep(now time.Time) {
	if now.Sub(l.lastSweep) < time.Minute {
		return
	}
	l.lastSweep = now
	for k, c := range l.clients {
		if now.Sub(c.seen) > l.idle {
			delete(l.clients, k)
		}
	}
}

// clientKey is an IPv4 address, or the /64 an IPv6 address belongs to: one
// IPv6 subscriber is usually handed a whole /64.
func clientKey(addr netip.Addr) netip.Prefix {
	addr = addr.Unmap()
	if addr.Is4() {
		return netip.PrefixFrom(addr, 32)
	}
	p, _ := addr.Prefix(64)
	return p
}
