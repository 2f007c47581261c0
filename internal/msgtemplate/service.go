package msgtemplate

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/heraldsms/herald/internal/account"
	"github.com/heraldsms/herald/internal/clock"
	"github.com/heraldsms/herald/internal/db"
	"github.com/heraldsms/herald/internal/id"
	"github.com/heraldsms/herald/internal/problem"
	"github.com/heraldsms/herald/internal/readcache"
)

// Accounts is what the template service reads of an account: its brand
// (for previews and compliance) and whether it may approve its own
// templates.
type Accounts interface {
	Get(ctx context.Context, accountID string) (account.Account, error)
}

// Service is the template domain: templates and their versions, review,
// previews, "Send Test", and the approved versions the message pipeline
// sends. Every change goes through it so the body rules and the review
// state machine hold whichever door a change comes in by.
type Service struct {
	db       *db.DB
	clock    clock.Clock
	accounts Accounts
	sender   TestSender
	log      *slog.Logger
	compiled *compiledCache
	// sendable keeps each template's approved version, which every message
	// made from it reads (see package readcache), by account and template.
	sendable *readcache.Cache[[2]string, Sendable]
}

// sendableFor is how long an approved version is kept. A decision made in
// another process takes effect within it; one made here, at once.
const sendableFor = 2 * time.Second

// NewService returns a Service. sender delivers "Send Test" messages.
func NewService(d *db.DB, c clock.Clock, accounts Accounts, sender TestSender, log *slog.Logger) *Service {
	return &Service{db: d, clock: c, accounts: accounts, sender: sender, log: log, compiled: newCompiledCache(),
		sendable: readcache.New[[2]string, Sendable](4096, sendableFor)}
}

func notFound(templateID string) error { return problem.NotFoundf("no template %q", templateID) }

func storeErr(err error, templateID string) error {
	if errors.Is(err, errNoTemplate) {
		return notFound(templateID)
	}
	return err
}

func errArchived(templateID string) error {
	return problem.Conflictf(CodeTemplateArchived, "", "template %s was deleted and cannot be changed or sent", templateID)
}

// Create makes a template with its first version, a draft.
func (s *Service) Create(ctx context.Context, accountID string, in NewTemplate, actor string) (Template, error) {
	a, err := s.accounts.Get(ctx, accountID)
	if err != nil {
		return Template{}, err
	}
	if in.FromGallery != "" {
		if in, err = fromGallery(in); err != nil {
			return Template{}, err
		}
	}
	name, err := checkName(in.Name)
	if err != nil {
		return Template{}, err
	}
	kind, err := ParseKind(in.Kind, "kind")
	if err != nil {
		return Template{}, err
	}
	if _, err := compileBody(in.Body, a.Brand()); err != nil {
		return Template{}, err
	}
	now := s.clock.Now()
	t := Template{ID: id.New(id.Template), AccountID: accountID, Name: name, Status: StatusDraft,
		VersionID: id.New(id.Version), GalleryKey: in.FromGallery, CreatedAt: now}
	v := Version{ID: t.VersionID, Number: 1, Kind: kind, Body: in.Body, Status: StatusDraft, CreatedBy: actor, CreatedAt: now}
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		if err := insertTemplate(ctx, tx, &t); err != nil {
			return err
		}
		return insertVersion(ctx, tx, accountID, t.ID, v)
	})
	if err != nil {
		return Template{}, err
	}
	return s.Get(ctx, accountID, t.ID)
}

// fromGallery fills a new template from a gallery entry; only the name may
// be given alongside.
func fromGallery(in NewTemplate) (NewTemplate, error) {
	e, ok := GalleryByKey(in.FromGallery)
	if !ok {
		return in, problem.Invalidf(CodeUnknownGalleryEntry, "from_gallery",
			"there is no gallery entry %q; GET /api/v1/template-gallery lists them", in.FromGallery)
	}
	if in.Body != "" || in.Kind != "" {
		return in, problem.Invalidf("conflicting_fields", "from_gallery",
			"from_gallery copies the entry's body and kind; send name alone with it, then edit the copy")
	}
	if in.Name == "" {
		in.Name = e.Name
	}
	in.Kind, in.Body = string(e.Kind), e.Body
	return in, nil
}

// Get returns a template with its versions and their decisions. A deleted
// (archived) template is still found, so message history can name it.
func (s *Service) Get(ctx context.Context, accountID, templateID string) (Template, error) {
	a, err := s.accounts.Get(ctx, accountID)
	if err != nil {
		return Template{}, err
	}
	t, err := getTemplate(ctx, s.db.Read(), accountID, templateID)
	if err != nil {
		return Template{}, storeErr(err, templateID)
	}
	if t.Versions, err = history(ctx, s.db.Read(), accountID, templateID); err != nil {
		return Template{}, err
	}
	return t, s.present(&t, a.Brand())
}

// Exists answers nil when the account has the template (deleted or not),
// else a 404-shaped problem. The API asks first, so another account's id
// is "not found" whatever the request body holds.
func (s *Service) Exists(ctx context.Context, accountID, templateID string) error {
	var n int
	err := s.db.Read().QueryRowContext(ctx,
		`SELECT count(*) FROM templates WHERE account_id = $1 AND id = $2`, accountID, templateID).Scan(&n)
	if err != nil {
		return fmt.Errorf("msgtemplate: exists: %w", err)
	}
	if n == 0 {
		return notFound(templateID)
	}
	return nil
}

// List returns one page of an account's templates, oldest first.
func (s *Service) List(ctx context.Context, accountID string, f Filter) (Page, error) {
	a, err := s.accounts.Get(ctx, accountID)
	if err != nil {
		return Page{}, err
	}
	page, err := list(ctx, s.db.Read(), accountID, f)
	if err != nil {
		return Page{}, err
	}
	for i := range page.Data {
		if err := s.present(&page.Data[i], a.Brand()); err != nil {
			return Page{}, err
		}
	}
	return page, nil
}

// Update renames a template and, when the body or kind changes, makes a new
// draft version. The approved version, if any, stays the one that is sent
// until the new one is approved. A version awaiting review is withdrawn
// (back to draft, recorded) when it is replaced: what the reviewer sees is
// always what would be sent.
func (s *Service) Update(ctx context.Context, accountID, templateID string, ch Change, actor string) (Template, error) {
	a, err := s.accounts.Get(ctx, accountID)
	if err != nil {
		return Template{}, err
	}
	var name string
	if ch.Name != nil {
		if name, err = checkName(*ch.Name); err != nil {
			return Template{}, err
		}
	}
	if ch.Kind != nil {
		if _, err := ParseKind(*ch.Kind, "kind"); err != nil {
			return Template{}, err
		}
	}
	if ch.Body != nil {
		if _, err := compileBody(*ch.Body, a.Brand()); err != nil {
			return Template{}, err
		}
	}
	err = s.mutate(ctx, accountID, templateID, func(tx *sql.Tx, t *Template) error {
		now := s.clock.Now()
		if ch.Name != nil && name != t.Name {
			if err := exec(ctx, tx, "rename", renameTemplate, accountID, t.ID, name, now); err != nil {
				return err
			}
		}
		kind, body := t.Kind, t.Body
		if ch.Kind != nil {
			kind = Kind(*ch.Kind)
		}
		if ch.Body != nil {
			body = *ch.Body
		}
		if kind == t.Kind && body == t.Body {
			return nil
		}
		return s.newVersion(ctx, tx, t, kind, body, actor)
	})
	if err != nil {
		return Template{}, err
	}
	return s.Get(ctx, accountID, templateID)
}

func (s *Service) newVersion(ctx context.Context, tx *sql.Tx, t *Template, kind Kind, body, actor string) error {
	if t.Status == StatusPending {
		if err := s.transition(ctx, tx, t, actionWithdraw, actor, "replaced by an edit"); err != nil {
			return err
		}
	}
	now := s.clock.Now()
	v := Version{ID: id.New(id.Version), Number: t.Version + 1, Kind: kind, Body: body, Status: StatusDraft,
		CreatedBy: actor, CreatedAt: now}
	if err := insertVersion(ctx, tx, t.AccountID, t.ID, v); err != nil {
		return err
	}
	return exec(ctx, tx, "make current", makeCurrent, t.AccountID, t.ID, v.ID, string(StatusDraft), now)
}

// Archive deletes a template softly: it leaves every list, cannot be
// changed or sent, and past messages keep pointing at it. A version
// awaiting review is withdrawn from the queue.
func (s *Service) Archive(ctx context.Context, accountID, templateID, actor string) error {
	return s.mutate(ctx, accountID, templateID, func(tx *sql.Tx, t *Template) error {
		if t.Status == StatusPending {
			if err := s.transition(ctx, tx, t, actionWithdraw, actor, "template deleted"); err != nil {
				return err
			}
		}
		return exec(ctx, tx, "archive", archiveTemplate, accountID, t.ID, s.clock.Now())
	})
}

// mutate runs fn on a live (not archived) template inside a write
// transaction that holds the template until it commits.
func (s *Service) mutate(ctx context.Context, accountID, templateID string, fn func(tx *sql.Tx, t *Template) error) error {
	defer s.sendable.Forget([2]string{accountID, templateID})
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		t, err := lockTemplate(ctx, tx, s.db.Engine, accountID, templateID)
		if err != nil {
			return storeErr(err, templateID)
		}
		if t.ArchivedAt != nil {
			return errArchived(templateID)
		}
		return fn(tx, &t)
	})
}

// present fills what a response shows of the current body: its merge tags
// and its measure with sample values and the account's brand.
func (s *Service) present(t *Template, brand string) error {
	c, err := s.compiled.get(t.VersionID, t.Body)
	if err != nil {
		return err
	}
	info := measure(c, brand)
	t.Encoding, t.Characters, t.Segments, t.MergeTags = info.Encoding, info.Characters, info.Segments, c.Tags()
	if t.MergeTags == nil {
		t.MergeTags = []string{}
	}
	return nil
}
