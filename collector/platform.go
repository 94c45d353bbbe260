package collector

import (
	"fmt"
	"log/slog"
	"runtime"
	"sort"
	"strings"

	"github.com/netirq/netirq_exporter/internal/snapshot"
	"github.com/prometheus/client_golang/prometheus"
)

// Most collectors read Linux's /proc, /sys and netlink; intrctl and evcnt
// read NetBSD's sysctls. On Linux only the Linux collectors are
// registered, so nothing there changes; on NetBSD all are (a command line
// written for Linux still parses), but only NetBSD's are on by default, and
// a Linux one enabled there reads nothing and reports collector_success 0
// with "not on netbsd".

// collectorOS names the system of the collectors that are not Linux's.
var collectorOS = map[string]string{"intrctl": "netbsd", "evcnt": "netbsd"}

// hostOS is the system the exporter runs on; tests set it.
var hostOS = runtime.GOOS

// osOf is the system whose files the collector name reads.
func osOf(name string) string {
	if os, ok := collectorOS[name]; ok {
		return os
	}
	return "linux"
}

// runsHere reports whether the collector name can read anything here.
func runsHere(name string) bool { return osOf(name) == hostOS }

// defaultOn is whether a collector is on when no flag says.
func defaultOn(f factory) bool { return f.defaultEnabled && runsHere(f.name) }

// partsHere are the parts the collector name reads here: none when it
// cannot run here.
func partsHere(f factory) snapshot.Part {
	if !runsHere(f.name) {
		return 0
	}
	return f.parts
}

// buildHere builds the collector name, or one that fails with "not on
// <os>" when it cannot run here.
func buildHere(name string, cfg *Config) Collector {
	if !runsHere(name) {
		return notHere{name: name}
	}
	return factories[name].build(cfg)
}

// notHere is an enabled collector of another system.
type notHere struct{ name string }

func (c notHere) Update(*snapshot.Snapshot, chan<- prometheus.Metric) error {
	return fmt.Errorf("the %s collector reads %s's kernel interfaces: not on %s", c.name, osName(osOf(c.name)), hostOS)
}

func osName(os string) string {
	if os == "netbsd" {
		return "NetBSD"
	}
	return "Linux"
}

// logOtherSystems says, once at start on a system other than Linux, which
// collectors are off because they read another system's files.
func logOtherSystems(logger *slog.Logger) {
	if hostOS == "linux" {
		return
	}
	var off []string
	for name, f := range factories {
		if f.defaultEnabled && !runsHere(name) {
			off = append(off, name)
		}
	}
	sort.Strings(off)
	logger.Info("collectors that read Linux's /proc, /sys and netlink are off by default on "+hostOS+
		"; enabled, they report netirq_scrape_collector_success 0", "os", hostOS, "off", strings.Join(off, ","))
}

// ReadsFiles reports whether a collector cfg enables reads files below
// --path.procfs and --path.sysfs here (a Linux one, on Linux): only then
// must those be directories. NetBSD has no /sys.
func ReadsFiles(cfg Config) bool {
	names, _, err := enabled(cfg)
	if err != nil {
		return true // NewExporter says what is wrong
	}
	for _, n := range names {
		if runsHere(n) && osOf(n) == "linux" {
			return true
		}
	}
	return false
}
