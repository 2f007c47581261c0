package msgtemplate

import (
	"testing"

	"github.com/heraldsms/herald/internal/segment"
	"github.com/stretchr/testify/require"
)

func TestGallery(t *testing.T) {
	t.Parallel()

	// The starting points the product promises, with the event types named
	// in the design; the seasonal promotion is sent on a schedule.
	want := map[string]struct {
		kind  Kind
		event string
	}{
		"welcome":            {KindTransactional, "advocate.enrolled"},
		"referral_connected": {KindTransactional, "referral.connected"},
		"reward_approved":    {KindTransactional, "reward.approved"},
		"reward_fulfilled":   {KindTransactional, "reward.fulfilled"},
		"points_earned":      {KindTransactional, "points.earned"},
		"bonus_points":       {KindTransactional, "points.bonus"},
		"new_tier":           {KindTransactional, "tier.achieved"},
		"reward_reminder":    {KindTransactional, "reward.available"},
		"seasonal_promotion": {KindMarketing, ""},
	}
	entries := Gallery()
	require.Len(t, entries, len(want))
	for _, e := range entries {
		t.Run(e.Key, func(t *testing.T) {
			t.Parallel()
			w, ok := want[e.Key]
			require.True(t, ok, "unexpected key")
			require.Equal(t, w.kind, e.Kind)
			require.Equal(t, w.event, e.EventType)
			require.NotEmpty(t, e.Name)
			require.NotEmpty(t, e.Description)

			tmpl, err := Parse(e.Body)
			require.NoError(t, err)
			require.Contains(t, tmpl.Tags(), "brand")

			for _, brand := range []string{"Acme Coffee", ""} {
				res := Check(e.Kind, e.Body, brand)
				require.Empty(t, res.Problems, "brand %q", brand)
				require.Empty(t, res.Warnings, "brand %q", brand)
			}

			// One GSM-7 segment with sample values, and still one when the
			// first name is unknown and its fallback is used.
			v := tmpl.SampleValues()
			for _, firstName := range []string{SampleFirstName, ""} {
				v.FirstName = firstName
				out, err := tmpl.Render(v)
				require.NoError(t, err)
				info := segment.Count(out)
				require.Equal(t, segment.GSM7, info.Encoding, out)
				require.Equal(t, 1, info.Segments, out)
			}
		})
	}
}

func TestGalleryByKey(t *testing.T) {
	t.Parallel()
	e, ok := GalleryByKey("new_tier")
	require.True(t, ok)
	require.Equal(t, "tier.achieved", e.EventType)
	_, ok = GalleryByKey("nope")
	require.False(t, ok)

	// Callers get their own copy.
	g := Gallery()
	g[0].Body = "changed"
	require.NotEqual(t, "changed", Gallery()[0].Body)
}
