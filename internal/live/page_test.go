package live

import (
	"crypto/sha256"
	"encoding/base64"
	"slices"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/netirq/netirq_exporter/internal/report"
	"github.com/netirq/netirq_exporter/internal/testutil"
)

func renderFunnel(t *testing.T, dev string) (report.Report, string) {
	t.Helper()
	prev, cur := funnelPair(t, dev)
	v := newView(prev, cur, Options{Refresh: DefaultRefresh, Host: "lab<1>", JSONHref: "live.json"})
	page, err := v.HTML()
	if err != nil {
		t.Fatal(err)
	}
	return v.Report, string(page)
}

// TestPageEscapesKernelStrings: a device named like a script shows as
// that text wherever it appears (headings, diagnosis, fixes, findings, the
// SVG labels) and makes no element: no script, no event handler.
func TestPageEscapesKernelStrings(t *testing.T) {
	r, page := renderFunnel(t, hostileName)
	if len(r.Diagnosis) == 0 || r.Diagnosis[0].FedBy[0].Device != hostileName {
		t.Fatalf("fixture: the diagnosis does not name the device: %+v", r.Diagnosis)
	}
	if strings.Contains(page, "<script") {
		t.Fatalf("the page holds a raw <script")
	}
	doc := testutil.ParseHTML(t, page)
	shown := 0
	testutil.Walk(doc, func(n *html.Node) {
		if n.Type != html.ElementNode {
			return
		}
		if n.Data == "script" {
			t.Errorf("a script element: %s", testutil.Text(n))
		}
		for _, a := range n.Attr {
			if strings.HasPrefix(a.Key, "on") {
				t.Errorf("<%s %s=%q>: an event handler", n.Data, a.Key, a.Val)
			}
		}
		if strings.Contains(testutil.Text(n), hostileName) && (n.Data == "h3" || n.Data == "b" || n.Data == "pre" || n.Data == "text" || n.Data == "span") {
			shown++
		}
	})
	if shown < 6 {
		t.Errorf("the device name shows as text in %d elements, want it in the heading, diagnosis, fix, finding and SVG labels", shown)
	}
	if !strings.Contains(testutil.Text(doc), "lab<1>") {
		t.Errorf("the host name is not shown as text")
	}
}

// TestPageMarksHotCPU: the diagnosed CPU is marked in the diagnosis, the
// CPU table, the heat map's column and the flow map's node, and no other
// CPU is; each device has its queue table; the two pictures are SVG.
func TestPageMarksHotCPU(t *testing.T) {
	_, page := renderFunnel(t, "veth0")
	doc := testutil.ParseHTML(t, page)
	var hotRows, hotDiag, hotNodes, hotCols []string
	queues := map[string]int{}
	svgs := 0
	testutil.Walk(doc, func(n *html.Node) {
		if n.Type != html.ElementNode {
			return
		}
		cpu, _ := testutil.Attr(n, "data-cpu")
		switch {
		case n.Data == "svg":
			svgs++
		case n.Data == "tr" && cpu != "" && testutil.HasClass(n, "hot"):
			hotRows = append(hotRows, cpu)
		case n.Data == "div" && testutil.HasClass(n, "hot-cpu"):
			hotDiag = append(hotDiag, cpu)
		case n.Data == "g" && testutil.HasClass(n, "hot"):
			hotNodes = append(hotNodes, cpu)
		case n.Data == "text" && testutil.HasClass(n, "col") && testutil.HasClass(n, "hot"):
			hotCols = append(hotCols, testutil.Text(n))
		case n.Data == "div" && testutil.HasClass(n, "device"):
			dev, _ := testutil.Attr(n, "data-device")
			testutil.Walk(n, func(c *html.Node) {
				if _, ok := testutil.Attr(c, "data-queue"); ok && c.Data == "tr" {
					queues[dev]++
				}
			})
		}
	})
	for what, got := range map[string][]string{"CPU table rows": hotRows, "diagnoses": hotDiag, "flow map nodes": hotNodes, "heat map columns": hotCols} {
		if !slices.Equal(got, []string{"1"}) {
			t.Errorf("hot %s: %v, want CPU 1 alone", what, got)
		}
	}
	if svgs != 2 {
		t.Errorf("%d svg elements, want the heat map and the flow map", svgs)
	}
	if queues["eth0"] != 4 || queues["veth0"] != 2 {
		t.Errorf("queue rows per device %v, want eth0 4 and veth0 2", queues)
	}
}

// TestPageLoadsNothing: the page refers to no URL but its JSON and an
// empty data: icon, and its style sheet is the one CSP allows by hash.
func TestPageLoadsNothing(t *testing.T) {
	_, page := renderFunnel(t, "veth0")
	doc := testutil.ParseHTML(t, page)
	testutil.Walk(doc, func(n *html.Node) {
		if n.Type != html.ElementNode {
			return
		}
		for _, a := range n.Attr {
			switch {
			case a.Key == "src", a.Key == "srcset", a.Key == "action", a.Key == "xlink:href":
				t.Errorf("<%s %s=%q>", n.Data, a.Key, a.Val)
			case a.Key == "href" && a.Val != "live.json" && a.Val != "data:,":
				t.Errorf("<%s href=%q>: a link other than the JSON and the empty icon", n.Data, a.Val)
			case a.Key == "style":
				t.Errorf("<%s style=%q>: an inline style the CSP hash does not cover", n.Data, a.Val)
			}
		}
		if n.Data == "style" {
			sum := sha256.Sum256([]byte(testutil.Text(n)))
			if want := "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"; !strings.Contains(CSP(), want) {
				t.Errorf("the style sheet's hash %s is not in the CSP %q", want, CSP())
			}
		}
	})
	if strings.Contains(strings.ReplaceAll(page, `xmlns="http://www.w3.org/2000/svg"`, ""), "//") {
		t.Errorf("the page holds a // (a URL?)")
	}
}
