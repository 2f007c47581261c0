package twilio

import (
	"encoding/xml"
	"io"
	"strings"
)

const xmlHeader = `<?xml version="1.0" encoding="UTF-8"?>`

// WriteTwiML answers an inbound-message webhook. An empty reply writes an
// empty <Response/>, which tells Twilio to send nothing back; otherwise the
// reply is sent as one <Message>. The text is XML-escaped, and characters XML
// cannot carry at all (NUL, say) become U+FFFD, so a reply built from a
// contact's own words can never break the document or inject TwiML verbs.
func WriteTwiML(w io.Writer, reply string) error {
	var b strings.Builder
	b.WriteString(xmlHeader)
	if reply == "" {
		b.WriteString("<Response/>")
	} else {
		b.WriteString("<Response><Message>")
		if err := xml.EscapeText(&b, []byte(reply)); err != nil {
			return err
		}
		b.WriteString("</Message></Response>")
	}
	_, err := io.WriteString(w, b.String())
	return err
}
