package api

import (
	"net/http"

	"github.com/heraldsms/herald/internal/account"
	"github.com/heraldsms/herald/internal/webhook"
)

// listWebhooks answers with the account's endpoints, without secrets.
func (s *Server) listWebhooks(w http.ResponseWriter, r *http.Request, p account.Principal) error {
	list, err := s.Webhooks.List(r.Context(), p.AccountID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": list, "events": webhook.Events})
	return nil
}

// createWebhook registers an endpoint; the answer carries its secret, the
// only time it is shown.
func (s *Server) createWebhook(w http.ResponseWriter, r *http.Request, p account.Principal) error {
	var in webhook.EndpointInput
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	e, err := s.Webhooks.Create(r.Context(), p.AccountID, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, e)
	return nil
}

func (s *Server) getWebhook(w http.ResponseWriter, r *http.Request, p account.Principal) error {
	e, err := s.Webhooks.Get(r.Context(), p.AccountID, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, e)
	return nil
}

// patchWebhook looks the endpoint up before reading the body, so another
// account's id is a 404 whatever was sent.
func (s *Server) patchWebhook(w http.ResponseWriter, r *http.Request, p account.Principal) error {
	id := r.PathValue("id")
	if _, err := s.Webhooks.Get(r.Context(), p.AccountID, id); err != nil {
		return err
	}
	var in webhook.EndpointInput
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	e, err := s.Webhooks.Update(r.Context(), p.AccountID, id, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, e)
	return nil
}

func (s *Server) deleteWebhook(w http.ResponseWriter, r *http.Request, p account.Principal) error {
	if err := s.Webhooks.Delete(r.Context(), p.AccountID, r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// rotateWebhookSecret replaces the secret and shows the new one once.
func (s *Server) rotateWebhookSecret(w http.ResponseWriter, r *http.Request, p account.Principal) error {
	e, err := s.Webhooks.RotateSecret(r.Context(), p.AccountID, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, e)
	return nil
}

// listWebhookDeliveries is an endpoint's delivery log, newest first, each
// delivery with its attempts.
func (s *Server) listWebhookDeliveries(w http.ResponseWriter, r *http.Request, p account.Principal) error {
	q := r.URL.Query()
	f, err := webhook.ParseDeliveryFilter(q.Get("status"), q.Get("cursor"), q.Get("limit"))
	if err != nil {
		return err
	}
	page, err := s.Webhooks.Deliveries(r.Context(), p.AccountID, r.PathValue("id"), f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, page)
	return nil
}

// redeliverWebhook queues a delivery to be sent again (202): same id, same
// body, a fresh retry window.
func (s *Server) redeliverWebhook(w http.ResponseWriter, r *http.Request, p account.Principal) error {
	d, err := s.Webhooks.Redeliver(r.Context(), p.AccountID, r.PathValue("id"), r.PathValue("delivery_id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, d)
	return nil
}
