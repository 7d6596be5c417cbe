package resp

import "strings"

// Sanitize makes text from a peer safe inside one log or error line: cut to
// at most max bytes, CR and LF replaced by spaces (a newline in an error
// reply would end it early and desynchronise the stream).
func Sanitize(s string, max int) string {
	if len(s) > max {
		s = s[:max]
	}
	return strings.Map(func(r rune) rune {
		if r == '\r' || r == '\n' {
			return ' '
		}
		return r
	}, s)
}
