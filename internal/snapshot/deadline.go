package snapshot

import (
	"sync"
	"time"
)

// stuckParts is the Source's record of abandoned reads: the parts whose
// read missed a deadline and has not returned yet, and how many reads of
// each were abandoned. Its lock also orders a run's finished flag, so a
// part counts as read exactly when its reader returned before the
// deadline's sweep.
type stuckParts struct {
	mu        sync.Mutex
	started   map[Part]time.Time // abandoned and still running, since when
	abandoned map[Part]uint64    // abandoned reads so far
}

// since says whether an abandoned read of p is still running.
func (st *stuckParts) since(p Part) (time.Time, bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	t, ok := st.started[p]
	return t, ok
}

// finish records that run's reader returned; an abandoned one is no
// longer stuck.
func (st *stuckParts) finish(run *partRun, d time.Duration) {
	st.mu.Lock()
	defer st.mu.Unlock()
	run.finished, run.duration = true, d
	delete(st.started, run.spec.part)
}

// abandonUnfinished says which runs finished; the ones that started and did
// not are abandoned: recorded as stuck from now until they return.
func (st *stuckParts) abandonUnfinished(runs []*partRun) []bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	finished := make([]bool, len(runs))
	for i, run := range runs {
		finished[i] = run.finished
		if run.finished || run.skipped != nil {
			continue
		}
		if st.started == nil {
			st.started, st.abandoned = map[Part]time.Time{}, map[Part]uint64{}
		}
		st.started[run.spec.part] = time.Now()
		st.abandoned[run.spec.part]++
	}
	return finished
}

// AbandonedRead is one part's count of reads given up at a deadline, and
// whether one of them is still running.
type AbandonedRead struct {
	Part      Part
	Abandoned uint64
	Stuck     bool
}

// AbandonedReads lists, for every part the Source reads, how many of its
// reads were abandoned and whether one still runs.
func (s *Source) AbandonedReads() []AbandonedRead {
	s.stuck.mu.Lock()
	defer s.stuck.mu.Unlock()
	var out []AbandonedRead
	for _, sp := range partTable {
		if s.parts&sp.part != 0 {
			_, stuck := s.stuck.started[sp.part]
			out = append(out, AbandonedRead{Part: sp.part, Abandoned: s.stuck.abandoned[sp.part], Stuck: stuck})
		}
	}
	return out
}
