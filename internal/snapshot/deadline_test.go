package snapshot

import (
	"context"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestStuckPartFailsAlone: a part whose reader blocks (a read stuck in the
// kernel) fails alone at the deadline, the rest of the snapshot is there;
// later snapshots skip it at once while it is stuck, without starting a
// second read; once it returns, it is read again. Under -race this also
// checks that the abandoned reader's late writes touch nothing returned.
func TestStuckPartFailsAlone(t *testing.T) {
	i := slices.IndexFunc(partTable, func(sp partSpec) bool { return sp.part == PartSoftirqs })
	saved := partTable[i].read
	release, started := make(chan struct{}), make(chan struct{}, 10)
	partTable[i].read = func(s *Source, snap *Snapshot, wait func(Part)) {
		started <- struct{}{}
		<-release
		saved(s, snap, wait)
	}
	defer func() { partTable[i].read = saved }()

	root := "../../testdata/hosts/bigiron-8cpu"
	s := NewSource(Options{ProcPath: filepath.Join(root, "proc"), SysPath: filepath.Join(root, "sys"), Parts: PartAll,
		Timeout: 5 * time.Minute})
	// The scrape's deadline, not the Source's timeout, ends the read.
	scrape, cancelScrape := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancelScrape()
	began := time.Now()
	first, firstErr := s.SnapshotBy(scrape)
	if firstErr != nil || time.Since(began) > time.Minute {
		t.Fatalf("first read: %v after %s", firstErr, time.Since(began))
	}
	if first.SoftirqsErr == nil || !strings.Contains(first.SoftirqsErr.Error(), "not read by the scrape deadline") || first.Softirqs != nil {
		t.Fatalf("stuck part: err %v, table %v", first.SoftirqsErr, first.Softirqs)
	}
	if first.Interrupts == nil || first.InterruptsErr != nil || first.CPUTime == nil {
		t.Fatalf("the other parts were not read: interrupts %v", first.InterruptsErr)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	second, err := s.SnapshotBy(ctx)
	if err != nil || second.SoftirqsErr == nil || !strings.Contains(second.SoftirqsErr.Error(), "has not returned") {
		t.Fatalf("second read: %v, softirqs err %v", err, second.SoftirqsErr)
	}
	if n := len(started); n != 1 {
		t.Errorf("the stuck part was started %d times, want once", n)
	}
	if got := s.AbandonedReads(); !slices.Contains(got, AbandonedRead{Part: PartSoftirqs, Abandoned: 1, Stuck: true}) {
		t.Errorf("abandoned reads %+v", got)
	}

	close(release)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if _, stuck := s.stuck.since(PartSoftirqs); !stuck {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the released read never finished")
		}
	}
	third := s.Snapshot()
	if third.SoftirqsErr != nil || third.Softirqs == nil {
		t.Fatalf("after the stuck read returned: %v", third.SoftirqsErr)
	}
	if got := s.AbandonedReads(); !slices.Contains(got, AbandonedRead{Part: PartSoftirqs, Abandoned: 1, Stuck: false}) {
		t.Errorf("abandoned reads after release %+v", got)
	}
}

// TestJoinerHonoursItsContext: a scrape that joins a read in flight gives
// up when its own context ends, not when the read does.
func TestJoinerHonoursItsContext(t *testing.T) {
	i := slices.IndexFunc(partTable, func(sp partSpec) bool { return sp.part == PartSoftirqs })
	saved := partTable[i].read
	release, started := make(chan struct{}), make(chan struct{})
	partTable[i].read = func(s *Source, snap *Snapshot, wait func(Part)) {
		close(started)
		<-release
	}
	defer func() { partTable[i].read = saved }()
	root := "../../testdata/hosts/bigiron-8cpu"
	s := NewSource(Options{ProcPath: filepath.Join(root, "proc"), SysPath: filepath.Join(root, "sys"), Parts: PartSoftirqs,
		Timeout: time.Minute})
	firstDone := make(chan *Snapshot)
	go func() { firstDone <- s.Snapshot() }()
	<-started
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.SnapshotBy(ctx); err == nil || !strings.Contains(err.Error(), "waiting for the snapshot read in flight") {
		t.Errorf("joiner with an ended context: %v", err)
	}
	close(release)
	if snap := <-firstDone; snap.SoftirqsErr != nil {
		t.Errorf("the first read: %v", snap.SoftirqsErr)
	}
}

// TestKeepCopiesEveryField: every field a part reader can set is copied by
// exactly one part's keep, so a new field cannot be read and then dropped
// from the snapshot.
func TestKeepCopiesEveryField(t *testing.T) {
	src := &Snapshot{}
	v := reflect.ValueOf(src).Elem()
	for f := range v.NumField() {
		field := v.Field(f)
		switch field.Kind() {
		case reflect.Pointer, reflect.Map, reflect.Slice:
			if field.Kind() == reflect.Map {
				field.Set(reflect.MakeMap(field.Type()))
			} else if field.Kind() == reflect.Slice {
				field.Set(reflect.MakeSlice(field.Type(), 1, 1))
			} else {
				field.Set(reflect.New(field.Type().Elem()))
			}
		case reflect.Interface: // the errors
			field.Set(reflect.ValueOf(context.Canceled))
		case reflect.Int64:
			field.SetInt(7)
		}
	}
	derived := map[string]bool{"Time": true, "ReadDurations": true, "DeviceRxRates": true, "RxQueueLoss": true,
		"BQLStallsBefore": true, "BQLStallsBeforeTime": true}
	owner := map[string]string{}
	for _, sp := range partTable {
		dst := &Snapshot{}
		sp.keep(dst, src)
		dv := reflect.ValueOf(dst).Elem()
		for f := range dv.NumField() {
			if !dv.Field(f).IsZero() {
				name := dv.Type().Field(f).Name
				if prev, dup := owner[name]; dup {
					t.Errorf("%s is kept by %s and %s", name, prev, sp.name)
				}
				owner[name] = sp.name
			}
		}
	}
	for f := range v.NumField() {
		if name := v.Type().Field(f).Name; !derived[name] && owner[name] == "" {
			t.Errorf("no part keeps Snapshot.%s", name)
		}
	}
}
