package main

import (
	"errors"
	"fmt"
	"path"
	"strings"
)

// validate refuses serve flags that parse but cannot work, before
// anything starts: kingpin checks types, not ranges.
func (o *serveOptions) validate() error {
	if err := checkMetricsPath(o.metricsPath); err != nil {
		return fmt.Errorf("--web.telemetry-path=%q: %w", o.metricsPath, err)
	}
	if o.maxRequests < 0 {
		return fmt.Errorf("--web.max-requests=%d: give 0 for no limit, or a positive count", o.maxRequests)
	}
	if o.timeoutOffset < 0 {
		return fmt.Errorf("--web.timeout-offset=%s: must not be negative", o.timeoutOffset)
	}
	if o.shutdownTimeout < 0 {
		return fmt.Errorf("--web.shutdown-timeout=%s: must not be negative", o.shutdownTimeout)
	}
	return nil
}

// checkMetricsPath accepts a clean absolute path of plain characters, the
// only kind that names exactly one http.ServeMux route: "" made the mux
// panic at start, "metrics" too; "/metrics/" would serve every path below
// it, and "{" or a blank make a wildcard or a method pattern.
func checkMetricsPath(p string) error {
	switch {
	case p == "":
		return errors.New("empty; give a path such as /metrics")
	case !strings.HasPrefix(p, "/"):
		return errors.New("must start with /")
	case path.Clean(p) != p:
		return fmt.Errorf("not a clean path (want %s: no trailing /, //, . or ..)", path.Clean(p))
	}
	for _, r := range p {
		if r <= ' ' || r == 0x7f || strings.ContainsRune("{}?#%\\", r) {
			return fmt.Errorf("%q is not allowed in the path", r)
		}
	}
	return nil
}
