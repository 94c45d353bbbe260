package kernel

// Clip shortens text for error messages so that garbage input cannot
// flood the log.
func Clip(text string) string {
	if len(text) > 64 {
		return text[:64] + "…"
	}
	return text
}
