package segment

import (
	"unicode/utf8"

	"github.com/rivo/uniseg"
)

// Info describes a body as a carrier counts it.
type Info struct {
	Encoding Encoding `json:"encoding"`
	// Characters is the length in carrier units: GSM-7 septets (an extension
	// character counts 2) or UTF-16 code units.
	Characters int `json:"characters"`
	// Segments is what the carrier bills; 0 only for an empty body.
	Segments int `json:"segments"`
	// PerSegment is the limit that applies to this body: 160 or 153 in
	// GSM-7, 70 or 67 in UCS-2.
	PerSegment int `json:"per_segment"`
	// Remaining is how many units are left in the last segment.
	Remaining int `json:"remaining"`
}

// Count measures body as a carrier does. It is meant for hot paths (a live
// counter, every message created) and does not allocate for a GSM-7 body.
func Count(body string) Info {
	if n, ok := gsmSeptets(body); ok {
		if n <= gsmSingle {
			return Info{Encoding: GSM7, Characters: n, Segments: min(n, 1), PerSegment: gsmSingle, Remaining: gsmSingle - n}
		}
		p := packGSM(body, nil)
		return Info{Encoding: GSM7, Characters: n, Segments: p.segments, PerSegment: gsmMulti, Remaining: gsmMulti - p.fill}
	}
	n := utf16Len(body)
	if n <= ucs2Single {
		return Info{Encoding: UCS2, Characters: n, Segments: 1, PerSegment: ucs2Single, Remaining: ucs2Single - n}
	}
	p := packUCS2(body, nil)
	return Info{Encoding: UCS2, Characters: n, Segments: p.segments, PerSegment: ucs2Multi, Remaining: ucs2Multi - p.fill}
}

// packer fills segments greedily, as carriers do: what does not fit in what is
// left of the current segment opens the next one.
type packer struct {
	limit    int
	segments int
	fill     int
	// cuts, when not nil, collects the byte offset at which each segment after
	// the first begins (Split wants them; Count does not).
	cuts *[]int
}

func newPacker(limit int, cuts *[]int) packer {
	return packer{limit: limit, segments: 1, cuts: cuts}
}

// place puts an indivisible run of units, starting at byte offset off of the
// body, into the current segment or, if it does not fit there, the next one.
// units is never more than limit, so no segment is left empty.
func (p *packer) place(units, off int) {
	if p.fill+units > p.limit {
		p.segments++
		p.fill = 0
		if p.cuts != nil {
			*p.cuts = append(*p.cuts, off)
		}
	}
	p.fill += units
}

// packGSM packs a GSM-7 body into 153-septet segments. A rune is the
// indivisible unit: an extension character's escape pair never straddles two
// segments, so with one septet left it moves to the next.
func packGSM(body string, cuts *[]int) packer {
	p := newPacker(gsmMulti, cuts)
	for i := 0; i < len(body); {
		if c := body[i]; c < utf8.RuneSelf {
			p.place(int(costs[c]), i)
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(body[i:])
		p.place(septets(r), i)
		i += size
	}
	return p
}

// packUCS2 packs a UCS-2 body into 67-unit segments. A grapheme cluster is the
// indivisible unit; one longer than a whole segment (a letter under dozens of
// combining marks) is split between its code points, never inside a
// surrogate pair.
func packUCS2(body string, cuts *[]int) packer {
	p := newPacker(ucs2Multi, cuts)
	state := -1
	for off := 0; off < len(body); {
		var n int
		n, state = nextCluster(body[off:], state)
		if n == 1 { // ASCII, or a byte that is not UTF-8 and stands for U+FFFD
			p.place(1, off)
			off++
			continue
		}
		cluster := body[off : off+n]
		if u := utf16Len(cluster); u <= p.limit {
			p.place(u, off)
		} else {
			for i, r := range cluster {
				p.place(utf16Units(r), off+i)
			}
		}
		off += n
	}
	return p
}

// nextCluster returns the length in bytes of the grapheme cluster that s
// starts with, and the state to pass for the next one (see
// uniseg.FirstGraphemeClusterInString). s must start at a cluster boundary.
//
// Two ASCII characters always have a cluster boundary between them except
// CR LF, and nothing before an ASCII character can join a cluster that starts
// with it, so an ASCII character followed by one is a cluster of its own and
// the segmentation state starts afresh after it. This keeps mostly-Latin
// UCS-2 bodies off the slower general path.
func nextCluster(s string, state int) (int, int) {
	if c := s[0]; c < utf8.RuneSelf {
		if len(s) == 1 || (s[1] < utf8.RuneSelf && !(c == '\r' && s[1] == '\n')) {
			return 1, -1
		}
	}
	cluster, _, _, state := uniseg.FirstGraphemeClusterInString(s, state)
	return len(cluster), state
}
