package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"sync"

	"github.com/heraldsms/herald/internal/account"
	"github.com/heraldsms/herald/internal/automation"
	"github.com/heraldsms/herald/internal/problem"
)

// postEvent accepts one program event: 202 when it is new (automations
// run in the background), 200 with duplicate true when its id was seen.
func (s *Server) postEvent(w http.ResponseWriter, r *http.Request, p account.Principal) error {
	var in automation.Event
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	res, err := s.Automations.Ingest(r.Context(), p.AccountID, in)
	if err != nil {
		return err
	}
	status := http.StatusAccepted
	if res.Duplicate {
		status = http.StatusOK
	}
	writeJSON(w, status, res)
	return nil
}

// batchResult is what became of one event of a batch.
type batchResult struct {
	Index  int          `json:"index"`
	ID     string       `json:"id,omitempty"`
	Status string       `json:"status"` // accepted, duplicate or error
	Error  *errorDetail `json:"error,omitempty"`
}

// postEventBatch accepts up to automation.MaxBatch events. Each is taken
// or refused on its own: a bad event never stops the good ones.
func (s *Server) postEventBatch(w http.ResponseWriter, r *http.Request, p account.Principal) error {
	var in struct {
		Events []json.RawMessage `json:"events"`
	}
	if _, err := decodeBody(w, r, &in); err != nil { // each event is checked for NUL on its own
		return err
	}
	switch {
	case len(in.Events) == 0:
		return problem.Invalidf("events_required", "events", "send at least one event")
	case len(in.Events) > automation.MaxBatch:
		return problem.Invalidf("batch_too_large", "events", "a batch has at most %d events", automation.MaxBatch)
	}
	out := make([]batchResult, len(in.Events))
	events := make([]automation.Event, len(in.Events))
	errs := make([]error, len(in.Events))
	var first, repeats []int // indexes: each id's first event, and its later ones
	seen := map[string]bool{}
	for i, raw := range in.Events {
		errs[i] = decodeStrict(raw, &events[i])
		out[i] = batchResult{Index: i, ID: events[i].ID, Status: "accepted"}
		switch id := events[i].ID; {
		case errs[i] != nil:
		case id != "" && seen[id]:
			repeats = append(repeats, i)
		default:
			seen[id] = true
			first = append(first, i)
		}
	}
	got := make([]automation.Accepted, len(in.Events))
	ingest := func(i int) { got[i], errs[i] = s.Automations.Ingest(r.Context(), p.AccountID, events[i]) }
	// Each id's first event is taken side by side with the others, so that
	// their writes share commits; taken one after another, each waited
	// for its own, and a batch of 500 took 4.6 s on SQLite. A repeated id
	// is taken after its first, in order, and so is its duplicate.
	sem := make(chan struct{}, batchIngesters)
	var wg sync.WaitGroup
	for _, i := range first {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			ingest(i)
		})
	}
	wg.Wait()
	for _, i := range repeats {
		ingest(i)
	}
	counts := map[string]int{"accepted": 0, "duplicate": 0, "error": 0}
	for i := range out {
		switch pr, ok := problem.As(errs[i]); {
		case errs[i] == nil && got[i].Duplicate:
			out[i].Status = "duplicate"
		case ok:
			out[i].Status, out[i].Error = "error", &errorDetail{Code: pr.Code, Message: pr.Message, Field: pr.Field}
		case errs[i] != nil:
			return errs[i] // the database failed: the client retries the batch; accepted ones come back as duplicates
		}
		counts[out[i].Status]++
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": out, "counts": counts})
	return nil
}

// batchIngesters is how many events of one batch are taken at once.
const batchIngesters = 16

// decodeStrict reads one JSON value as decodeJSON does a body: unknown
// fields, trailing data and text holding a NUL character refused.
func decodeStrict(raw []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonProblem(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return problem.New(problem.Malformed, "malformed_json", "", "the event has data after its JSON value")
	}
	return refuseNUL(raw)
}
