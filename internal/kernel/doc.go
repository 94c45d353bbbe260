// Package kernel holds what the kernel readers share: IRQKind, the
// partial-read error (Problems), Describe (how an error speaks of what a
// file holds: never by quoting it), ParseFile and InChunks. It and the
// packages below it import no Prometheus code.
package kernel
