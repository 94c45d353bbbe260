package kernel

import "strconv"

// Describe stands for text read from a file in an error message: its
// length and the class of its first byte ("9 bytes starting with a
// letter"), never the text itself.
//
// The rule: an error names the file and the line or field that is wrong,
// and does not quote what the file holds. The readers follow symlinks,
// and a tree under --path.procfs or --path.sysfs that is not the kernel's
// can link a file anywhere (a device's threaded → /etc/shadow, read as
// root): what such a file holds must reach neither a log line nor the
// report. The path and the position are enough to look at the file.
func Describe(text string) string {
	if text == "" {
		return "empty"
	}
	size := "1 byte"
	if len(text) != 1 {
		size = strconv.Itoa(len(text)) + " bytes"
	}
	return size + " starting with " + byteClass(text[0])
}

// byteClass names what kind of byte c is, without saying which.
func byteClass(c byte) string {
	switch {
	case c >= '0' && c <= '9':
		return "a digit"
	case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
		return "a letter"
	case c == ' ' || c == '\t' || c == '\n' || c == '\r':
		return "a blank"
	case c < 0x20 || c == 0x7f:
		return "a control byte"
	case c >= 0x80:
		return "a non-ASCII byte"
	}
	return "punctuation"
}
