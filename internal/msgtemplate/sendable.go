package msgtemplate

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"

	"github.com/heraldsms/herald/internal/problem"
)

// Sendable is an approved template version, compiled, ready to render.
type Sendable struct {
	TemplateID, VersionID, Name string
	Kind                        Kind
	Body                        string
	Compiled                    *Compiled
}

const selectSendable = `
SELECT t.name, t.archived_at, v.id, v.kind, v.body
FROM templates t
LEFT JOIN template_versions v ON v.id = t.approved_version_id AND v.account_id = t.account_id
WHERE t.account_id = $1 AND t.id = $2`

// Sendable returns the version of a template that messages are rendered
// from: the approved one, even while a newer version is a draft or awaits
// review. A template with no approved version, or a deleted one, is refused
// with template_not_approved; one the account does not have is not found.
func (s *Service) Sendable(ctx context.Context, accountID, templateID string) (Sendable, error) {
	key := [2]string{accountID, templateID}
	if out, ok := s.sendable.Get(key); ok {
		return out, nil
	}
	began := s.sendable.Now()
	var (
		out      = Sendable{TemplateID: templateID}
		archived sql.NullTime
		vid      sql.NullString
		kind     sql.NullString
		body     sql.NullString
	)
	err := s.db.Read().QueryRowContext(ctx, selectSendable, accountID, templateID).
		Scan(&out.Name, &archived, &vid, &kind, &body)
	if errors.Is(err, sql.ErrNoRows) {
		return Sendable{}, notFound(templateID)
	}
	if err != nil {
		return Sendable{}, fmt.Errorf("msgtemplate: sendable: %w", err)
	}
	switch {
	case archived.Valid:
		return Sendable{}, notApproved(templateID, "it was deleted")
	case !vid.Valid:
		return Sendable{}, notApproved(templateID, "no version of it has been approved")
	}
	out.VersionID, out.Kind, out.Body = vid.String, Kind(kind.String), body.String
	if out.Compiled, err = s.compiled.get(out.VersionID, out.Body); err != nil {
		return Sendable{}, err
	}
	s.sendable.Put(key, out, began)
	return out, nil
}

func notApproved(templateID, why string) error {
	return problem.Invalidf(CodeTemplateNotApproved, "template_id", "template %s cannot be sent: %s", templateID, why)
}

// CurrentVersion returns a template's latest version whatever its review
// status, for "Send Test". A deleted template is refused.
func (s *Service) CurrentVersion(ctx context.Context, accountID, templateID string) (Sendable, error) {
	t, err := getTemplate(ctx, s.db.Read(), accountID, templateID)
	if err != nil {
		return Sendable{}, storeErr(err, templateID)
	}
	if t.ArchivedAt != nil {
		return Sendable{}, errArchived(templateID)
	}
	c, err := s.compiled.get(t.VersionID, t.Body)
	if err != nil {
		return Sendable{}, err
	}
	return Sendable{TemplateID: t.ID, VersionID: t.VersionID, Name: t.Name, Kind: t.Kind, Body: t.Body, Compiled: c}, nil
}

// maxCompiled bounds the cache. When it is full it starts again empty:
// simpler than eviction, and a re-parse costs microseconds.
const maxCompiled = 4096

// compiledCache keeps compiled versions by version id. Versions never
// change, so an entry never goes stale.
type compiledCache struct {
	mu sync.RWMutex
	m  map[string]*Compiled
}

func newCompiledCache() *compiledCache { return &compiledCache{m: map[string]*Compiled{}} }

func (c *compiledCache) get(versionID, body string) (*Compiled, error) {
	c.mu.RLock()
	t, ok := c.m[versionID]
	c.mu.RUnlock()
	if ok {
		return t, nil
	}
	t, err := Parse(body)
	if err != nil {
		// Bodies are checked when saved; this is a row changed behind our back.
		return nil, fmt.Errorf("msgtemplate: stored version %s does not parse: %w", versionID, err)
	}
	c.mu.Lock()
	if len(c.m) >= maxCompiled {
		c.m = map[string]*Compiled{}
	}
	c.m[versionID] = t
	c.mu.Unlock()
	return t, nil
}
