// Package testutil holds the helpers the tests of several packages share:
// fake host trees, fuzz invariants, a locked log buffer, tool and root
// checks.
package testutil
