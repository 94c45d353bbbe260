//go:build netbsd

package collector

// The NetBSD collectors exist only where they can read something; see
// platform.go.
func init() {
	register(intrctlFactory)
	register(evcntFactory)
}
