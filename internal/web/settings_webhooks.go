package web

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/heraldsms/herald/internal/webhook"
)

// An account's webhook endpoints, each with its delivery log. The calls
// are those of internal/api/webhooks.go.

// settingsWebhookForm is an endpoint's fields as typed.
type settingsWebhookForm struct {
	URL, Description string
	Events           map[string]bool
	Enabled          bool
}

func settingsReadWebhookForm(r *http.Request) (settingsWebhookForm, webhook.EndpointInput) {
	f := settingsWebhookForm{URL: strings.TrimSpace(r.PostFormValue("url")), Description: strings.TrimSpace(r.PostFormValue("description")),
		Events: map[string]bool{}, Enabled: r.PostFormValue("enabled") == "on"}
	events := []string{}
	for _, e := range r.PostForm["events"] {
		f.Events[e] = true
		events = append(events, e)
	}
	return f, webhook.EndpointInput{URL: &f.URL, Description: &f.Description, Events: &events}
}

var settingsWebhookFields = settingsIDs("url", "description", "events")

type settingsWebhooksData struct {
	Tabs      []settingsTab
	Endpoints []webhook.Endpoint
	Events    []string
	Form      settingsWebhookForm
	Errors    settingsErrors
}

func (s *Server) settingsWebhooks(w http.ResponseWriter, r *http.Request, v *view) error {
	return s.settingsShowWebhooks(w, r, v, http.StatusOK, settingsWebhookForm{}, nil)
}

func (s *Server) settingsShowWebhooks(w http.ResponseWriter, r *http.Request, v *view, status int,
	f settingsWebhookForm, errs settingsErrors) error {
	list, err := s.Webhooks.List(r.Context(), v.Principal.AccountID)
	if err != nil {
		return err
	}
	return s.render(w, r, status, "settings_webhooks", v, settingsWebhooksData{Tabs: settingsView(v, "Webhooks · Settings"),
		Endpoints: list, Events: webhook.Events, Form: f, Errors: errs})
}

// settingsCreateWebhook registers an endpoint and answers with its page,
// which shows the new signing secret this once.
func (s *Server) settingsCreateWebhook(w http.ResponseWriter, r *http.Request, v *view) error {
	f, in := settingsReadWebhookForm(r)
	e, err := s.Webhooks.Create(r.Context(), v.Principal.AccountID, in)
	if err != nil {
		errs, status, err := settingsInvalid(err, settingsWebhookFields)
		if err != nil {
			return err
		}
		return s.settingsShowWebhooks(w, r, v, status, f, errs)
	}
	v.Notice = "Webhook added. Copy its signing secret now."
	return s.settingsShowWebhook(w, r, v, http.StatusCreated, e.Endpoint, nil, nil, e.Secret)
}

// settingsWebhookData is an endpoint's page: its form, the secret when it
// was just made, and one page of its delivery log.
type settingsWebhookData struct {
	Tabs       []settingsTab
	Endpoint   webhook.Endpoint
	Events     []string
	Form       settingsWebhookForm
	Errors     settingsErrors
	Secret     *settingsSecret
	Status     string
	Deliveries []settingsDeliveryRow
	Pager      settingsPager
}

// settingsDeliveryRow is a delivery as the log shows it.
type settingsDeliveryRow struct {
	webhook.Delivery
	// Badge is the CSS modifier of its status.
	Badge string
	// Last is its latest attempt, nil before the first.
	Last *webhook.Attempt
}

// settingsPager is what the shared "pager" partial reads.
type settingsPager struct {
	Next  string
	Path  string
	Query url.Values
}

func (s *Server) settingsWebhook(w http.ResponseWriter, r *http.Request, v *view) error {
	e, err := s.Webhooks.Get(r.Context(), v.Principal.AccountID, r.PathValue("id"))
	if err != nil {
		return err
	}
	return s.settingsShowWebhook(w, r, v, http.StatusOK, e, nil, nil, "")
}

// settingsShowWebhook renders an endpoint's page. f is the form as typed (nil: as
// stored); secret is shown only in the answer that made it.
func (s *Server) settingsShowWebhook(w http.ResponseWriter, r *http.Request, v *view, status int, e webhook.Endpoint,
	f *settingsWebhookForm, errs settingsErrors, secret string) error {
	if f == nil {
		stored := settingsWebhookForm{URL: e.URL, Description: e.Description, Events: map[string]bool{}, Enabled: e.Enabled}
		for _, ev := range e.Events {
			stored.Events[ev] = true
		}
		f = &stored
	}
	d := settingsWebhookData{Tabs: settingsView(v, "Webhook · Settings"), Endpoint: e, Events: webhook.Events, Form: *f,
		Errors: errs}
	if secret != "" {
		d.Secret = &settingsSecret{For: e.URL, Secret: secret, Page: "/settings/webhooks/" + e.ID}
	}
	// The log's filter comes from a GET's query; a form's answer shows the
	// first page of the whole log.
	q := url.Values{}
	if r.Method == http.MethodGet {
		q = v.Query
	}
	d.Status = q.Get("status")
	filter, err := webhook.ParseDeliveryFilter(q.Get("status"), q.Get("cursor"), "25")
	if err != nil {
		return err
	}
	log, err := s.Webhooks.Deliveries(r.Context(), v.Principal.AccountID, e.ID, filter)
	if err != nil {
		return err
	}
	for _, del := range log.Data {
		row := settingsDeliveryRow{Delivery: del, Badge: settingsDeliveryBadge(del.Status)}
		if n := len(del.Attempts); n > 0 {
			row.Last = &del.Attempts[n-1]
		}
		d.Deliveries = append(d.Deliveries, row)
	}
	d.Pager = settingsPager{Next: log.NextCursor, Path: "/settings/webhooks/" + e.ID, Query: q}
	return s.render(w, r, status, "settings_webhook", v, d)
}

func settingsDeliveryBadge(status string) string {
	switch status {
	case "succeeded":
		return "good"
	case "failed":
		return "bad"
	default:
		return "wait"
	}
}

func (s *Server) settingsUpdateWebhook(w http.ResponseWriter, r *http.Request, v *view) error {
	id := r.PathValue("id")
	e, err := s.Webhooks.Get(r.Context(), v.Principal.AccountID, id)
	if err != nil {
		return err
	}
	f, in := settingsReadWebhookForm(r)
	in.Enabled = &f.Enabled
	if _, err := s.Webhooks.Update(r.Context(), v.Principal.AccountID, id, in); err != nil {
		errs, status, err := settingsInvalid(err, settingsWebhookFields)
		if err != nil {
			return err
		}
		return s.settingsShowWebhook(w, r, v, status, e, &f, errs, "")
	}
	s.notice(w, r, "Webhook saved.")
	redirect(w, r, "/settings/webhooks/"+id)
	return nil
}

// settingsRotateWebhookSecret replaces the signing secret and shows the
// new one once; the old one stops working at once.
func (s *Server) settingsRotateWebhookSecret(w http.ResponseWriter, r *http.Request, v *view) error {
	e, err := s.Webhooks.RotateSecret(r.Context(), v.Principal.AccountID, r.PathValue("id"))
	if err != nil {
		return err
	}
	v.Notice = "New signing secret made. Copy it now; the old one no longer signs deliveries."
	return s.settingsShowWebhook(w, r, v, http.StatusOK, e.Endpoint, nil, nil, e.Secret)
}

func (s *Server) settingsDeleteWebhook(w http.ResponseWriter, r *http.Request, v *view) error {
	if err := s.Webhooks.Delete(r.Context(), v.Principal.AccountID, r.PathValue("id")); err != nil {
		return err
	}
	s.notice(w, r, "Webhook deleted.")
	redirect(w, r, "/settings/webhooks")
	return nil
}

// settingsRedeliver queues a delivery to be sent again, same id and body.
func (s *Server) settingsRedeliver(w http.ResponseWriter, r *http.Request, v *view) error {
	id := r.PathValue("id")
	if _, err := s.Webhooks.Redeliver(r.Context(), v.Principal.AccountID, id, r.PathValue("delivery_id")); err != nil {
		return err
	}
	s.notice(w, r, "Delivery queued to be sent again.")
	redirect(w, r, "/settings/webhooks/"+id)
	return nil
}
