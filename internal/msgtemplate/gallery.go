package msgtemplate

// GalleryEntry is a ready-made template a marketer can start from. Every
// body parses, passes Check for its kind, and fits one GSM-7 segment with
// the sample values, so starting from the gallery never starts from a
// problem.
type GalleryEntry struct {
	Key         string // stable identifier, snake_case
	Name        string // shown in the admin gallery
	Kind        Kind
	EventType   string // the trigger it is written for; "" for a scheduled send
	Description string
	Body        string
}

// Gallery returns the starting points, in the order the admin shows them.
// It returns a fresh slice each call so callers may modify it.
func Gallery() []GalleryEntry {
	return []GalleryEntry{
		{
			Key: "welcome", Name: "Welcome", Kind: KindTransactional, EventType: "advocate.enrolled",
			Description: "Greets a new advocate, shares their referral link and says how to opt out.",
			Body: `{{brand}}: Welcome to {{program_name}}, {{first_name | default: "friend"}}! ` +
				`Share your link to earn rewards: {{referral_link}} Reply STOP to opt out.`,
		},
		{
			Key: "referral_connected", Name: "Referral connected", Kind: KindTransactional, EventType: "referral.connected",
			Description: "Tells an advocate that a friend signed up through their link.",
			Body: `{{brand}}: Good news, {{first_name | default: "friend"}}! A friend just joined ` +
				`using your referral link. We'll text you when your reward is ready.`,
		},
		{
			Key: "reward_approved", Name: "Reward approved", Kind: KindTransactional, EventType: "reward.approved",
			Description: "Confirms that a referral reward was approved.",
			Body: `{{brand}}: Great news, {{first_name | default: "friend"}}! Your {{reward_amount}} ` +
				`referral reward is approved. We'll text you when it's on its way.`,
		},
		{
			Key: "reward_fulfilled", Name: "Reward sent", Kind: KindTransactional, EventType: "reward.fulfilled",
			Description: "Says the reward is on its way and invites another referral.",
			Body: `{{brand}}: Your {{reward_amount}} reward is on its way, {{first_name | default: "friend"}}! ` +
				`Thanks for spreading the word. Share again: {{referral_link}}`,
		},
		{
			Key: "points_earned", Name: "Points earned", Kind: KindTransactional, EventType: "points.earned",
			Description: "Reports points earned in the loyalty program.",
			Body: `{{brand}}: You earned {{points}} points, {{first_name | default: "friend"}}! ` +
				`Keep going to unlock more rewards in {{program_name}}.`,
		},
		{
			Key: "bonus_points", Name: "Bonus points", Kind: KindTransactional, EventType: "points.bonus",
			Description: "Announces bonus points added to the member's balance.",
			Body: `{{brand}}: Surprise, {{first_name | default: "friend"}}! {{points}} bonus points ` +
				`just landed in your {{program_name}} account. Enjoy!`,
		},
		{
			Key: "new_tier", Name: "New tier", Kind: KindTransactional, EventType: "tier.achieved",
			Description: "Congratulates a member on reaching a new tier.",
			Body: `{{brand}}: Congrats {{first_name | default: "friend"}}, you reached {{tier}} status ` +
				`in {{program_name}}! Enjoy your new perks.`,
		},
		{
			Key: "reward_reminder", Name: "Reward reminder", Kind: KindTransactional, EventType: "reward.available",
			Description: "Reminds a member that an earned reward is waiting to be used.",
			Body: `{{brand}}: Reminder, {{first_name | default: "friend"}}: your {{reward_amount}} reward ` +
				`is waiting. Use it before it expires! Reply STOP to opt out.`,
		},
		{
			Key: "seasonal_promotion", Name: "Seasonal promotion", Kind: KindMarketing, EventType: "",
			Description: "A scheduled promotion to opted-in contacts; names the sender and the opt-out as the rules require.",
			Body: `{{brand}}: Double points this week, {{first_name | default: "friend"}}! ` +
				`Refer a friend: {{referral_link}} Reply STOP to opt out.`,
		},
	}
}

// GalleryByKey finds one starting point by its key.
func GalleryByKey(key string) (GalleryEntry, bool) {
	for _, e := range Gallery() {
		if e.Key == key {
			return e, true
		}
	}
	return GalleryEntry{}, false
}
