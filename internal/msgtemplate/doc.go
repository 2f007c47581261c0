// Package msgtemplate is Herald's message templates: merge tags,
// compliance checks and the gallery of starting points (pure, no I/O), and
// the Service that keeps templates and their versions, runs their review,
// previews them, sends tests and hands approved versions to the message
// pipeline.
//
// # Versions and review
//
// A template is a name and a line of versions. A version's body and kind
// never change: an edit that changes either makes a new draft version. Each
// version goes draft → pending_approval (Submit, which applies the sending
// rules of Check) → approved or rejected (Decide, by the operator or, when
// the account allows self-approval, its admins). Editing a version that
// awaits review withdraws it to draft first, so a reviewer always judges
// what would be sent. The approved version is the one sent (Sendable) until
// a newer one is approved. Deleting archives: past messages keep their
// reference, and nothing more is sent from it. Every review step is kept.
//
// A template body is parsed once into a Compiled form (Parse), which is
// immutable and safe to render from many goroutines at once. Rendering
// happens when a message row is created, so it is on the hot path of a bulk
// send and is kept allocation-light: one allocation, for the result, when
// every value is present.
//
// # Merge tag syntax
//
//	{{first_name}}                       a known tag
//	{{ first_name }}                     spaces, tabs and newlines inside the braces are ignored
//	{{first_name | default: "there"}}    fallback used when the value is missing or blank
//	{{contact.attributes.city}}          a contact attribute; dots descend into nested objects
//	{{event.data.order.items.0.sku}}     event data; a numeric segment indexes into an array
//
// Known tags: first_name, last_name, reward_amount, referral_link,
// program_name, points, tier, brand, contact.attributes.<path> and
// event.data.<path>. A path segment is letters, digits, '_' and '-'. Tag names
// are case-sensitive; attribute and event keys keep their case.
//
// The fallback is a double-quoted string in which \" and \\ are the only
// escapes. An empty fallback ("") is allowed and means "render nothing".
//
// There is no way to write a literal "{{" or "}}": a stray "}}" outside a tag
// is reported as malformed because it is far more often a mistyped tag
// ("{first_name}}") than intended text.
//
// # Errors
//
// Parse reports every problem it finds (up to 50) as a
// *ParseError holding *TagError values, each with a stable code
// (unknown_merge_tag, malformed_merge_tag), a message for people, and the
// byte offset and rune position of the tag's first brace so an editor can
// point at it. Render reports values that are missing and have no fallback as
// a *MissingValueError naming every such tag.
package msgtemplate
