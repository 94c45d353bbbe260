package main

import (
	"strconv"
	"strings"
)

// acceptsGzip reports whether a response to a request with this
// Accept-Encoding should be gzip'd, by the rules of RFC 9110, section
// 12.5.3: a coding is acceptable when listed with q > 0 or, unlisted, when
// "*" is; identity is acceptable unless refused ("identity;q=0", or
// "*;q=0" with no identity entry). Between two acceptable codings the
// higher q wins; on a tie gzip, whose body is ~10x smaller. No header, or
// an empty one, is identity.
func acceptsGzip(header string) bool {
	gzipQ, identityQ, anyQ := -1.0, -1.0, -1.0 // -1: not listed
	for member := range strings.SplitSeq(header, ",") {
		coding, q, ok := parseCoding(member)
		if !ok {
			continue
		}
		switch coding {
		case "gzip", "x-gzip": // RFC 9110, 8.4.1.3: x-gzip is gzip
			gzipQ = max(gzipQ, q)
		case "identity":
			identityQ = max(identityQ, q)
		case "*":
			anyQ = max(anyQ, q)
		}
	}
	if gzipQ < 0 {
		gzipQ = max(anyQ, 0)
	}
	if identityQ < 0 {
		// Unlisted identity is acceptable but never preferred to a
		// listed coding; "*" sets its weight when given.
		identityQ = max(anyQ, 0)
	}
	return gzipQ > 0 && gzipQ >= identityQ
}

// parseCoding splits one member of Accept-Encoding, "coding[;q=weight]",
// into its lower-case coding and weight (1 when none is given); ok is
// false for an empty member or a malformed weight, which is then ignored.
func parseCoding(member string) (coding string, q float64, ok bool) {
	coding, params, _ := strings.Cut(member, ";")
	coding = strings.ToLower(strings.TrimSpace(coding))
	if coding == "" {
		return "", 0, false
	}
	q = 1
	for param := range strings.SplitSeq(params, ";") {
		name, value, _ := strings.Cut(param, "=")
		if !strings.EqualFold(strings.TrimSpace(name), "q") {
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
		if err != nil || !(v >= 0 && v <= 1) { // NaN fails both
			return "", 0, false
		}
		q = v
	}
	return coding, q, true
}
