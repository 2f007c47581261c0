package coalesce

// Queued reports how many Loads wait for a fetch, so a test can wait for
// its callers to queue instead of sleeping.
func (l *Loader[K, V]) Queued() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.queued)
}
