package bpfprobes

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"

	"github.com/netirq/netirq_exporter/internal/kernel/sysfs"
)

// In tracepoint mode the programs read the events' raw records at fixed
// offsets (probes.bpf.c: struct tp_softirq, struct tp_napi_poll). The
// kernel describes each record in tracefs; checkFormats refuses to attach
// when a field is not where the programs look.

// tracefsRoots are where tracefs is mounted, in the order the kernel and
// cilium/ebpf look.
var tracefsRoots = []string{"/sys/kernel/tracing", "/sys/kernel/debug/tracing"}

// wantFields: per tracepoint, field name → offset and size.
var wantFields = map[string]map[string][2]int{
	"softirq_raise": {"vec": {8, 4}},
	"softirq_entry": {"vec": {8, 4}},
	"softirq_exit":  {"vec": {8, 4}},
	"napi_poll":     {"napi": {8, 8}, "dev_name": {16, 4}, "work": {20, 4}, "budget": {24, 4}},
}

// formatField matches "field:unsigned int vec;	offset:8;	size:4;".
var formatField = regexp.MustCompile(`field:[^;]*?(\w+)(?:\[\d*\])?;\s*offset:(\d+);\s*size:(\d+);`)

// tracefsRoot returns the mounted tracefs, found by its events directory.
func tracefsRoot() (string, error) {
	for _, root := range tracefsRoots {
		if _, err := os.Stat(filepath.Join(root, "events")); err == nil {
			return root, nil
		}
	}
	return "", &Error{Reason: ReasonNoTracefs, Mode: ModeTracepoint, Err: errors.New("tracefs not found")}
}

// checkFormats compares each tracepoint's format with wantFields.
func checkFormats(rename map[string]string) error {
	root, err := tracefsRoot()
	if err != nil {
		return err
	}
	for _, pr := range theProbes {
		path := filepath.Join(root, "events", pr.group, renamed(rename, pr.name), "format")
		text, _, err := sysfs.ReadSmallFile(path)
		if err != nil {
			return fmt.Errorf("tracepoint %s:%s: %w", pr.group, pr.name, err)
		}
		if err := checkFormat(text, wantFields[pr.name]); err != nil {
			return &Error{Reason: ReasonFormatMismatch, Mode: ModeTracepoint, Err: fmt.Errorf("%s: %w", path, err)}
		}
	}
	return nil
}

// checkFormat checks that format places every wanted field as wanted.
func checkFormat(format string, want map[string][2]int) error {
	got := map[string][2]int{}
	for _, m := range formatField.FindAllStringSubmatch(format, -1) {
		off, _ := strconv.Atoi(m[2])
		size, _ := strconv.Atoi(m[3])
		got[m[1]] = [2]int{off, size}
	}
	for name, w := range want {
		g, ok := got[name]
		switch {
		case !ok:
			return fmt.Errorf("no field %s", name)
		case g != w:
			return fmt.Errorf("field %s at offset %d size %d, the probes read offset %d size %d", name, g[0], g[1], w[0], w[1])
		}
	}
	return nil
}
