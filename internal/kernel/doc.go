// Package kernel holds what the kernel readers share: IRQKind, the
// partial-read error (Problems), capped error text (Clip), ParseFile and
// InChunks. It and the packages below it import no Prometheus code.
package kernel
