//go:build linux

package main

import (
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/prometheus/common/version"
)

// TestLandingPageLinks follows every link of the landing page: each local
// one answers 200, the one external link is the README's metric table
// (absolute, not prefixed with "/"), and no profiling link is shown since
// nothing serves /debug/pprof.
func TestLandingPageLinks(t *testing.T) {
	for _, path := range []string{"/metrics", "/custom/metrics"} {
		t.Run(path, func(t *testing.T) {
			h, err := newHandler(fixtureExporter(t, false), &serveOptions{metricsPath: path, maxRequests: 40}, quietLogger())
			if err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewServer(h)
			defer srv.Close()
			page := httpGet(t, srv.URL+"/")
			if !strings.Contains(page, version.Info()) {
				t.Errorf("landing page does not show the version %s", version.Info())
			}
			if strings.Contains(page, "debug/pprof") {
				t.Errorf("landing page shows profiling links, but nothing serves /debug/pprof")
			}
			base, _ := url.Parse(srv.URL + "/")
			hrefs := regexp.MustCompile(`href="([^"]*)"`).FindAllStringSubmatch(page, -1)
			var local, external int
			for _, m := range hrefs {
				u, err := base.Parse(m[1])
				if err != nil {
					t.Errorf("link %q: %v", m[1], err)
					continue
				}
				if u.Host != base.Host {
					external++
					if m[1] != metricReferenceURL {
						t.Errorf("external link %q, want only %q", m[1], metricReferenceURL)
					}
					continue
				}
				local++
				httpGet(t, u.String())
			}
			if local != 2 || external != 1 {
				t.Errorf("%d local and %d external links, want 2 (metrics, live view) and 1:\n%s", local, external, page)
			}
			// The external link's anchor: README.md has the section.
			readme, err := os.ReadFile("../../README.md")
			if err != nil {
				t.Fatal(err)
			}
			if !regexp.MustCompile(`(?m)^## Metrics$`).Match(readme) {
				t.Errorf("README.md has no \"## Metrics\" section for %s", metricReferenceURL)
			}
		})
	}
}
