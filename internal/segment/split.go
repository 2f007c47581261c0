package segment

// Split returns the texts of body's segments, as a carrier would send them.
// Concatenated they equal body exactly, and there are as many as
// Count(body).Segments: none for an empty body.
func Split(body string) []string {
	if body == "" {
		return nil
	}
	var cuts []int
	if n, ok := gsmSeptets(body); ok {
		if n <= gsmSingle {
			return []string{body}
		}
		packGSM(body, &cuts)
	} else {
		if utf16Len(body) <= ucs2Single {
			return []string{body}
		}
		packUCS2(body, &cuts)
	}
	parts := make([]string, 0, len(cuts)+1)
	start := 0
	for _, c := range cuts {
		parts = append(parts, body[start:c])
		start = c
	}
	return append(parts, body[start:])
}
