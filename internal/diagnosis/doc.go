// Package diagnosis holds the misconfiguration checks: pure functions of a
// snapshot that return Findings with a fix command each, run only when the
// parts they need are known (Results says of the others why not).
package diagnosis
