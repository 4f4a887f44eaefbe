package main

import (
	"fmt"
	"runtime/debug"
)

// recordedVersion is the short version written into results (the --version
// line says more): the version as the build recorded it: the module
// version ("v1.2.0", or "(devel)" for a build from a checkout) and the VCS
// revision with ", modified" when the tree had local changes. Every JSON
// object and evidence bundle carries it (docs/json.md, docs/evidence.md).
func recordedVersion() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	return versionFrom(bi)
}

func versionFrom(bi *debug.BuildInfo) string {
	v := bi.Main.Version
	if (v == "" || v == "(devel)") && version != "" {
		v = version // -ldflags -X main.version (cli.go)
	}
	if v == "" {
		v = "(devel)"
	}
	rev := revision // -ldflags -X main.revision, overridden by the build's VCS information
	modified := false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	if rev != "" {
		if len(rev) > 12 {
			rev = rev[:12]
		}
		v = fmt.Sprintf("%s rev %s", v, rev)
		if modified {
			v += ", modified"
		}
	}
	return v
}
