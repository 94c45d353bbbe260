//go:build linux

package main

import (
	"fmt"
	"sort"
	"strings"
)

const loadBegin, loadEnd = "<!-- load -->", "<!-- /load -->"

// spliceLoad puts section (with its markers) in place of the one in doc,
// or before "## Reading" when doc has none, or at its end.
func spliceLoad(doc, section string) string {
	i, j := strings.Index(doc, loadBegin), strings.Index(doc, loadEnd)
	if i >= 0 && j > i {
		return doc[:i] + section + strings.TrimPrefix(doc[j+len(loadEnd):], "\n")
	}
	if k := strings.Index(doc, "## Reading\n"); k >= 0 {
		return doc[:k] + section + "\n" + doc[k:]
	}
	return doc + "\n" + section
}

func (l *loadReport) markdown(neVersion string) string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	cpus, model, kernel, goVersion := machine()
	w("%s\n## Under load\n\n", loadBegin)
	w("`go run ./cmd/netirq_benchcompare -only load` reruns this section alone and rewrites only it.\n\n")
	w("- machine: `nproc` %s, %s, kernel %s, %s\n", cpus, model, kernel, goVersion)
	w("- date: %s (%.0f min); load average %s before, %s after\n",
		l.started.UTC().Format("2006-01-02 15:04 MST"), l.finished.Sub(l.started).Minutes(), l.loadBefore, l.loadAfter)
	w("- trees: `%s` (8 CPUs, 2 NICs; its SOURCE.md) through `--path.procfs`, `--path.sysfs` (node_exporter %s\n", loadTree, neVersion)
	w("  also `--path.rootfs`), and this machine's own; both exporters with their default collectors, but for\n")
	w("  node_exporter's cpu collector on the first tree, which panics there (the tree has no\n")
	w("  /sys/devices/system/cpu/cpuN). On that tree node_exporter's collectors whose files it lacks fail fast, so\n")
	w("  it serves few series; this machine's files give both their full work\n\n")

	w("### %d concurrent gzip scrapes, %s\n\n", l.clients, l.duration)
	w("Each of %d clients scrapes in a loop (text format, gzip, the compressed body read whole) after one warm-up\n", l.clients)
	w("scrape; peak RSS is VmHWM from /proc/PID/status at the end. Target: ours ≤ node_exporter's (ratio ≤ 1).\n\n")
	w("| tree | exporter | `--web.max-requests` | scrapes ok | 503 | failed | ok / s | peak RSS MB | RSS / node_exporter's |\n")
	w("|---|---|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, r := range l.rows {
		w("| %s | %s | %s | %d | %d | %d | %.0f | %.1f | %.2f |\n", r.tree, r.exporter, r.maxRequests, r.ok, r.status503, r.failed,
			r.perSecond, float64(r.rssKB)/1024, r.ratio)
	}
	for _, r := range l.rows {
		if r.firstFailure != "" {
			w("\n%s on %s (--web.max-requests=%s), first failure: %s\n", r.exporter, r.tree, r.maxRequests, r.firstFailure)
		}
	}

	h := l.headers
	w("\n### %d clients, %d KiB of unfinished headers each\n\n", h.clients, h.bytes>>10)
	w("netirq_exporter (default flags); each client sends a request line and one header of %d bytes that never\n", h.bytes)
	w("ends, all at once, and waits up to %s for an answer. Target: peak RSS < 100 MB.\n\n", h.hold)
	w("| answers | peak RSS MB before | peak RSS MB after | serves afterwards |\n|---|---:|---:|---|\n")
	w("| %s | %.1f | %.1f | %v |\n\n", answers(h.answers), float64(h.rssBefore)/1024, float64(h.rssKB)/1024, h.servesAfter)

	w("### Floor: only opening and reading the files of a scrape\n\n")
	w("The openat calls of one default scrape (strace attached after a warm-up scrape, `/proc/<pid>` as\n")
	w("`/proc/self`), replayed in one goroutine with plain open/read-to-EOF/close (getdents for directories,\n")
	w("open only for the paths the scrape found missing): the median of the rounds. The scrape: gzip over\n")
	w("loopback, the median of the scrapes, as in the side-by-side table. Goal: scrape ≤ 1.5x the floor.\n\n")
	w("| tree | files read | directories listed | missing | floor ms (rounds) | scrape ms (scrapes) | scrape / floor |\n|---|---:|---:|---:|---:|---:|---:|\n")
	for _, f := range l.floors {
		w("| %s | %d | %d | %d | %.3f (%d) | %.2f (%d) | %.2f |\n", f.tree, f.opened, f.dirs, f.missing, f.floorMs, f.rounds, f.scrapeMs, f.scrapes, f.ratio)
	}
	w("%s\n", loadEnd)
	return b.String()
}

func answers(m map[string]int) string {
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%d x %s", m[k], k))
	}
	return strings.Join(parts, ", ")
}
