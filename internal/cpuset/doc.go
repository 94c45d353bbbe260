// Package cpuset is a set of CPU numbers with the kernel's list ("0-3,8")
// and mask ("ff,00000001") formats, parsed and printed.
package cpuset
