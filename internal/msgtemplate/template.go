package msgtemplate

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/heraldsms/herald/internal/problem"
	"github.com/heraldsms/herald/internal/segment"
)

// Status is where a template version is in its review. A template's status
// is its current (latest) version's.
type Status string

// The review states. Only an approved version is ever sent.
const (
	StatusDraft    Status = "draft"
	StatusPending  Status = "pending_approval"
	StatusApproved Status = "approved"
	StatusRejected Status = "rejected"
)

// ParseStatus checks a status name.
func ParseStatus(s string) (Status, error) {
	switch st := Status(s); st {
	case StatusDraft, StatusPending, StatusApproved, StatusRejected:
		return st, nil
	}
	return "", problem.Invalidf("invalid_status", "status",
		"status must be draft, pending_approval, approved or rejected; got %q", s)
}

// ParseKind checks a kind name for the named field.
func ParseKind(s, field string) (Kind, error) {
	if s == "" {
		return "", problem.Invalidf("required", field, "%s is required: transactional or marketing", field)
	}
	if k := Kind(s); k.Valid() {
		return k, nil
	}
	return "", problem.Invalidf(CodeInvalidKind, field, "%s must be transactional or marketing; got %q", field, s)
}

// Limits on what a template may be. A carrier takes at most 1,600
// characters in one message, and a body past 10 segments costs more than any
// referral message is worth.
const (
	MaxBodyCharacters = 1600
	MaxBodySegments   = 10
	maxNameBytes      = 200
	maxReasonBytes    = 1000
)

// Stable codes of the template service's refusals.
const (
	CodeBodyTooLong             = "body_too_long"
	CodeBodyTooManySegments     = "body_too_many_segments"
	CodeInvalidUTF8             = "invalid_utf8"
	CodeInvalidStatusTransition = "invalid_status_transition"
	CodeTemplateNotApproved     = "template_not_approved"
	CodeTemplateArchived        = "template_archived"
	CodeSelfApprovalDisabled    = "self_approval_disabled"
	CodeUnknownGalleryEntry     = "unknown_gallery_entry"
	CodeRateLimited             = "rate_limited"
	CodeSendingNotConfigured    = "sending_not_configured"
)

// Template is a message template as the API shows it: its current version's
// body and kind, measured, and the version that is sent, if any.
type Template struct {
	ID        string `json:"id"`
	AccountID string `json:"account_id"`
	Name      string `json:"name"`
	Kind      Kind   `json:"kind"`
	Status    Status `json:"status"`
	Body      string `json:"body"`
	VersionID string `json:"version_id"`
	Version   int    `json:"version"`
	// Encoding, Characters and Segments measure the body rendered with
	// sample values and the account's brand: what a typical message costs.
	Encoding   segment.Encoding `json:"encoding"`
	Characters int              `json:"characters"`
	Segments   int              `json:"segments"`
	MergeTags  []string         `json:"merge_tags"`
	// ApprovedVersionID and ApprovedBody name the version that is sent; it
	// stays the approved one while a newer version awaits review.
	ApprovedVersionID string     `json:"approved_version_id,omitempty"`
	ApprovedBody      string     `json:"approved_body,omitempty"`
	GalleryKey        string     `json:"gallery_key,omitempty"`
	CreatedAt         time.Time  `json:"created_at"`
	UpdatedAt         time.Time  `json:"updated_at"`
	ArchivedAt        *time.Time `json:"archived_at,omitempty"`
	// Versions is filled by Get, oldest first.
	Versions []Version `json:"versions,omitempty"`
	// Warnings is filled by Submit: compliance findings that do not refuse.
	Warnings []Finding `json:"warnings,omitempty"`
}

// Version is one immutable body and kind of a template, with its review.
type Version struct {
	ID        string     `json:"id"`
	Number    int        `json:"number"`
	Kind      Kind       `json:"kind"`
	Body      string     `json:"body"`
	Status    Status     `json:"status"`
	CreatedBy string     `json:"created_by"`
	CreatedAt time.Time  `json:"created_at"`
	Decisions []Decision `json:"decisions"`
}

// Outcome is one step of a version's review.
type Outcome string

// The review steps recorded.
const (
	OutcomeSubmitted Outcome = "submitted"
	OutcomeWithdrawn Outcome = "withdrawn"
	OutcomeApproved  Outcome = "approved"
	OutcomeRejected  Outcome = "rejected"
)

// Decision is a kept record of one review step: who, when, which version,
// what and why.
type Decision struct {
	ID        string    `json:"id"`
	VersionID string    `json:"version_id"`
	Outcome   Outcome   `json:"decision"`
	Reason    string    `json:"reason"`
	Actor     string    `json:"actor"`
	DecidedAt time.Time `json:"decided_at"`
}

// NewTemplate is what it takes to create a template: a name, a kind and a
// body, or a gallery key (and optionally a name of its own).
type NewTemplate struct {
	Name        string `json:"name"`
	Kind        string `json:"kind"`
	Body        string `json:"body"`
	FromGallery string `json:"from_gallery"`
}

// Change is an edit of a template; nil fields are kept.
type Change struct {
	Name *string `json:"name"`
	Kind *string `json:"kind"`
	Body *string `json:"body"`
}

func checkName(name string) (string, error) {
	name = strings.TrimSpace(name)
	switch {
	case !utf8.ValidString(name):
		return "", problem.Invalidf(CodeInvalidUTF8, "name", "name is not valid UTF-8")
	case name == "":
		return "", problem.Invalidf("required", "name", "name is required")
	case len(name) > maxNameBytes:
		return "", problem.Invalidf("too_long", "name", "name is longer than %d bytes", maxNameBytes)
	}
	return name, nil
}

// compileBody applies the saving rules to a body and compiles it: valid
// UTF-8, not blank, every merge tag known and well formed, and within the
// length limits both as written and rendered with sample values.
func compileBody(body, brand string) (*Compiled, error) {
	if !utf8.ValidString(body) {
		e := problem.Invalidf(CodeInvalidUTF8, "body", "body is not valid UTF-8 (first bad byte at offset %d)", badUTF8Offset(body))
		e.Detail = map[string]any{"offset": badUTF8Offset(body)}
		return nil, e
	}
	if strings.TrimSpace(body) == "" {
		return nil, problem.Invalidf("required", "body", "body is required")
	}
	if err := CheckLength(segment.Count(body), "body"); err != nil {
		return nil, err // before parsing: a huge paste costs no more than this
	}
	c, err := Parse(body)
	if err != nil {
		return nil, tagProblem(err)
	}
	if err := CheckLength(measure(c, brand), "body"); err != nil {
		return nil, err
	}
	return c, nil
}

// CheckLength refuses a message past the limits above, blaming field: a
// template's body, or the data a message was rendered with.
func CheckLength(info segment.Info, field string) error {
	detail := map[string]any{"characters": info.Characters, "segments": info.Segments, "encoding": info.Encoding,
		"max_characters": MaxBodyCharacters, "max_segments": MaxBodySegments}
	var e *problem.Error
	switch {
	case info.Characters > MaxBodyCharacters:
		e = problem.Invalidf(CodeBodyTooLong, field, "the message is %d characters; the most a message may have is %d",
			info.Characters, MaxBodyCharacters)
	case info.Segments > MaxBodySegments:
		e = problem.Invalidf(CodeBodyTooManySegments, field, "the message is %d %s segments; the most a message may have is %d",
			info.Segments, info.Encoding, MaxBodySegments)
	default:
		return nil
	}
	e.Detail = detail
	return e
}

func badUTF8Offset(s string) int {
	for i, r := range s {
		if r == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(s[i:]); size == 1 {
				return i
			}
		}
	}
	return -1
}

// tagProblem turns Parse's errors into one 422 naming the first and listing
// all, with their positions, so an editor can underline each.
func tagProblem(err error) error {
	pe, ok := err.(*ParseError)
	if !ok || len(pe.Errors) == 0 {
		return fmt.Errorf("msgtemplate: parse: %w", err)
	}
	first := pe.Errors[0]
	all := make([]map[string]any, len(pe.Errors))
	for i, te := range pe.Errors {
		all[i] = tagErrorDetail(te)
	}
	e := problem.Invalidf(first.Code, "body", "%s at position %d", first.Message, first.Position)
	e.Detail = tagErrorDetail(first)
	e.Detail["errors"] = all
	return e
}

func tagErrorDetail(te *TagError) map[string]any {
	return map[string]any{"code": te.Code, "message": te.Message, "offset": te.Offset, "position": te.Position, "tag": te.Tag}
}

// measure counts the body rendered with sample values and the brand, which
// is what the live counter shows. A body whose sample rendering fails (two
// overlapping data paths) is measured as written.
func measure(c *Compiled, brand string) segment.Info {
	v := c.SampleValues()
	if strings.TrimSpace(brand) != "" {
		v.Brand = brand
	}
	out, err := c.Render(v)
	if err != nil {
		out = c.Source()
	}
	return segment.Count(out)
}
