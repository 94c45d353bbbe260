package main

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// A headless Chromium (the Debian package) driven over the DevTools
// protocol: it records every request a page makes, every console error,
// exception and dialog, and every load, so that a test can assert on what
// a person's browser would do with the page.

// chromeTab is one tab and what it saw.
type chromeTab struct {
	ctx context.Context

	mu       sync.Mutex
	requests []string // every URL requested, the document's included
	errors   []string // console errors, exceptions, browser log errors
	warnings []string
	dialogs  []string // alert, confirm, prompt: a script ran
	loads    int      // load events of the page
}

// newChromeTab starts bin headless (without the sandbox as root, which
// Chromium refuses otherwise) and opens a tab; both end with the test.
func newChromeTab(ctx context.Context, t *testing.T, bin string) *chromeTab {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(bin),
		chromedp.WindowSize(1280, 900), chromedp.Flag("disable-gpu", true))
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox)
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	tctx, cancelTab := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelTab(); cancelAlloc() })
	tab := &chromeTab{ctx: tctx}
	if err := chromedp.Listen(tctx, tab.record); err != nil {
		t.Fatalf("starting %s: %v", bin, err)
	}
	return tab
}

// record runs on the tab's event loop: it only notes (and answers a
// dialog from another goroutine, since it may not send commands itself).
func (c *chromeTab) record(ev any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch e := ev.(type) {
	case *network.EventRequestWillBeSent:
		c.requests = append(c.requests, e.Request.URL)
	case *runtime.EventConsoleAPICalled:
		var text string
		for _, a := range e.Args {
			text += fmt.Sprintf(" %s%s", a.Value, a.Description)
		}
		switch e.Type {
		case runtime.ConsoleAPICalledTypeError, runtime.ConsoleAPICalledTypeAssert:
			c.errors = append(c.errors, "console."+string(e.Type)+":"+text)
		case runtime.ConsoleAPICalledTypeWarning:
			c.warnings = append(c.warnings, "console.warn:"+text)
		}
	case *runtime.EventExceptionThrown:
		c.errors = append(c.errors, fmt.Sprintf("exception: %s %s", e.ExceptionDetails.Text, e.ExceptionDetails.URL))
	case *log.EventEntryAdded:
		entry := fmt.Sprintf("%s %s: %s %s", e.Entry.Source, e.Entry.Level, e.Entry.Text, e.Entry.URL)
		switch e.Entry.Level {
		case log.EntryLevelError:
			c.errors = append(c.errors, entry)
		case log.EntryLevelWarning:
			c.warnings = append(c.warnings, entry)
		}
	case *page.EventJavascriptDialogOpening:
		c.dialogs = append(c.dialogs, string(e.Type)+": "+e.Message)
		go chromedp.Call(c.ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: false})
	case *page.EventLoadEventFired:
		c.loads++
	}
}

// chromeSeen is a copy of what the tab saw.
type chromeSeen struct {
	requests, errors, warnings, dialogs []string
	loads                               int
}

func (c *chromeTab) seen() chromeSeen {
	c.mu.Lock()
	defer c.mu.Unlock()
	return chromeSeen{requests: append([]string(nil), c.requests...), errors: append([]string(nil), c.errors...),
		warnings: append([]string(nil), c.warnings...), dialogs: append([]string(nil), c.dialogs...), loads: c.loads}
}

// open loads rawURL and waits for its load event.
func (c *chromeTab) open(rawURL string) error {
	return chromedp.Do(c.ctx, chromedp.Navigate(rawURL))
}

// waitLoads waits until the tab has seen n load events (the page reloading
// itself), at most timeout.
func (c *chromeTab) waitLoads(n int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if c.seen().loads >= n {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("%d load events in %s, want %d", c.seen().loads, timeout, n)
}

// dom is the document as the browser has it now (after parsing, with
// whatever a script would have changed).
func (c *chromeTab) dom() (string, error) {
	if err := chromedp.Do(c.ctx, chromedp.WaitReady("body")); err != nil {
		return "", err
	}
	return chromedp.Run(c.ctx, chromedp.OuterHTML("html"))
}

// screenshot is the whole page as a PNG.
func (c *chromeTab) screenshot() ([]byte, error) {
	return chromedp.Run(c.ctx, chromedp.FullScreenshot(100))
}

// offHost lists the requests that went anywhere but host (host:port).
func offHost(requests []string, host string) []string {
	var out []string
	for _, r := range requests {
		u, err := url.Parse(r)
		if err != nil || u.Host != host || (u.Scheme != "http" && u.Scheme != "https") {
			out = append(out, r)
		}
	}
	return out
}
