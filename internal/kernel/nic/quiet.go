//go:build linux

package nic

import (
	"fmt"
	"time"

	"github.com/netirq/netirq_exporter/internal/kernel/genl"
)

// The Reader's handling of "not supported here" and "needs a capability"
// (internal/kernel/genl's error kinds): skipped, with a rate-limited debug
// line.

// quiet turns "unsupported" and "needs a capability" into nil (with a rate
// limited debug log) and keeps every other error, prefixed with what.
func (r *Reader) quiet(what string, err error) error {
	switch {
	case err == nil:
		return nil
	case genl.IsPermission(err):
		r.debug(what+": skipped, needs a capability", err)
		return nil
	case genl.IsUnsupported(err):
		r.debug(what+": not supported here, skipped", err)
		return nil
	}
	return fmt.Errorf("%s: %w", what, err)
}

// debug logs msg at debug level through the Reader's logger, at most once
// per genl.FamilyRetry for the same message, so a host without support does not
// log on every scrape.
func (r *Reader) debug(msg string, err error) {
	now := time.Now()
	if last, ok := r.debugSeen.Load(msg); ok && now.Sub(last.(time.Time)) < genl.FamilyRetry {
		return
	}
	r.debugSeen.Store(msg, now)
	r.logger.Debug(msg, "err", err)
}
