package testutil

import (
	"fmt"
	"strconv"
	"strings"
)

// EthtoolRings is what `ethtool -g DEV` prints: each ring's size under
// "Pre-set maximums" (Max) and "Current hardware settings" (Cur), keyed
// "RX", "RX Mini", "RX Jumbo", "TX"; "n/a" reads as 0.
type EthtoolRings struct {
	Max, Cur map[string]uint32
}

// ParseEthtoolG parses `ethtool -g` output, for live tests that compare
// the exporter's netlink read with the tool.
func ParseEthtoolG(out string) (EthtoolRings, error) {
	r := EthtoolRings{Max: map[string]uint32{}, Cur: map[string]uint32{}}
	var section map[string]uint32
	for _, line := range strings.Split(out, "\n") {
		line = strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, "Pre-set maximums"):
			section = r.Max
			continue
		case strings.HasPrefix(line, "Current hardware settings"):
			section = r.Cur
			continue
		}
		key, val, ok := strings.Cut(line, ":")
		if !ok || section == nil {
			continue
		}
		switch key {
		case "RX", "RX Mini", "RX Jumbo", "TX":
		default:
			continue // RX Buf Len, CQE Size, TX Push ...
		}
		val = strings.TrimSpace(val)
		if val == "n/a" {
			section[key] = 0
			continue
		}
		n, err := strconv.ParseUint(val, 10, 32)
		if err != nil {
			return r, fmt.Errorf("ethtool -g: %q: %w", line, err)
		}
		section[key] = uint32(n)
	}
	if len(r.Max) == 0 || len(r.Cur) == 0 {
		return r, fmt.Errorf("ethtool -g: no ring sizes in %q", out)
	}
	return r, nil
}
