package testutil

import (
	"slices"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// The DOM helpers of the live page's tests: a parsed document, walked.

// ParseHTML parses page, failing the test when it is not HTML.
func ParseHTML(t testing.TB, page string) *html.Node {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// Walk calls fn for n and every node below it, in document order.
func Walk(n *html.Node, fn func(*html.Node)) {
	fn(n)
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		Walk(c, fn)
	}
}

// Elements are the elements below n (n included) named name ("" for all)
// for which match (nil: any) holds.
func Elements(n *html.Node, name string, match func(*html.Node) bool) []*html.Node {
	var out []*html.Node
	Walk(n, func(c *html.Node) {
		if c.Type == html.ElementNode && (name == "" || c.Data == name) && (match == nil || match(c)) {
			out = append(out, c)
		}
	})
	return out
}

// Attr is n's attribute key.
func Attr(n *html.Node, key string) (string, bool) {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val, true
		}
	}
	return "", false
}

// HasClass reports whether n's class list holds class.
func HasClass(n *html.Node, class string) bool {
	v, _ := Attr(n, "class")
	return slices.Contains(strings.Fields(v), class)
}

// Text is the text content of n.
func Text(n *html.Node) string {
	var b strings.Builder
	Walk(n, func(c *html.Node) {
		if c.Type == html.TextNode {
			b.WriteString(c.Data)
		}
	})
	return b.String()
}
