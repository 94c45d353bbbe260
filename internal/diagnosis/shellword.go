package diagnosis

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// ShellWord quotes s for a POSIX shell so that a fix command is pasted into
// a root shell as the command it reads as. Device names come from the
// kernel, which accepts almost any byte in them (a veth can be called
// q$(id>&2)): a safe name stays as it is, a name with shell syntax is put
// in single quotes, and a name with control characters or invalid UTF-8
// (an ESC that would also drive the terminal that shows the report) is
// written in bash's $'...' form with \xHH escapes.
func ShellWord(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool { return !isSafeShellRune(r) }) < 0 {
		return s
	}
	if utf8.ValidString(s) && strings.IndexFunc(s, isControl) < 0 {
		return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
	}
	var b strings.Builder
	b.WriteString("$'")
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' || c == '\'':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20 || c >= 0x7f:
			fmt.Fprintf(&b, "\\x%02x", c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteString("'")
	return b.String()
}

// isSafeShellRune: characters that mean nothing to a shell in a word.
func isSafeShellRune(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("_.:@%+=,/-", r)
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) }
