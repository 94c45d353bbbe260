package bpfprobes

import "time"

// Sub is s minus an earlier read prev of the same CPU and vector: what
// happened in between. A counter that went backwards (the probes were
// attached again) gives s itself.
func (s Softirq) Sub(prev Softirq) Softirq {
	if s.Runs < prev.Runs || s.Waits < prev.Waits {
		return s
	}
	d := Softirq{Time: s.Time - prev.Time, Runs: s.Runs - prev.Runs, Waits: s.Waits - prev.Waits, WaitSum: s.WaitSum - prev.WaitSum}
	for i := range s.WaitBuckets {
		d.WaitBuckets[i] = s.WaitBuckets[i] - prev.WaitBuckets[i]
	}
	return d
}

// WaitQuantile is the q-quantile (0..1) of the waits, interpolated within
// a bucket as Prometheus' histogram_quantile does (the first bucket from
// 0; a quantile in the +Inf bucket is the largest finite bound). false
// when no wait was measured.
func (s Softirq) WaitQuantile(q float64) (time.Duration, bool) {
	if s.Waits == 0 {
		return 0, false
	}
	rank := q * float64(s.Waits)
	bounds := WaitBucketBounds()
	var below uint64
	for i, le := range bounds {
		n := s.WaitBuckets[i]
		if float64(below+n) >= rank && n > 0 {
			lo := 0.0
			if i > 0 {
				lo = bounds[i-1]
			}
			frac := (rank - float64(below)) / float64(n)
			return time.Duration((lo + (le-lo)*frac) * float64(time.Second)), true
		}
		below += n
	}
	return time.Duration(bounds[len(bounds)-1] * float64(time.Second)), true
}
