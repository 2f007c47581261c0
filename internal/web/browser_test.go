package web_test

import (
	"context"
	"encoding/json"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/heraldsms/herald/internal/consent"
	"github.com/heraldsms/herald/internal/contact"
	"github.com/heraldsms/herald/internal/message"
	"github.com/heraldsms/herald/internal/msgtemplate"
)

// Browser tests drive Debian's Chromium through the admin web with
// chromedp. Without a browser they skip, unless HERALD_REQUIRE_BROWSER is
// set (CI sets it), where a missing browser fails the run.
//
// With HERALD_SCREENSHOTS=dir they also save screenshots of the main pages
// there (docs/screenshots holds the ones the README shows; a relative dir
// is read from the repository's root).

// chromePath finds Chromium: HERALD_CHROMIUM, else the Debian package's.
func chromePath(t *testing.T) string {
	t.Helper()
	for _, p := range []string{os.Getenv("HERALD_CHROMIUM"), "/usr/bin/chromium", "chromium"} {
		if p == "" {
			continue
		}
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	if os.Getenv("HERALD_REQUIRE_BROWSER") != "" {
		t.Fatal("browser tests need Chromium (Debian package chromium) and HERALD_REQUIRE_BROWSER is set")
	}
	t.Skip("no Chromium: install Debian's chromium package to run the browser tests")
	return ""
}

// The window's size, a laptop screen's.
const windowWidth, windowHeight = 1280, 900

// chrome is one headless browser window, sized like a laptop screen.
type chrome struct {
	t   *testing.T
	ctx context.Context
}

func newChrome(t *testing.T) *chrome {
	t.Helper()
	path := chromePath(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.NoSandbox, // CI runs as root, where Chromium's sandbox cannot start
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.WindowSize(windowWidth, windowHeight),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 3*time.Minute)
	t.Cleanup(func() {
		cancelTimeout()
		cancel()
		cancelAlloc()
	})
	require.NoError(t, chromedp.Do(ctx), "start Chromium")
	return &chrome{t: t, ctx: ctx}
}

// run performs actions, failing the test with what was being done.
func (c *chrome) run(what string, actions ...chromedp.Action[chromedp.Void]) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(c.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		c.screenshotOnFailure(what)
		c.t.Fatalf("browser: %s: %v", what, err)
	}
}

// text is an element's visible text.
func (c *chrome) text(sel string) string {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(c.ctx, 30*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel), chromedp.NodeVisible))
	if err != nil {
		c.screenshotOnFailure("read " + sel)
		c.t.Fatalf("browser: read %s: %v", sel, err)
	}
	return strings.Join(strings.Fields(s), " ")
}

// waitText waits until an element's text contains want.
func (c *chrome) waitText(sel, want string) {
	c.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(c.ctx, 2*time.Second)
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		cancel()
		if err == nil && strings.Contains(strings.Join(strings.Fields(s), " "), want) {
			return
		}
		if time.Now().After(deadline) {
			c.screenshotOnFailure("wait " + sel)
			c.t.Fatalf("browser: %s never showed %q (last: %q, err %v)", sel, want, s, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// screenshotDir is HERALD_SCREENSHOTS, a relative one read from the
// repository's root (where go.mod is) rather than the package's directory
// that go test runs in; "" when unset.
func screenshotDir(t *testing.T) string {
	dir := os.Getenv("HERALD_SCREENSHOTS")
	if dir == "" || filepath.IsAbs(dir) {
		return dir
	}
	root, err := os.Getwd()
	require.NoError(t, err)
	for {
		if _, err := os.Stat(filepath.Join(root, "go.mod")); err == nil {
			return filepath.Join(root, dir)
		}
		parent := filepath.Dir(root)
		require.NotEqual(t, parent, root, "no go.mod above the test's directory")
		root = parent
	}
}

// screenshot saves the whole page to HERALD_SCREENSHOTS/name.png when set.
// Quality 100 is what makes Chromium answer with a PNG (below it, JPEG).
func (c *chrome) screenshot(name string) {
	c.t.Helper()
	c.saveScreenshot(name, chromedp.FullScreenshot(100))
}

// phoneScreenshot saves what a phone 375 px wide shows of the page, then
// gives the window its laptop size back.
func (c *chrome) phoneScreenshot(name string) {
	c.t.Helper()
	if screenshotDir(c.t) == "" {
		return
	}
	c.run("narrow the window to a phone's", chromedp.EmulateViewport(375, 812, chromedp.EmulateMobile),
		chromedp.Sleep(200*time.Millisecond))
	c.saveScreenshot(name, chromedp.CaptureScreenshot())
	c.run("widen the window again", chromedp.EmulateViewport(windowWidth, windowHeight))
}

func (c *chrome) saveScreenshot(name string, capture chromedp.Action[[]byte]) {
	c.t.Helper()
	dir := screenshotDir(c.t)
	if dir == "" {
		return
	}
	ctx, cancel := context.WithTimeout(c.ctx, 30*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, capture)
	require.NoError(c.t, err, "screenshot %s", name)
	require.NoError(c.t, os.MkdirAll(dir, 0o755))
	require.NoError(c.t, os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644))
}

// screenshotOnFailure keeps what the browser showed when a step failed,
// in the test's log directory.
func (c *chrome) screenshotOnFailure(what string) {
	ctx, cancel := context.WithTimeout(c.ctx, 5*time.Second)
	defer cancel()
	if png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot()); err == nil {
		p := filepath.Join(os.TempDir(), "herald-browser-failure.png")
		if os.WriteFile(p, png, 0o644) == nil {
			c.t.Logf("browser: screenshot of the failed step (%s) at %s", what, p)
		}
	}
}

// signIn signs the window in through the sign-in form.
func (c *chrome) signIn(s *site, email string) {
	c.t.Helper()
	c.run("sign in as "+email,
		chromedp.Navigate(s.url+"/signin"),
		chromedp.WaitVisible(chromedp.CSS(`#email`)),
		chromedp.SendKeys(chromedp.CSS(`#email`), email),
		chromedp.SendKeys(chromedp.CSS(`#password`), password),
		chromedp.Click(chromedp.CSS(`form button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`header.top`)),
	)
}

// signOut signs the window out with the header's button.
func (c *chrome) signOut() {
	c.t.Helper()
	c.run("sign out", chromedp.Click(chromedp.CSS(`form.signout button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`#email`)))
}

// visit opens a page and waits until it has loaded.
func (c *chrome) visit(url string) {
	c.t.Helper()
	c.run("open "+url, chromedp.Navigate(url), chromedp.WaitReady(chromedp.CSS(`body`)))
}

// click clicks an element once it is visible.
func (c *chrome) click(sel string) {
	c.t.Helper()
	c.run("click "+sel, chromedp.WaitVisible(chromedp.CSS(sel)), chromedp.Click(chromedp.CSS(sel)))
}

// fill replaces a field's value as typing would, so the page's input and
// change listeners (htmx among them) see it. It also types what SendKeys
// cannot, such as emoji outside the Basic Multilingual Plane.
func (c *chrome) fill(sel, value string) {
	c.t.Helper()
	args, err := json.Marshal([]string{sel, value})
	require.NoError(c.t, err)
	c.run("fill "+sel, chromedp.WaitVisible(chromedp.CSS(sel)), chromedp.Evaluate[chromedp.Void](`((sel, v) => {
		const el = document.querySelector(sel);
		el.focus();
		el.value = v;
		el.dispatchEvent(new Event("input", {bubbles: true}));
		el.dispatchEvent(new Event("change", {bubbles: true}));
	})(...`+string(args)+`)`))
}

// location is the window's current address.
func (c *chrome) location() *url.URL {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(c.ctx, 10*time.Second)
	defer cancel()
	loc, err := chromedp.Run(ctx, chromedp.Location())
	require.NoError(c.t, err)
	u, err := url.Parse(loc)
	require.NoError(c.t, err)
	return u
}

// watchDialogs records every JavaScript dialog the window opens, and
// dismisses it so the page goes on; the returned func lists them.
func (c *chrome) watchDialogs() func() []string {
	c.t.Helper()
	var mu sync.Mutex
	var seen []string
	opened := make(chan struct{}, 16)
	err := chromedp.Listen(c.ctx, func(ev any) {
		if d, ok := ev.(*cdppage.EventJavascriptDialogOpening); ok {
			mu.Lock()
			seen = append(seen, string(d.Type)+": "+d.Message+" on "+d.URL)
			mu.Unlock()
			select {
			case opened <- struct{}{}:
			default:
			}
		}
	})
	require.NoError(c.t, err)
	go func() {
		for {
			select {
			case <-c.ctx.Done():
				return
			case <-opened:
				_, _ = chromedp.Call(c.ctx, cdppage.HandleJavaScriptDialog, cdppage.HandleJavaScriptDialogParams{})
			}
		}
	}()
	return func() []string {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(seen)
	}
}

// bypassCSP turns the pages' Content-Security-Policy off in this window,
// so a test sees what escaping alone does.
func (c *chrome) bypassCSP() {
	c.t.Helper()
	_, err := chromedp.Call(c.ctx, cdppage.SetBypassCSP, cdppage.SetBypassCSPParams{Enabled: true})
	require.NoError(c.t, err)
}

// noInjectedMarkup fails the test if the page's DOM holds an element that
// a hostile name made: a script that calls alert, an onerror handler, or
// the hostile image.
func (c *chrome) noInjectedMarkup(where string) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(c.ctx, 10*time.Second)
	defer cancel()
	bad, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`(() => {
		const bad = [];
		document.querySelectorAll("script").forEach(s => { if (s.textContent.includes("alert(")) bad.push(s.outerHTML.slice(0, 120)); });
		document.querySelectorAll("[onerror], img[src='x']").forEach(e => bad.push(e.outerHTML.slice(0, 120)));
		return bad;
	})()`))
	require.NoError(c.t, err, "inspect %s", where)
	require.Empty(c.t, bad, "%s holds markup made from a hostile name", where)
}

// Seeding, through the same services the API calls.

func strp(s string) *string { return &s }

// addOptedInContact adds a contact that opted in to texts through an admin.
func addOptedInContact(t *testing.T, s *site, in contact.Input) contact.Contact {
	t.Helper()
	in.SMSPreference = strp(string(consent.OptedIn))
	c, _, err := s.app.Contacts.Upsert(context.Background(), s.acct, in, contact.Change{Source: consent.SourceAdmin, Actor: "admin@acme.test"})
	require.NoError(t, err)
	return c
}

// addApprovedTemplate adds a transactional template the operator approved.
func addApprovedTemplate(t *testing.T, s *site, name, body string) msgtemplate.Template {
	t.Helper()
	ctx := context.Background()
	tpl, err := s.app.Templates.Create(ctx, s.acct, msgtemplate.NewTemplate{Name: name, Kind: "transactional", Body: body}, "editor@acme.test")
	require.NoError(t, err)
	_, err = s.app.Templates.Submit(ctx, s.acct, tpl.ID, "editor@acme.test")
	require.NoError(t, err)
	tpl, err = s.app.Templates.Decide(ctx, s.acct, tpl.ID, msgtemplate.Review{Approve: true, Actor: "operator@herald.test"})
	require.NoError(t, err)
	return tpl
}

// awaitMessageStatus waits until a message reaches a status.
func awaitMessageStatus(t *testing.T, s *site, messageID string, want message.Status) {
	t.Helper()
	require.Eventually(t, func() bool {
		m, err := s.app.Messages.Get(context.Background(), s.acct, messageID)
		require.NoError(t, err)
		return m.Status == want
	}, 15*time.Second, 20*time.Millisecond, "message %s never became %s", messageID, want)
}
