// Package segment measures an SMS body the way carriers bill it: which
// encoding it travels in, how many units it costs, and how many segments
// (separately billed parts) it is cut into.
//
// Herald shows this in the template editor's live counter, stores it with
// every message, and spends a sender number's throughput in segments, so the
// numbers here must agree with the carrier's invoice to the segment. The
// rules, from GSM 03.38 (3GPP TS 23.038) and the carriers' own documentation:
//
//   - A body travels in GSM-7 when every character is in the GSM 03.38 default
//     alphabet or its extension table; one character outside both sends the
//     whole body in UCS-2 (UTF-16 on the wire).
//   - GSM-7 counts septets; an extension-table character (form feed, ^ { } \
//     [ ~ ] | €) is an escape septet plus its code, so it costs 2. UCS-2 counts
//     UTF-16 code units; a character outside the Basic Multilingual Plane (most
//     emoji) is a surrogate pair and costs 2.
//   - One segment carries 160 septets or 70 code units. A longer body is
//     concatenated, and each part gives up room for its user data header:
//     153 septets or 67 code units per segment.
//   - Nothing a reader sees as one character is split between segments: not an
//     escape pair, not a surrogate pair, and in UCS-2 not a grapheme cluster
//     (a flag, an emoji with a skin tone, a ZWJ family, a letter with a
//     combining accent), unless the cluster is too long for any segment.
//     Segments are therefore packed greedily, and a body can need more than
//     ceil(units/153) or ceil(units/67) segments.
//
// Count is on the hot path (every keystroke of the editor, every message
// created) and does not allocate for a GSM-7 body. Split returns the parts as
// the carrier sends them. Analyze explains a UCS-2 body: which characters
// forced it, and which of them have GSM-7 look-alikes that would make it
// cheaper.
package segment
