// Package diagnosis holds the misconfiguration checks: pure functions of a
// snapshot that return Findings with a fix command each.
package diagnosis
