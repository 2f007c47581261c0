package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/heraldsms/herald/internal/account"
	"github.com/heraldsms/herald/internal/message"
	"github.com/heraldsms/herald/internal/metrics"
	"github.com/heraldsms/herald/internal/msgtemplate"
	"github.com/heraldsms/herald/internal/problem"
)

// Performance Center → Dashboards → SMS: the account's figures over a range
// of dates, from the same rollups and the same query as
// GET /api/v1/metrics/sms, so the page and the API never disagree.
func (s *Server) dashboardPages() []page {
	return []page{
		{"GET", "/dashboards/sms", viewer, s.smsDashboard},
		{"GET", "/dashboards/sms/message", viewer, s.findMessage},
	}
}

// dashForm is the filter form as the user typed it.
type dashForm struct {
	From, To, Interval, ProgramID, TemplateID string
}

// dashData is the dashboard page. Report is nil when the filters are
// wrong; Errors then says why, by field.
type dashData struct {
	Form      dashForm
	Errors    map[string]string
	Programs  []account.Program
	Templates []msgtemplate.Template
	Report    *metrics.Report
	Tiles     []dashTile
	Charts    []dashChart
	// Head names the figures of the by-template and by-program tables.
	Head       []string
	ByTemplate []dashBreakdownRow
	ByProgram  []dashBreakdownRow
	// Recent are the newest messages of the range and filters, each a link
	// to its transaction log; Outcomes lists them all.
	Recent   []*message.Message
	Outcomes string
}

// dashTile is one headline figure.
type dashTile struct{ ID, Label, Value string }

// dashIntervals are the interval choices, in the select's order.
var dashIntervals = []metrics.Interval{metrics.Hour, metrics.Day, metrics.Week, metrics.Month}

// Intervals is for the template's select.
func (dashData) Intervals() []metrics.Interval { return dashIntervals }

func (s *Server) smsDashboard(w http.ResponseWriter, r *http.Request, v *view) error {
	v.Section, v.Title = "dashboards", "SMS dashboard"
	ctx, acct := r.Context(), v.Principal.AccountID
	get := r.URL.Query().Get
	d := dashData{Form: dashForm{From: get("from"), To: get("to"), Interval: get("interval"),
		ProgramID: get("program_id"), TemplateID: get("template_id")}}
	var err error
	if d.Programs, err = s.Accounts.ListPrograms(ctx, acct); err != nil {
		return err
	}
	tpls, err := s.Templates.List(ctx, acct, msgtemplate.Filter{Limit: 500})
	if err != nil {
		return err
	}
	d.Templates = tpls.Data
	q, err := metrics.ParseQuery(get)
	if err == nil {
		d.Report, err = s.Metrics.Dashboard(ctx, acct, q)
	}
	if p, ok := problem.As(err); ok && p.Kind == problem.Invalid {
		d.Errors = map[string]string{dashField(p.Field): p.Message}
		return s.render(w, r, http.StatusUnprocessableEntity, "dashboard", v, d)
	}
	if err != nil {
		return err
	}
	rep := d.Report
	d.Form = dashForm{From: rep.From, To: rep.To, Interval: string(rep.Interval), ProgramID: q.ProgramID, TemplateID: q.TemplateID}
	d.Tiles = dashTiles(rep.Totals)
	d.Charts = dashCharts(rep)
	d.Head = dashBreakdownHead
	d.ByTemplate, d.ByProgram = dashBreakdowns(rep, func(key, id string) string {
		return "/dashboards/sms" + dashFilterQuery(d.Form, key, id)
	})
	if d.Recent, err = s.recentMessages(r, acct, q, rep); err != nil {
		return err
	}
	d.Outcomes = "/outcomes/sms" + dashOutcomesQuery(q, rep)
	return s.render(w, r, http.StatusOK, "dashboard", v, d)
}

// dashField names the form field a metrics error is about; errors about
// the range as a whole belong to "from".
func dashField(field string) string {
	switch field {
	case "to", "interval", "program_id", "template_id":
		return field
	}
	return "from"
}

// recentMessages are the newest messages the dashboard's range and filters
// cover.
func (s *Server) recentMessages(r *http.Request, acct string, q metrics.Query, rep *metrics.Report) ([]*message.Message, error) {
	f := message.Filter{ProgramID: q.ProgramID, TemplateID: q.TemplateID, Limit: 10}
	if n := len(rep.Series); n > 0 {
		f.From, f.To = rep.Series[0].Start.UTC(), rep.Series[n-1].End.UTC()
	}
	page, err := s.Messages.List(r.Context(), acct, f)
	if err != nil {
		return nil, err
	}
	return page.Data, nil
}

// dashOutcomesQuery keeps the dashboard's filters in the link to the
// Communication Outcomes log.
func dashOutcomesQuery(q metrics.Query, rep *metrics.Report) string {
	out := url.Values{}
	if q.ProgramID != "" {
		out.Set("program_id", q.ProgramID)
	}
	if q.TemplateID != "" {
		out.Set("template_id", q.TemplateID)
	}
	// The log takes dates, as the dashboard does (it reads them as UTC
	// days, so a range's edges may differ by the account's offset).
	out.Set("from", rep.From)
	out.Set("to", rep.To)
	return "?" + out.Encode()
}

// dashFilterQuery is the dashboard's query for its current range and
// filters with one filter set.
func dashFilterQuery(f dashForm, key, id string) string {
	q := url.Values{"from": {f.From}, "to": {f.To}, "interval": {f.Interval}}
	if f.ProgramID != "" {
		q.Set("program_id", f.ProgramID)
	}
	if f.TemplateID != "" {
		q.Set("template_id", f.TemplateID)
	}
	q.Set(key, id)
	return "?" + q.Encode()
}

// findMessage opens the transaction log of a message the user has the id
// of, after checking it is this account's.
func (s *Server) findMessage(w http.ResponseWriter, r *http.Request, v *view) error {
	id := strings.TrimSpace(r.URL.Query().Get("id"))
	if id == "" {
		return problem.Invalidf("required", "id", "type the id of a message, such as one from a webhook or the API")
	}
	m, err := s.Messages.Get(r.Context(), v.Principal.AccountID, id)
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/outcomes/sms/messages/"+url.PathEscape(m.ID), http.StatusSeeOther)
	return nil
}

func dashTiles(t metrics.Totals) []dashTile {
	return []dashTile{
		{"tile-sent", "Sent", dashCount(t.Sent)},
		{"tile-delivered", "Delivered", dashCount(t.Delivered)},
		{"tile-delivery-rate", "Delivery rate", dashRate(t.DeliveryRate)},
		{"tile-undelivered", "Undelivered", dashCount(t.Undelivered)},
		{"tile-failed", "Failed", dashCount(t.Failed)},
		{"tile-skipped", "Skipped", dashCount(t.Skipped)},
		{"tile-opt-outs", "Opt-outs", dashCount(t.OptOuts)},
		{"tile-segments", "Segments sent", dashCount(t.SegmentsSent)},
	}
}

// dashCount writes a count with thousands separators: 12,345.
func dashCount(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// dashRate writes a delivery rate as a percentage; no outcome yet is a
// dash, not 0 %.
func dashRate(r *float64) string {
	if r == nil {
		return "—"
	}
	return fmt.Sprintf("%.1f %%", *r*100)
}
