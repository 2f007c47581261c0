package web

import (
	"context"
	"net/http"

	"github.com/heraldsms/herald/internal/automation"
	"github.com/heraldsms/herald/internal/problem"
)

// automationPages are the automations: the list, the editor, publishing,
// switching on and off, and each automation's runs.
func (s *Server) automationPages() []page {
	return []page{
		{"GET", "/automations", viewer, s.automations},
		{"GET", "/automations/new", editor, s.newAutomation},
		{"POST", "/automations", editor, s.createAutomation},
		{"GET", "/automations/{id}", viewer, s.automationDetail},
		{"GET", "/automations/{id}/edit", editor, s.editAutomation},
		{"POST", "/automations/{id}", editor, s.updateAutomation},
		{"POST", "/automations/{id}/publish", editor, s.publishAutomation},
		{"POST", "/automations/{id}/enable", editor, s.enableAutomation},
		{"POST", "/automations/{id}/disable", editor, s.disableAutomation},
		{"POST", "/automations/{id}/delete", editor, s.deleteAutomation},
	}
}

type automationsData struct {
	Automations []automation.Automation
}

func (s *Server) automations(w http.ResponseWriter, r *http.Request, v *view) error {
	v.Section, v.Title = "automations", "Automations"
	list, err := s.Automations.List(r.Context(), v.Principal.AccountID)
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "automations", v, automationsData{Automations: list})
}

// autoEditData is the editor page: the form and what its pickers offer.
type autoEditData struct {
	Form autoForm
	// ID is empty for a new automation; Action is where the form posts.
	ID, Action string
	Events     []string
	Programs   []selectOption
	// Templates are those with an approved version, plus any a step names
	// that has none yet (so the refusal can be shown beside it).
	Templates []selectOption
	Ops       []selectOption
	Fields    []string
}

// conditionFields suggest what a condition may test; others of the same
// shapes (event.data.<path>, contact.attributes.<path>) are allowed.
var conditionFields = []string{"event.type", "event.program_id", "event.data.amount", "event.data.reward_id",
	"contact.first_name", "contact.last_name", "contact.email", "contact.phone_country", "contact.sms_preference",
	"contact.attributes.tier"}

func (s *Server) newAutomation(w http.ResponseWriter, r *http.Request, v *view) error {
	zone := ""
	if v.Account != nil {
		zone = v.Account.TimeZone
	}
	return s.renderAutoForm(w, r, v, http.StatusOK, "", newAutoForm(zone))
}

func (s *Server) editAutomation(w http.ResponseWriter, r *http.Request, v *view) error {
	a, err := s.Automations.Get(r.Context(), v.Principal.AccountID, r.PathValue("id"))
	if err != nil {
		return err
	}
	return s.renderAutoForm(w, r, v, http.StatusOK, a.ID, autoFormOf(a.Definition))
}

// renderAutoForm shows the editor: the whole page, or only the form when
// htmx posted it (a row added or removed, or a refusal).
func (s *Server) renderAutoForm(w http.ResponseWriter, r *http.Request, v *view, status int, id string, f autoForm) error {
	ctx, acct := r.Context(), v.Principal.AccountID
	d := autoEditData{Form: f, ID: id, Action: "/automations", Events: automation.KnownEvents(), Ops: conditionOps,
		Fields: conditionFields}
	if d.Form.Errors == nil {
		d.Form.Errors = map[string]string{}
	}
	v.Section, v.Title = "automations", "New automation"
	if id != "" {
		d.Action, v.Title = "/automations/"+id, "Edit automation"
	}
	var err error
	if d.Programs, err = s.programOptions(ctx, acct); err != nil {
		return err
	}
	if d.Templates, err = s.sendableTemplates(ctx, acct, f.Steps); err != nil {
		return err
	}
	if r.Header.Get("HX-Request") == "true" && r.Method == http.MethodPost {
		return s.fragment(w, status, "automation_edit", "automation_form", v, d)
	}
	return s.render(w, r, status, "automation_edit", v, d)
}

// sendableTemplates lists the templates a send step may pick: those with
// an approved version, and any the steps already name.
func (s *Server) sendableTemplates(ctx context.Context, accountID string, steps []autoStepRow) ([]selectOption, error) {
	tpls, err := s.allTemplates(ctx, accountID)
	if err != nil {
		return nil, err
	}
	named := map[string]bool{}
	for _, st := range steps {
		named[st.TemplateID] = true
	}
	var out []selectOption
	for _, t := range tpls {
		switch {
		case t.ApprovedVersionID != "":
			out = append(out, selectOption{t.ID, t.Name + " (" + string(t.Kind) + ")"})
		case named[t.ID]:
			out = append(out, selectOption{t.ID, t.Name + " (not approved yet)"})
		}
	}
	return out, nil
}

func (s *Server) createAutomation(w http.ResponseWriter, r *http.Request, v *view) error {
	return s.saveAutomation(w, r, v, "")
}

func (s *Server) updateAutomation(w http.ResponseWriter, r *http.Request, v *view) error {
	a, err := s.Automations.Get(r.Context(), v.Principal.AccountID, r.PathValue("id"))
	if err != nil {
		return err
	}
	return s.saveAutomation(w, r, v, a.ID)
}

// saveAutomation reads the editor. A row button re-renders the form with
// the row added or removed; Save stores a new draft version; Save and
// publish also publishes it. A refusal comes back on the form, next to the
// field it names, and stores nothing.
func (s *Server) saveAutomation(w http.ResponseWriter, r *http.Request, v *view, id string) error {
	if err := r.ParseForm(); err != nil {
		return problem.New(problem.Malformed, "invalid_form", "", "the form could not be read; reload the page and try again")
	}
	f := readAutoForm(r.PostForm)
	op := r.PostForm.Get("op")
	if f.edit(op) {
		return s.renderAutoForm(w, r, v, http.StatusOK, id, f)
	}
	def, idx := f.definition()
	if f.HasErrors() {
		return s.renderAutoForm(w, r, v, http.StatusUnprocessableEntity, id, f)
	}
	ctx, acct := r.Context(), v.Principal.AccountID
	var (
		a   automation.Automation
		err error
	)
	if id == "" {
		a, err = s.Automations.Create(ctx, acct, def, v.Principal.Actor())
	} else {
		a, err = s.Automations.Update(ctx, acct, id, def, v.Principal.Actor())
	}
	if refused(err) {
		f.placeErr(err, idx)
		return s.renderAutoForm(w, r, v, http.StatusUnprocessableEntity, id, f)
	}
	if err != nil {
		return err
	}
	if op != "publish" {
		s.notice(w, r, "Saved "+a.Name+" as a draft.")
		redirect(w, r, "/automations/"+a.ID)
		return nil
	}
	if _, err := s.Automations.Publish(ctx, acct, a.ID); refused(err) {
		// The draft is saved; the form now edits it.
		f.placeErr(err, idx)
		return s.renderAutoForm(w, r, v, http.StatusUnprocessableEntity, a.ID, f)
	} else if err != nil {
		return err
	}
	s.notice(w, r, "Saved and published "+a.Name+".")
	redirect(w, r, "/automations/"+a.ID)
	return nil
}

// refused reports whether err is the input's fault, to be shown on the
// form: a broken rule, or an id (template, program) the account lacks.
func refused(err error) bool {
	p, ok := problem.As(err)
	return ok && (p.Kind == problem.Invalid || p.Kind == problem.NotFound || p.Kind == problem.Conflict)
}

func (f *autoForm) placeErr(err error, idx autoIndex) {
	p, _ := problem.As(err)
	f.place(p.Field, p.Message, idx)
}

// publishAutomation makes the latest version the one that runs. A version
// that cannot be published (a template not approved, a merge tag nothing
// fills) opens the editor with the reason beside the field at fault.
func (s *Server) publishAutomation(w http.ResponseWriter, r *http.Request, v *view) error {
	ctx, acct := r.Context(), v.Principal.AccountID
	a, err := s.Automations.Publish(ctx, acct, r.PathValue("id"))
	if p, ok := problem.As(err); ok && p.Kind == problem.Invalid {
		f := autoFormOf(a.Definition)
		_, idx := f.definition()
		f.Errors = map[string]string{}
		f.place(p.Field, p.Message, idx)
		return s.renderAutoForm(w, r, v, http.StatusUnprocessableEntity, a.ID, f)
	}
	if err != nil {
		return err
	}
	s.notice(w, r, "Published "+a.Name+".")
	redirect(w, r, "/automations/"+a.ID)
	return nil
}

func (s *Server) enableAutomation(w http.ResponseWriter, r *http.Request, v *view) error {
	return s.switchAutomation(w, r, v, true)
}

func (s *Server) disableAutomation(w http.ResponseWriter, r *http.Request, v *view) error {
	return s.switchAutomation(w, r, v, false)
}

// switchAutomation turns an automation on or off; one that cannot be (not
// published yet) shows why on its page.
func (s *Server) switchAutomation(w http.ResponseWriter, r *http.Request, v *view, on bool) error {
	a, err := s.Automations.SetEnabled(r.Context(), v.Principal.AccountID, r.PathValue("id"), on)
	if p, ok := problem.As(err); ok && (p.Kind == problem.Conflict || p.Kind == problem.Invalid) {
		return s.renderAutomation(w, r, v, p.Kind.HTTPStatus(), p.Message)
	}
	if err != nil {
		return err
	}
	msg := "Turned " + a.Name + " off: nothing more will run."
	if on {
		msg = "Turned " + a.Name + " on."
	}
	s.notice(w, r, msg)
	redirect(w, r, "/automations/"+a.ID)
	return nil
}

func (s *Server) deleteAutomation(w http.ResponseWriter, r *http.Request, v *view) error {
	a, err := s.Automations.Get(r.Context(), v.Principal.AccountID, r.PathValue("id"))
	if err != nil {
		return err
	}
	if err := s.Automations.Delete(r.Context(), v.Principal.AccountID, a.ID); err != nil {
		return err
	}
	s.notice(w, r, "Deleted "+a.Name+"; steps already waiting stop when they come due.")
	redirect(w, r, "/automations")
	return nil
}

// autoDetailData is an automation's page.
type autoDetailData struct {
	A automation.Automation
	// Trigger, Audience and Conditions describe the definition in words.
	Trigger    string
	Audience   string
	Conditions []string
	Join       string
	Steps      []string
	Runs       []automation.Run
	// ActionError says why the last button did nothing.
	ActionError string
}

func (s *Server) automationDetail(w http.ResponseWriter, r *http.Request, v *view) error {
	return s.renderAutomation(w, r, v, http.StatusOK, "")
}

func (s *Server) renderAutomation(w http.ResponseWriter, r *http.Request, v *view, status int, actionErr string) error {
	ctx, acct := r.Context(), v.Principal.AccountID
	a, err := s.Automations.Get(ctx, acct, r.PathValue("id"))
	if err != nil {
		return err
	}
	runs, err := s.Automations.Runs(ctx, acct, a.ID)
	if err != nil {
		return err
	}
	progs, err := s.programOptions(ctx, acct)
	if err != nil {
		return err
	}
	tpls, err := s.allTemplates(ctx, acct)
	if err != nil {
		return err
	}
	names := optionNames(progs)
	for _, t := range tpls {
		names[t.ID] = t.Name
	}
	d := describeAutomation(a.Definition, names)
	d.A, d.Runs, d.ActionError = a, runs, actionErr
	v.Section, v.Title = "automations", a.Name
	return s.render(w, r, status, "automation", v, d)
}

// describeAutomation puts a definition in words, ids replaced by names.
func describeAutomation(def automation.Definition, names map[string]string) autoDetailData {
	var d autoDetailData
	t := def.Trigger
	switch t.Type {
	case automation.TriggerEvent:
		d.Trigger = "When " + t.Event + " arrives"
		if t.ProgramID != "" {
			d.Trigger += " from " + orID(names[t.ProgramID], t.ProgramID)
		}
		if r := t.Reminder; r != nil {
			if len(r.Repeat) > 0 {
				d.Trigger += "; again after " + joinWords(r.Repeat)
			}
			if r.UntilEvent != "" {
				d.Trigger += "; until " + r.UntilEvent + " with the same " + r.MatchOn
			}
		}
	case automation.TriggerSchedule:
		if t.Cron != "" {
			d.Trigger = "On the schedule " + t.Cron + " (" + t.TimeZone + ")"
		} else {
			d.Trigger = "Once, at " + t.At
		}
		d.Audience = "Every contact opted in for marketing"
		if def.Audience != nil && def.Audience.ProgramID != "" {
			d.Audience += " in " + orID(names[def.Audience.ProgramID], def.Audience.ProgramID)
		}
		if def.Audience != nil {
			for _, c := range def.Audience.Attributes {
				d.Audience += "; " + c.Field + " " + opWord(c.Op) + " " + typedValue(c.Value)
			}
		}
	}
	conds, join := def.Conditions.All, "all"
	if len(def.Conditions.Any) > 0 {
		conds, join = def.Conditions.Any, "any"
	}
	d.Join = join
	for _, row := range rowsOf(conds) {
		if row.Group != "" {
			d.Conditions = append(d.Conditions, "group "+row.Group)
			continue
		}
		d.Conditions = append(d.Conditions, row.Field+" "+opWord(row.Op)+" "+row.Value)
	}
	for _, st := range def.Steps {
		switch st.Type {
		case automation.StepSendSMS:
			line := "Send SMS: " + orID(names[st.TemplateID], st.TemplateID)
			if st.Kind != "" {
				line += " from the " + string(st.Kind) + " number"
			}
			d.Steps = append(d.Steps, line)
		case automation.StepWait:
			d.Steps = append(d.Steps, "Wait "+st.Duration)
		}
	}
	return d
}

func opWord(op string) string {
	for _, o := range conditionOps {
		if o.Value == op {
			return o.Label
		}
	}
	return op
}

func joinWords(list []string) string {
	out := ""
	for i, w := range list {
		switch {
		case i == 0:
		case i == len(list)-1:
			out += " and "
		default:
			out += ", "
		}
		out += w
	}
	return out
}
