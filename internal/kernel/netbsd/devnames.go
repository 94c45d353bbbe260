package netbsd

// DRVLISTDEV (sys/sys/drvctlio.h rev 1.7; listdevbyname() in
// sys/kern/kern_drvctl.c rev 1.39) fills an array of char[16] device
// names, each NUL-terminated by copyoutstr(), and says how many children
// the device has, which may be more than the array holds.
const devNameLen = 16

// decodeDevNames returns the first n names of a DRVLISTDEV name array.
func decodeDevNames(b []byte, n int) []string {
	n = min(n, len(b)/devNameLen)
	out := make([]string, 0, max(n, 0))
	for i := range n {
		if name := cString(b[i*devNameLen : (i+1)*devNameLen]); name != "" {
			out = append(out, name)
		}
	}
	return out
}
