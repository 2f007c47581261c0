package sim

import (
	"encoding/json"
	"errors"
	"mime"
	"net/http"
)

// The control endpoints let the admin UI and the herald sim command look at
// handsets and answer as them. They are the simulator's own, not Twilio's,
// and need no credentials: the simulator is a development and test carrier.
// Errors use Herald's envelope: {"error": {"code", "message", "field"}}.

// maxControlBytes bounds a control request's body.
const maxControlBytes = 16 << 10

// handleInbox answers GET /inbox?handset=+15550001111 with the handset's
// messages, oldest first.
func (s *Sim) handleInbox(w http.ResponseWriter, r *http.Request) {
	handset := trimPlus(r.URL.Query().Get("handset"))
	if handset == "" {
		writeProblem(w, http.StatusBadRequest, "missing_field", "handset", "handset is required, e.g. ?handset=%2B15550001111")
		return
	}
	writeJSON(w, http.StatusOK, s.Inbox(handset))
}

// handleHandsets answers GET /handsets with every handset known, sorted.
func (s *Sim) handleHandsets(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, s.Handsets())
}

// replyRequest is the body of POST /reply, as JSON or as a form.
type replyRequest struct {
	From string `json:"from"`
	To   string `json:"to"`
	Body string `json:"body"`
}

// handleReply answers POST /reply: the handset "from" texts "body" to the
// sender number "to". It answers with what came back to the handset.
func (s *Sim) handleReply(w http.ResponseWriter, r *http.Request) {
	req, ok := decodeReply(w, r)
	if !ok {
		return
	}
	replies, err := s.reply(r.Context(), req.From, req.To, req.Body)
	var rejected *RejectedError
	switch {
	case errors.Is(err, ErrInvalidHandset):
		writeProblem(w, http.StatusBadRequest, "invalid_phone_number", "from", err.Error())
	case errors.Is(err, ErrUnknownSender):
		writeProblem(w, http.StatusNotFound, "unknown_sender", "to", err.Error())
	case errors.Is(err, ErrNoInboundURL):
		writeProblem(w, http.StatusServiceUnavailable, "no_inbound_url", "", err.Error())
	case errors.As(err, &rejected), errors.Is(err, ErrBadTwiML):
		writeProblem(w, http.StatusBadGateway, "inbound_rejected", "", err.Error())
	case err != nil:
		writeProblem(w, http.StatusBadGateway, "inbound_failed", "", err.Error())
	default:
		writeJSON(w, http.StatusOK, map[string]any{"replies": replies})
	}
}

func decodeReply(w http.ResponseWriter, r *http.Request) (replyRequest, bool) {
	r.Body = http.MaxBytesReader(w, r.Body, maxControlBytes)
	var req replyRequest
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt == "application/json" {
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			writeProblem(w, http.StatusBadRequest, "malformed_json", "", "the body is not a JSON object: "+err.Error())
			return req, false
		}
	} else {
		if err := r.ParseForm(); err != nil {
			writeProblem(w, http.StatusBadRequest, "malformed_form", "", "the body is not a form: "+err.Error())
			return req, false
		}
		req = replyRequest{From: r.PostForm.Get("from"), To: r.PostForm.Get("to"), Body: r.PostForm.Get("body")}
	}
	// A '+' typed into a form or a query string arrives as a space.
	req.From, req.To = trimPlus(req.From), trimPlus(req.To)
	for _, f := range []struct{ name, value string }{{"from", req.From}, {"to", req.To}, {"body", req.Body}} {
		if f.value == "" {
			writeProblem(w, http.StatusBadRequest, "missing_field", f.name, f.name+" is required")
			return req, false
		}
	}
	return req, true
}

func writeProblem(w http.ResponseWriter, status int, code, field, message string) {
	e := map[string]string{"code": code, "message": message}
	if field != "" {
		e["field"] = field
	}
	writeJSON(w, status, map[string]any{"error": e})
}
