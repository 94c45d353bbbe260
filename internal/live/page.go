package live

import (
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"html/template"
	"io"
	"strings"
	"time"

	"github.com/netirq/netirq_exporter/internal/report"
)

var (
	//go:embed page.html
	pageHTML string
	//go:embed page.css
	pageCSS string

	pageTemplate = template.Must(template.New("page").Funcs(template.FuncMap{
		"rate": report.FormatRate, "pct": report.FormatPercent, "frac": fmtFraction, "dash": report.Dash, "queueSet": queueSet,
		"join": strings.Join,
		"add":  func(a, b int) int { return a + b },
		"sub":  func(a, b int) int { return a - b },
	}).Parse(pageHTML))
)

// CSP is the Content-Security-Policy the page needs: nothing but its own
// inline style sheet (by hash) and the empty data: icon. No script, no
// request to any host, this one included.
func CSP() string {
	sum := sha256.Sum256([]byte(pageCSS))
	return "default-src 'none'; style-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) +
		"'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
}

// pageData is what page.html renders.
type pageData struct {
	R        report.Report
	CSS      template.CSS // the style sheet, hashed in CSP
	Host     string
	Time     string
	Refresh  int
	JSONHref string
	Hot      map[int]bool
	Heat     *heatMap
	Flow     *flowMap
}

func renderPage(w io.Writer, v *View) error {
	hot := map[int]bool{}
	for _, h := range v.Report.Diagnosis {
		hot[h.CPU] = true
	}
	queues, omitted := drawnQueues(v.Report)
	heat := buildHeatMap(v.Report, v.IRQRates, hot)
	d := pageData{R: v.Report, CSS: template.CSS(pageCSS), Host: v.Report.Host,
		Time: v.Report.Time.UTC().Format(time.DateTime), Refresh: v.refresh, JSONHref: v.jsonHref, Hot: hot,
		Heat: heat, Flow: buildFlowMap(queues, omitted, v.IRQRates, hot, heat.LabelW)}
	if d.Host == "" {
		d.Host = "this host"
	}
	return pageTemplate.Execute(w, d)
}
