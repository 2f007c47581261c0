package twilio

// A carrier's ids and codes are kept in Herald's tables and looked up
// there. What a carrier sends that cannot be one is refused where it
// arrives, before it can reach a write it would fail, and with it every
// other row of that write.

// maxCodeLen bounds an error code: Twilio's have five digits.
const maxCodeLen = 16

// IsCode reports whether s is an error code as Twilio writes them: digits,
// at most maxCodeLen of them.
func IsCode(s string) bool {
	if s == "" || len(s) > maxCodeLen {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// maxSIDLen bounds a carrier's id for a message: Twilio's have 34
// characters, and other Twilio-compatible carriers answer with UUIDs.
const maxSIDLen = 64

// IsSID reports whether s can be a carrier's id for a message: letters,
// digits, '-' and '_', at most maxSIDLen of them. Herald keeps the id
// under a unique index and looks callbacks up by it; anything else came
// from a carrier that is broken or lying.
func IsSID(s string) bool {
	if s == "" || len(s) > maxSIDLen {
		return false
	}
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_':
		default:
			return false
		}
	}
	return true
}

// maxAddressLen bounds a text's From or To: an E.164 number has at most 16
// characters, a short code or an alphanumeric sender fewer.
const maxAddressLen = 32

// isAddress reports whether s can be where a text came from or went to: at
// most maxAddressLen printable ASCII characters. Whether it is a phone
// number is the reader's to decide.
func isAddress(s string) bool {
	if s == "" || len(s) > maxAddressLen {
		return false
	}
	for _, r := range s {
		if r < 0x20 || r > 0x7e {
			return false
		}
	}
	return true
}
