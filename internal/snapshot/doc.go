// Package snapshot is the typed model of one read of the host (Snapshot)
// and the Source that reads it: the parts in one table (parts.go), read
// concurrently, shared by overlapping scrapes.
package snapshot
