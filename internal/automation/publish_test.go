package automation

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/heraldsms/herald/internal/msgtemplate"
)

// The publish rule for merge tags: refuse only a tag nothing could fill.
func TestUnfillableTags(t *testing.T) {
	t.Parallel()
	event := Definition{Trigger: Trigger{Type: TriggerEvent, Event: EventRewardApproved}}
	schedule := Definition{Trigger: Trigger{Type: TriggerSchedule, Cron: "0 9 * * 1"}, Audience: &Audience{}}
	withProgram := Definition{Trigger: schedule.Trigger, Audience: &Audience{ProgramID: "prg_x"}}
	cases := []struct {
		body string
		def  Definition
		want []string
	}{
		{"Hi {{first_name}}, {{event.data.code}} {{reward_amount}}", event, nil},
		{"Hi {{first_name}}, {{contact.attributes.city}} from {{brand}}", schedule, nil},
		{"Your code {{event.data.code}} and {{points}} points", schedule, []string{"{{event.data.code}}", "{{points}}"}},
		{"Your code {{event.data.code | default: \"soon\"}}", schedule, nil},
		{"Welcome to {{program_name}}", schedule, []string{"{{program_name}}"}},
		{"Welcome to {{program_name}}", withProgram, nil},
	}
	for _, tc := range cases {
		c, err := msgtemplate.Parse(tc.body)
		require.NoError(t, err, tc.body)
		require.Equal(t, tc.want, unfillableTags(c, tc.def), tc.body)
	}
}
