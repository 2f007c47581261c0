package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/heraldsms/herald/internal/account"
	"github.com/heraldsms/herald/internal/automation"
	"github.com/heraldsms/herald/internal/contact"
	"github.com/heraldsms/herald/internal/db"
	"github.com/heraldsms/herald/internal/message"
)

// TestMarketersDay drives Chromium through a marketer's day in the admin
// web, each step through the controls a person would use: write a
// template and watch the counter turn to UCS-2, get it approved by the
// operator, build and publish an automation, Send Test to a phone and read
// it in the simulator, answer STOP from that phone, send and cancel from
// the limit queue, and sign someone up through the enrollment page.
func TestMarketersDay(t *testing.T) {
	c := newChrome(t)
	d := newDay(t)
	c.signInAt(d.site)
	tplID := d.writeTemplate(c)
	d.approveAsOperator(c, tplID)
	d.buildAutomation(c, tplID)
	d.sendTest(c, tplID)
	d.replyStop(c)
	d.workTheLimitQueue(c)
	d.enrollThroughWidget(c)
	d.findTheEvidence(c)
}

// day is the marketer's account: the site, a program, and the contacts
// the day texts.
type day struct {
	t *testing.T
	*site
	// marketer is the account's admin: the limit queue is for admins.
	marketer string
	program  account.Program
	// ava gets the Send Test; ben and cy are enrolled later, past the
	// monthly limit.
	ava, ben, cy contact.Contact
}

// The message the marketer writes; the emoji makes it UCS-2.
const (
	dayBody  = "Hi {{first_name}}, your Acme reward is ready"
	dayEmoji = " 🎉"
)

func newDay(t *testing.T) *day {
	s := newSite(t, db.SQLite)
	prog, err := s.app.Accounts.CreateProgram(context.Background(), s.acct, account.NewProgram{Name: "Acme Rewards",
		Description: "Earn rewards for every friend you refer."})
	require.NoError(t, err)
	add := func(first, last, phone string) contact.Contact {
		return addOptedInContact(t, s, contact.Input{Phone: strp(phone), FirstName: strp(first), LastName: strp(last)})
	}
	return &day{t: t, site: s, marketer: s.users[account.RoleAdmin], program: prog,
		ava: add("Ava", "Stone", "+17346263333"), ben: add("Ben", "Okafor", "+17346263334"), cy: add("Cy", "Lund", "+17346263335")}
}

// signInAt signs the marketer in through the sign-in page.
func (c *chrome) signInAt(s *site) {
	c.t.Helper()
	c.visit(s.url + "/signin")
	c.screenshot("01-signin")
	c.signIn(s, s.users[account.RoleAdmin])
	require.Contains(c.t, c.text(`header.top .who`), s.users[account.RoleAdmin], "the header says who is signed in")
}

// writeTemplate writes a template from scratch, watching the live counter,
// saves it and submits it for approval. It returns the template's id.
func (d *day) writeTemplate(c *chrome) string {
	c.visit(d.url + "/channels/sms")
	c.click(`#new-template`)
	c.run("name the template", chromedp.WaitVisible(chromedp.CSS(`#name`)),
		chromedp.SendKeys(chromedp.CSS(`#name`), "Reward ready"))
	c.run("type the message", chromedp.SendKeys(chromedp.CSS(`#body`), dayBody))
	c.waitText(`#sms-encoding`, "GSM-7")
	c.waitText(`#sms-preview-text`, "your Acme reward is ready")
	require.NotContains(d.t, c.text(`#sms-preview-text`), "{{", "the preview fills the merge tag with a sample")

	c.fill(`#body`, dayBody+dayEmoji)
	c.waitText(`#sms-encoding`, "UCS-2")
	require.Contains(d.t, c.text(`#sms-ucs2-chars`), "🎉", "the counter names the character that forces UCS-2")
	c.screenshot("02-template-editor")

	c.click(`#create-template`)
	c.waitText(`#template-status`, "draft")
	id := strings.TrimPrefix(c.location().Path, "/channels/sms/")
	require.True(d.t, strings.HasPrefix(id, "tpl"), "the editor lands on the template's page, not %s", id)

	c.click(`#submit-template`)
	c.waitText(`#template-status`, "pending approval")
	return id
}

// approveAsOperator signs in as the platform operator, approves the
// template from the approvals queue, and signs the marketer back in.
func (d *day) approveAsOperator(c *chrome, tplID string) {
	c.signOut()
	c.signIn(d.site, d.users[account.RoleOperator])
	c.visit(d.url + "/operator/templates")
	c.waitText(`#approval-`+tplID+`-title`, "Reward ready")
	require.Contains(d.t, c.text(`#approval-`+tplID), "UCS-2", "the operator sees the encoding")
	c.screenshot("03-template-approvals")
	c.click(`#approve-` + tplID)
	c.waitText(`main`, "No templates await approval")
	c.signOut()
	c.signIn(d.site, d.marketer)

	c.visit(d.url + "/channels/sms/" + tplID)
	c.waitText(`#template-status`, "approved")
}

// buildAutomation builds "Welcome text" (advocate.enrolled in the program →
// send the template), publishes it and turns it on.
func (d *day) buildAutomation(c *chrome, tplID string) {
	c.visit(d.url + "/automations")
	c.click(`#automation-new`)
	c.run("name the automation", chromedp.WaitVisible(chromedp.CSS(`#auto-name`)),
		chromedp.SendKeys(chromedp.CSS(`#auto-name`), "Welcome text"))
	c.fill(`#auto-trigger-event`, automation.EventAdvocateEnrolled)
	c.fill(`#auto-trigger-program-id`, d.program.ID)
	c.fill(`#auto-step-0-template-id`, tplID)
	c.screenshot("04-automation-editor")
	c.click(`#automation-save-publish`)
	c.waitText(`#automation-status`, "published")
	require.Contains(d.t, c.text(`#automation-trigger`), automation.EventAdvocateEnrolled)
	require.Contains(d.t, c.text(`#automation-steps`), "Reward ready")

	c.click(`#automation-enable`)
	c.waitText(`#automation-enabled`, "on")
	c.screenshot("05-automation")
}

// sendTest sends the template to Ava's phone and reads it in the
// simulator's inbox.
func (d *day) sendTest(c *chrome, tplID string) {
	c.visit(d.url + "/channels/sms/" + tplID)
	c.run("type the test number", chromedp.WaitVisible(chromedp.CSS(`#test-to`)),
		chromedp.SendKeys(chromedp.CSS(`#test-to`), d.ava.E164()))
	c.click(`#send-test-button`)
	c.waitText(`main .notice`, d.ava.E164())

	c.visit(d.url + "/simulator")
	c.waitTextReloading(`#sim-handsets`, d.ava.E164())
	c.click(`#sim-handsets a[href^="/simulator/handsets/"]`)
	c.waitText(`#sim-turns`, "your Acme reward is ready 🎉")
	c.waitText(`#sim-contact`, "Ava")
	c.waitText(`#sim-contact-preference`, "opted_in")
}

// replyStop answers STOP from Ava's phone: Herald confirms once and the
// contact is opted out, on the handset's page and on her contact page.
func (d *day) replyStop(c *chrome) {
	c.run("type STOP", chromedp.SendKeys(chromedp.CSS(`#sim-reply-body`), "STOP"))
	c.click(`#sim-reply-send`)
	c.waitText(`#sim-contact-preference`, "opted_out")
	c.waitText(`#sim-turns`, "STOP")
	c.screenshot("06-simulator")
	c.phoneScreenshot("11-simulator-phone")

	c.visit(d.url + "/audience/contacts/" + d.ava.ID)
	c.waitText(`#contact-preference`, "opted_out")
	c.waitText(`#consent-ledger`, "keyword")
}

// workTheLimitQueue lowers the monthly limit to nothing, as the operator
// would, lets the program enroll Ben and Cy, then sends Ben's welcome text
// and cancels Cy's from the limit queue.
func (d *day) workTheLimitQueue(c *chrome) {
	ctx := context.Background()
	none := int64(0)
	_, err := d.app.Accounts.Configure(ctx, d.acct, account.Setup{MonthlyLimit: &none})
	require.NoError(d.t, err)
	for _, who := range []contact.Contact{d.ben, d.cy} {
		_, err := d.app.Automations.Ingest(ctx, d.acct, automation.Event{ID: "enrolled-" + who.ID,
			Type: automation.EventAdvocateEnrolled, ProgramID: d.program.ID, Contact: automation.EventContact{Phone: strp(who.E164())}})
		require.NoError(d.t, err)
	}
	ben, cy := d.queued(d.ben.ID), d.queued(d.cy.ID)

	c.visit(d.url + "/limit-queue")
	c.waitText(`#lq-total`, "2")
	c.screenshot("07-limit-queue")
	c.click(`#lq-select-` + ben.ID)
	c.click(`#lq-send-selected`)
	c.waitText(`main .notice`, "Sent 1 message")
	c.click(`#lq-select-` + cy.ID)
	c.click(`#lq-cancel-selected`)
	c.waitText(`main .notice`, "Cancelled 1 message")
	c.waitText(`#lq-empty`, "No messages are waiting")

	awaitMessageStatus(d.t, d.site, ben.ID, message.Delivered)
	awaitMessageStatus(d.t, d.site, cy.ID, message.Cancelled)
	require.Len(d.t, d.app.Sim.Inbox(d.ben.E164()), 1, "Ben's phone got his welcome text")
	require.Empty(d.t, d.app.Sim.Inbox(d.cy.E164()), "Cy's cancelled text never left")
}

// queued waits for the automation's message to a contact to reach the
// limit queue.
func (d *day) queued(contactID string) *message.Message {
	var found *message.Message
	require.Eventually(d.t, func() bool {
		pg, err := d.app.Messages.List(context.Background(), d.acct, message.Filter{ContactID: contactID,
			Statuses: []message.Status{message.LimitQueued}})
		require.NoError(d.t, err)
		if len(pg.Data) == 0 {
			return false
		}
		found = pg.Data[0]
		return true
	}, 30*time.Second, 50*time.Millisecond, "the automation's message to %s never reached the limit queue", contactID)
	return found
}

// enrollThroughWidget signs Dana up on the program's hosted enrollment
// page with the consent box ticked.
func (d *day) enrollThroughWidget(c *chrome) {
	c.visit(d.url + "/enroll/" + d.program.ID)
	c.run("fill in the enrollment form", chromedp.WaitVisible(chromedp.CSS(`#he-name`)),
		chromedp.SendKeys(chromedp.CSS(`#he-name`), "Dana Lee"),
		chromedp.SendKeys(chromedp.CSS(`#he-phone`), "(734) 626-3336"),
		chromedp.Click(chromedp.CSS(`#he-sms_opt_in`)))
	c.screenshot("08-enroll-widget")
	c.click(`.he-submit`)
	c.waitText(`#he-result`, "You're subscribed")
}

// findTheEvidence finds Dana among the contacts and reads what the consent
// ledger kept of her sign-up: the widget, the disclosure she agreed to, the
// program, and where she was.
func (d *day) findTheEvidence(c *chrome) {
	// The dashboard reads rollups that fold every few seconds; fold now
	// rather than wait.
	_, err := d.app.Metrics.Fold(context.Background())
	require.NoError(d.t, err)
	c.visit(d.url + "/dashboards/sms")
	c.waitText(`#tile-opt-outs .value`, "1")
	delivered, err := strconv.Atoi(c.text(`#tile-delivered .value`))
	require.NoError(d.t, err)
	require.GreaterOrEqual(d.t, delivered, 2, "the Send Test and Ben's welcome text were delivered")
	c.screenshot("09-dashboard")

	c.visit(d.url + "/audience/contacts")
	c.run("search for Dana", chromedp.WaitVisible(chromedp.CSS(`#contacts-q`)),
		chromedp.SendKeys(chromedp.CSS(`#contacts-q`), "Dana"))
	c.click(`#contacts-search`)
	c.waitLocation("q=Dana")
	c.waitText(`#contacts-list`, "Dana Lee")
	require.NotContains(d.t, c.text(`#contacts-list`), "Ava", "the search finds Dana alone")
	c.click(`#contacts-list a[href^="/audience/contacts/"]`)
	c.waitText(`#contact-name`, "Dana Lee")
	c.waitText(`#contact-preference`, "opted_in")
	ledger := c.text(`#consent-ledger`)
	for _, want := range []string{"widget", "opted_in", d.program.ID, "Acme Rewards", fmt.Sprintf("/enroll/%s", d.program.ID)} {
		require.Contains(d.t, ledger, want, "the consent ledger keeps the sign-up's evidence")
	}
	c.screenshot("10-contact-evidence")
}

// waitTextReloading reloads the page until an element's text contains
// want, for pages that show what arrives without polling for it.
func (c *chrome) waitTextReloading(sel, want string) {
	c.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(c.ctx, 5*time.Second)
		s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector(`+jsString(sel)+`)?.innerText ?? ""`))
		cancel()
		if err == nil && strings.Contains(s, want) {
			return
		}
		if time.Now().After(deadline) {
			c.screenshotOnFailure("wait " + sel)
			c.t.Fatalf("browser: %s never showed %q (last: %q, err %v)", sel, want, s, err)
		}
		c.run("reload", chromedp.Sleep(200*time.Millisecond), chromedp.Reload())
	}
}

// waitLocation waits until the window's address contains part, as it does
// once a form's submission has loaded its answer.
func (c *chrome) waitLocation(part string) {
	c.t.Helper()
	require.Eventually(c.t, func() bool { return strings.Contains(c.location().String(), part) },
		20*time.Second, 50*time.Millisecond, "the window never went to an address with %q", part)
}

// jsString is s as a JavaScript string literal.
func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
