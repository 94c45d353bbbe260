package main

import (
	"runtime/debug"

	"github.com/prometheus/common/version"
)

// stampVersion fills prometheus/common/version's variables that `make
// build` sets with -ldflags and a plain `go build` leaves empty, from the
// build information Go writes into every binary: the module version (a
// pseudo-version such as v0.0.0-20261206135416-785cb1fa97f8, "+dirty" for
// a modified tree) and, when built in a git checkout, vcs.revision,
// vcs.modified and vcs.time (the commit's time, as the build date). What
// -ldflags set wins. `go run` stamps no VCS information: the version is
// then "devel" and the revision "unknown".
func stampVersion() {
	if info, ok := debug.ReadBuildInfo(); ok {
		stampVersionFrom(info)
	}
}

func stampVersionFrom(info *debug.BuildInfo) {
	settings := map[string]string{}
	for _, s := range info.Settings {
		settings[s.Key] = s.Value
	}
	if version.Version == "" {
		version.Version = "devel"
		if v := info.Main.Version; v != "" && v != "(devel)" {
			version.Version = v
		}
	}
	if version.Revision == "" {
		if rev := settings["vcs.revision"]; rev != "" {
			if settings["vcs.modified"] == "true" {
				rev += "-modified"
			}
			version.Revision = rev
		}
	}
	if version.BuildDate == "" {
		version.BuildDate = settings["vcs.time"]
	}
}
