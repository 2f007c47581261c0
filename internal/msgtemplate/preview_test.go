package msgtemplate_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/heraldsms/herald/internal/db"
	"github.com/heraldsms/herald/internal/db/dbtest"
	"github.com/heraldsms/herald/internal/msgtemplate"
	"github.com/heraldsms/herald/internal/problem"
	"github.com/heraldsms/herald/internal/segment"
)

func codes(fs []msgtemplate.Finding) []string {
	out := []string{}
	for _, f := range fs {
		out = append(out, f.Code)
	}
	return out
}

func TestPreview(t *testing.T) {
	t.Parallel()
	b := setup(t, dbtest.New(t, db.SQLite))
	preview := func(kind, body string, data map[string]any) msgtemplate.Preview {
		t.Helper()
		p, err := b.svc.Preview(b.ctx, b.acct, msgtemplate.PreviewInput{Body: body, Kind: kind, Data: data})
		require.NoError(t, err)
		require.NotNil(t, p.Culprits)
		require.NotNil(t, p.MergeTags)
		require.NotNil(t, p.TagErrors)
		require.NotNil(t, p.MissingValues)
		require.NotNil(t, p.Problems)
		require.NotNil(t, p.Warnings)
		return p
	}

	p := preview("transactional", "{{brand}}: Hi {{first_name}}", map[string]any{"first_name": "Sam"})
	require.Equal(t, "Acme Coffee: Hi Sam", p.Rendered)
	require.Equal(t, segment.GSM7, p.Encoding)
	require.Equal(t, 19, p.Characters)
	require.Equal(t, 160-19, p.Remaining)
	require.Equal(t, []string{"brand", "first_name"}, p.MergeTags)
	require.Empty(t, p.Problems)

	// A curly apostrophe (U+2019) forces UCS-2; its look-alike would not.
	p = preview("transactional", "Hi {{first_name}}, it’s ready", nil)
	require.Equal(t, "Hi Alex, it’s ready", p.Rendered)
	require.Equal(t, segment.UCS2, p.Encoding)
	require.Equal(t, 19, p.Characters)
	require.Equal(t, []segment.Culprit{{Char: "’", Position: 11, Replacement: "'"}}, p.Culprits)
	require.Equal(t, "Hi Alex, it's ready", p.Suggested)

	// Bad tags are listed, not refused: the author is still typing.
	p = preview("transactional", "Hi {{frist_name}}", nil)
	require.Len(t, p.TagErrors, 1)
	require.Equal(t, "unknown_merge_tag", p.TagErrors[0]["code"])
	require.Equal(t, 3, p.TagErrors[0]["position"])

	// null makes a value missing: the fallback shows, or the tag is listed.
	p = preview("transactional", `Hi {{first_name | default: "there"}}`, map[string]any{"first_name": nil})
	require.Equal(t, "Hi there", p.Rendered)
	require.Empty(t, p.MissingValues)
	p = preview("transactional", "Hi {{first_name}}", map[string]any{"first_name": nil})
	require.Equal(t, []string{"first_name"}, p.MissingValues)
	require.Equal(t, "Hi Alex", p.Rendered, "measured with the sample instead")
	require.Equal(t, []string{"missing_merge_value"}, codes(p.Warnings))

	p = preview("marketing", "Big sale today!", nil)
	require.Equal(t, []string{"missing_sender_id", "missing_opt_out"}, codes(p.Problems))
	p = preview("marketing", strings.Repeat("a", 1700), nil)
	require.Contains(t, codes(p.Problems), "body_too_long")
	require.Contains(t, codes(p.Warnings), "too_many_segments")

	p = preview("transactional", "", nil)
	require.Equal(t, 0, p.Segments)
	require.Equal(t, "", p.Rendered)

	nested := preview("transactional", "Order {{event.data.order.id}} in {{contact.attributes.city}}",
		map[string]any{"event.data.order.id": float64(1042), "contact.attributes.city": "Ann Arbor"})
	require.Equal(t, "Order 1042 in Ann Arbor", nested.Rendered)

	_, err := b.svc.Preview(b.ctx, b.acct, msgtemplate.PreviewInput{Body: "Hi", Kind: "promo"})
	requireProblem(t, err, problem.Invalid, "invalid_kind")
	_, err = b.svc.Preview(b.ctx, b.acct, msgtemplate.PreviewInput{Body: "Hi \xff", Kind: "transactional"})
	requireProblem(t, err, problem.Invalid, "invalid_utf8")
}

func TestGallery(t *testing.T) {
	t.Parallel()
	dbtest.EachEngine(t, func(t *testing.T, d *db.DB) {
		b := setup(t, d)
		items, err := b.svc.Gallery(b.ctx, b.acct)
		require.NoError(t, err)
		require.Len(t, items, len(msgtemplate.Gallery()))
		for _, it := range items {
			require.Equal(t, segment.GSM7, it.Encoding, it.Key)
			require.Equal(t, 1, it.Segments, "%s: the gallery promises one segment", it.Key)
			require.NotEmpty(t, it.MergeTags, it.Key)
		}

		tpl, err := b.svc.Create(b.ctx, b.acct, msgtemplate.NewTemplate{FromGallery: "welcome"}, actor)
		require.NoError(t, err)
		welcome, _ := msgtemplate.GalleryByKey("welcome")
		require.Equal(t, "Welcome", tpl.Name)
		require.Equal(t, welcome.Body, tpl.Body)
		require.Equal(t, msgtemplate.KindTransactional, tpl.Kind)
		require.Equal(t, "welcome", tpl.GalleryKey)
		require.Equal(t, msgtemplate.StatusDraft, tpl.Status)

		named, err := b.svc.Create(b.ctx, b.acct, msgtemplate.NewTemplate{FromGallery: "seasonal_promotion", Name: "Spring"}, actor)
		require.NoError(t, err)
		require.Equal(t, "Spring", named.Name)
		require.Equal(t, msgtemplate.KindMarketing, named.Kind)
		_, err = b.svc.Submit(b.ctx, b.acct, named.ID, actor)
		require.NoError(t, err, "a gallery marketing template passes review rules")

		_, err = b.svc.Create(b.ctx, b.acct, msgtemplate.NewTemplate{FromGallery: "nope"}, actor)
		requireProblem(t, err, problem.Invalid, "unknown_gallery_entry")
		_, err = b.svc.Create(b.ctx, b.acct, msgtemplate.NewTemplate{FromGallery: "welcome", Body: "x"}, actor)
		requireProblem(t, err, problem.Invalid, "conflicting_fields")
	})
}
