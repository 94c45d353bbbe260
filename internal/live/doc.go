// Package live renders the report of internal/report as a web page that
// reloads itself (the exporter's /live) and as the JSON `report --json`
// prints (/live.json), from snapshots the exporter takes anyway.
//
// Cost: the Viewer reads no file itself. It keeps the last few snapshots
// its Source read for any caller (History, fed by Source.Observe: every
// scrape's snapshot), and reads one through the Source, which shares a
// read in flight, only when the newest is older than the page's refresh
// period. One report and one rendering are made per pair of snapshots,
// whatever the number of viewers: ten open pages cost what one costs.
//
// Every string that comes from the kernel (device, driver, IRQ, thread
// names, file contents in messages) goes through html/template, in the
// HTML and in the SVG pictures alike. The page loads nothing: no script,
// no external style sheet, font or image; CSP returns the
// Content-Security-Policy that says so to the browser.
package live
