//go:build !(netbsd && (amd64 || arm64))

package netbsd

import (
	"errors"
	"runtime"
)

// ErrNotNetBSD is what the reads return where this package has no reader:
// on other systems, and on NetBSD ports whose layout (32-bit) the
// decoders do not know.
var ErrNotNetBSD = errors.New("kern.intr.list and kern.evcnt are NetBSD's (amd64, arm64): not on " + runtime.GOOS + "/" + runtime.GOARCH)

// ReadIntrList fails with ErrNotNetBSD.
func ReadIntrList() (*IntrList, error) { return nil, ErrNotNetBSD }

// ReadEvcnts fails with ErrNotNetBSD.
func ReadEvcnts() ([]Evcnt, error) { return nil, ErrNotNetBSD }

// Children fails with ErrNotNetBSD.
func Children(string) ([]string, error) { return nil, ErrNotNetBSD }

// Interfaces fails with ErrNotNetBSD.
func Interfaces() ([]string, error) { return nil, ErrNotNetBSD }
