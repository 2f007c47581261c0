package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"

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
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	switch {
	case len(in.Events) == 0:
		return problem.Invalidf("events_required", "events", "send at least one event")
	case len(in.Events) > automation.MaxBatch:
		return problem.Invalidf("batch_too_large", "events", "a batch has at most %d events", automation.MaxBatch)
	}
	out := make([]batchResult, len(in.Events))
	counts := map[string]int{"accepted": 0, "duplicate": 0, "error": 0}
	for i, raw := range in.Events {
		res := batchResult{Index: i, Status: "accepted"}
		var e automation.Event
		err := decodeStrict(raw, &e)
		res.ID = e.ID
		var got automation.Accepted
		if err == nil {
			got, err = s.Automations.Ingest(r.Context(), p.AccountID, e)
		}
		switch pr, ok := problem.As(err); {
		case err == nil && got.Duplicate:
			res.Status = "duplicate"
		case ok:
			res.Status, res.Error = "error", &errorDetail{Code: pr.Code, Message: pr.Message, Field: pr.Field}
		case err != nil:
			return err // the database failed: the client retries the batch; accepted ones come back as duplicates
		}
		counts[res.Status]++
		out[i] = res
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": out, "counts": counts})
	return nil
}

// decodeStrict reads one JSON value as decodeJSON does a body: unknown
// fields and trailing data refused.
func decodeStrict(raw []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonProblem(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return problem.New(problem.Malformed, "malformed_json", "", "the event has data after its JSON value")
	}
	return nil
}
