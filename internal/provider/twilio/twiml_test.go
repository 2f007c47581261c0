package twilio_test

import (
	"encoding/xml"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/heraldsms/herald/internal/provider/twilio"
)

func TestWriteTwiML(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name, reply, want string
	}{
		{"no reply", "", `<?xml version="1.0" encoding="UTF-8"?><Response/>`},
		{"plain", "Thanks!", `<?xml version="1.0" encoding="UTF-8"?><Response><Message>Thanks!</Message></Response>`},
		{"markup and ampersand are escaped", `Reply <STOP> & "save" 20%`,
			`<?xml version="1.0" encoding="UTF-8"?><Response><Message>Reply &lt;STOP&gt; &amp; &#34;save&#34; 20%</Message></Response>`},
		{"injected verb stays text", `</Message><Redirect>https://evil.example</Redirect><Message>`,
			`<?xml version="1.0" encoding="UTF-8"?><Response><Message>&lt;/Message&gt;&lt;Redirect&gt;https://evil.example&lt;/Redirect&gt;&lt;Message&gt;</Message></Response>`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var b strings.Builder
			require.NoError(t, twilio.WriteTwiML(&b, tt.reply))
			require.Equal(t, tt.want, b.String())
		})
	}
}

type twiml struct {
	XMLName  xml.Name `xml:"Response"`
	Messages []string `xml:"Message"`
}

// Whatever the reply, the document parses, holds one Message, and a reply of
// valid text comes back exactly.
func FuzzWriteTwiML(f *testing.F) {
	f.Add("Reply <STOP> & go")
	f.Add("line one\nline two\r\n\ttabbed")
	f.Add("\x00\xff]]>")
	f.Fuzz(func(t *testing.T, reply string) {
		if reply == "" {
			return
		}
		var b strings.Builder
		require.NoError(t, twilio.WriteTwiML(&b, reply))
		var doc twiml
		require.NoError(t, xml.Unmarshal([]byte(b.String()), &doc), b.String())
		require.Len(t, doc.Messages, 1)
		if utf8.ValidString(reply) && !strings.ContainsFunc(reply, notXMLChar) {
			require.Equal(t, reply, doc.Messages[0])
		}
	})
}

// notXMLChar reports runes XML 1.0 cannot carry.
func notXMLChar(r rune) bool {
	return !(r == 0x09 || r == 0x0A || r == 0x0D ||
		r >= 0x20 && r <= 0xD7FF || r >= 0xE000 && r <= 0xFFFD || r >= 0x10000 && r <= 0x10FFFF)
}
