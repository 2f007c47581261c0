package readcache

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestCache(t *testing.T) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	c := New[string, int](2, time.Second)
	c.now = func() time.Time { return now }

	_, ok := c.Get("a")
	require.False(t, ok, "nothing kept yet")
	c.Put("a", 1, c.Now())
	v, ok := c.Get("a")
	require.True(t, ok)
	require.Equal(t, 1, v)

	now = now.Add(time.Second)
	_, ok = c.Get("a")
	require.False(t, ok, "too old")

	// A read that began before a change may hold the old value: it is not
	// kept, however late it arrives.
	began := c.Now()
	now = now.Add(time.Millisecond)
	c.Forget("a")
	c.Put("a", 1, began)
	_, ok = c.Get("a")
	require.False(t, ok, "read before the change")
	now = now.Add(time.Millisecond)
	c.Put("a", 2, c.Now())
	v, ok = c.Get("a")
	require.True(t, ok, "read after the change")
	require.Equal(t, 2, v)

	// Only the most recently used entries are kept.
	c.Put("b", 3, c.Now())
	c.Put("c", 4, c.Now())
	_, ok = c.Get("a")
	require.False(t, ok, "pushed out")
	c.Purge()
	_, ok = c.Get("c")
	require.False(t, ok)
}
