package coalesce_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldsms/herald/internal/coalesce"
)

// recorder is a Fetch that answers "v<key>" for every key but the ones in
// missing, and remembers the keys of every call. With a gate, each call
// waits for the gate to open (closed) before answering.
type recorder struct {
	mu      sync.Mutex
	calls   [][]int
	missing map[int]bool
	gate    chan struct{}
	err     error
}

func (r *recorder) fetch(_ context.Context, keys []int) (map[int]string, error) {
	r.mu.Lock()
	r.calls = append(r.calls, slices.Clone(keys))
	r.mu.Unlock()
	if r.gate != nil {
		<-r.gate
	}
	if r.err != nil {
		return nil, r.err
	}
	out := map[int]string{}
	for _, k := range keys {
		if !r.missing[k] {
			out[k] = fmt.Sprint("v", k)
		}
	}
	return out, nil
}

func (r *recorder) callCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.calls)
}

// waitFor polls cond for up to a second.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	require.Eventually(t, cond, time.Second, time.Millisecond)
}

func TestLoaderAloneFetchesAtOnce(t *testing.T) {
	t.Parallel()
	r := &recorder{missing: map[int]bool{7: true}}
	l := coalesce.New(1, 10, r.fetch)
	ctx := context.Background()

	v, found, err := l.Load(ctx, 3)
	require.NoError(t, err)
	require.True(t, found)
	require.Equal(t, "v3", v)

	v, found, err = l.Load(ctx, 7)
	require.NoError(t, err)
	require.False(t, found, "a key the fetch did not find")
	require.Empty(t, v)
	require.Equal(t, [][]int{{3}, {7}}, r.calls, "one fetch per Load when nothing runs alongside")
}

// Keys asked for while a fetch runs wait for the next fetch, which takes
// them all (each key once), up to maxKeys a fetch.
func TestLoaderGathersWhatQueuesBehindAFetch(t *testing.T) {
	t.Parallel()
	r := &recorder{gate: make(chan struct{})}
	l := coalesce.New(1, 4, r.fetch)
	ctx := context.Background()

	type answer struct {
		key   int
		value string
		err   error
	}
	answers := make(chan answer, 10)
	load := func(k int) {
		v, _, err := l.Load(ctx, k)
		answers <- answer{k, v, err}
	}
	go load(0)
	waitFor(t, func() bool { return r.callCount() == 1 }) // the first fetch holds the one slot
	for _, k := range []int{1, 2, 2, 3, 4, 5} {
		go load(k)
	}
	waitFor(t, func() bool { return l.Queued() == 6 })
	close(r.gate)
	got := map[int]int{}
	for range 7 {
		a := <-answers
		require.NoError(t, a.err)
		require.Equal(t, fmt.Sprint("v", a.key), a.value)
		got[a.key]++
	}
	require.Equal(t, map[int]int{0: 1, 1: 1, 2: 2, 3: 1, 4: 1, 5: 1}, got)

	r.mu.Lock()
	defer r.mu.Unlock()
	require.Len(t, r.calls, 3, "the first key, then the six queued behind it in fetches of at most four")
	require.Equal(t, []int{0}, r.calls[0])
	var keys []int
	for _, c := range r.calls[1:] {
		require.LessOrEqual(t, len(c), 4)
		keys = append(keys, c...)
	}
	slices.Sort(keys)
	require.Equal(t, []int{1, 2, 3, 4, 5}, keys, "a key asked for twice is fetched once")
}

// A fetch's error is the error of every caller in it; the next fetch is a
// new try.
func TestLoaderFetchErrorReachesEveryCallerInIt(t *testing.T) {
	t.Parallel()
	broken := errors.New("connection reset")
	r := &recorder{gate: make(chan struct{}), err: broken}
	l := coalesce.New(1, 10, r.fetch)
	ctx := context.Background()
	errs := make(chan error, 3)
	go func() { _, _, err := l.Load(ctx, 1); errs <- err }()
	waitFor(t, func() bool { return r.callCount() == 1 })
	go func() { _, _, err := l.Load(ctx, 2); errs <- err }()
	go func() { _, _, err := l.Load(ctx, 3); errs <- err }()
	waitFor(t, func() bool { return l.Queued() == 2 })
	close(r.gate)
	for range 3 {
		require.ErrorIs(t, <-errs, broken)
	}

	r.mu.Lock()
	r.err = nil
	r.mu.Unlock()
	v, found, err := l.Load(ctx, 4)
	require.NoError(t, err)
	require.True(t, found)
	require.Equal(t, "v4", v)
}

// A caller that gives up returns at once with its context's error, and its
// key is not fetched if it had not been yet; the others are answered.
func TestLoaderCallerGivesUp(t *testing.T) {
	t.Parallel()
	r := &recorder{gate: make(chan struct{})}
	l := coalesce.New(1, 10, r.fetch)
	ctx := context.Background()
	first := make(chan error, 1)
	go func() { _, _, err := l.Load(ctx, 1); first <- err }()
	waitFor(t, func() bool { return r.callCount() == 1 })

	gone, giveUp := context.WithCancel(ctx)
	late := make(chan error, 1)
	go func() { _, _, err := l.Load(gone, 2); late <- err }()
	stays := make(chan string, 1)
	go func() { v, _, _ := l.Load(ctx, 3); stays <- v }()
	waitFor(t, func() bool { return l.Queued() == 2 })
	giveUp()
	require.ErrorIs(t, <-late, context.Canceled)

	close(r.gate)
	require.NoError(t, <-first)
	require.Equal(t, "v3", <-stays)
	r.mu.Lock()
	defer r.mu.Unlock()
	require.Equal(t, [][]int{{1}, {3}}, r.calls, "the key of the caller that gave up is not fetched")
}

// Many callers at once, with two fetches allowed in flight: every caller
// gets its own key's value, and fewer fetches run than callers.
func TestLoaderUnderLoad(t *testing.T) {
	t.Parallel()
	r := &recorder{missing: map[int]bool{}}
	for k := 0; k < 1000; k += 7 {
		r.missing[k] = true
	}
	l := coalesce.New(2, 50, func(ctx context.Context, keys []int) (map[int]string, error) {
		time.Sleep(200 * time.Microsecond) // a statement's round trip
		return r.fetch(ctx, keys)
	})
	var wg sync.WaitGroup
	for k := range 1000 {
		wg.Go(func() {
			v, found, err := l.Load(context.Background(), k)
			require.NoError(t, err)
			require.Equal(t, k%7 != 0, found, "key %d", k)
			if found {
				require.Equal(t, fmt.Sprint("v", k), v)
			}
		})
	}
	wg.Wait()
	require.Less(t, r.callCount(), 1000)
}
