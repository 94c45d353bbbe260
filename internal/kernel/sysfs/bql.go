package sysfs

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/netirq/netirq_exporter/internal/kernel"
)

// This file reads the byte queue limits (BQL) of each TX queue,
// /sys/class/net/<dev>/queues/tx-N/byte_queue_limits/, and the queue's
// tx_maxrate. Units are the kernel's (net/core/net-sysfs.c, checked against
// 6.18):
//
//	limit, limit_min, limit_max, inflight   bytes (%u)
//	hold_time                                milliseconds (jiffies_to_msecs)
//	stall_thrs                               milliseconds (jiffies_to_msecs); 0: detector off
//	stall_cnt                                stalls detected (%lu)
//	stall_max                                JIFFIES: dql_check_stall stores now - t
//	                                         raw and bql_show_stall_max prints it
//	                                         as is, unlike stall_thrs
//	tx_maxrate                               Mbit/s; 0: no limit
//
// What a kernel lacks is absent, not an error: the directory without
// CONFIG_BQL and, since 6.9 (commit 74293ea1c4db), on devices with
// IFF_NO_QUEUE or LLTX (lo, veth, most tunnels); stall_thrs, stall_cnt and
// stall_max before 6.9 (the stall detector, commit 6025b9135f7a).

// TxQueueBQL is one TX queue's BQL directory and tx_maxrate. A value of
// -1 means the file is absent (or, without HasBQL, the directory).
type TxQueueBQL struct {
	Device string
	Queue  int
	HasBQL bool // byte_queue_limits/ exists
	// Bytes.
	Limit, LimitMin, LimitMax, Inflight int64
	HoldTimeMS                          int64
	// The stall detector (6.9+); StallCount is a counter.
	StallThresholdMS, StallCount, StallMaxJiffies int64
	// MaxRateMbps is tx_maxrate in Mbit/s (0: unlimited).
	MaxRateMbps int64
}

// BQLFields says which files ReadTxQueueBQL reads: a 64-queue NIC has 64
// of each, so the default scrape reads only the few its metrics and checks
// use.
type BQLFields uint

const (
	BQLLimit BQLFields = 1 << iota
	BQLLimitMin
	BQLLimitMax
	BQLInflight
	BQLHoldTime
	BQLStallThreshold
	BQLStallCount
	BQLStallMax
	BQLMaxRate

	// BQLDefault is what the default scrape reads.
	BQLDefault = BQLLimit | BQLStallCount | BQLMaxRate
	// BQLAll is every file.
	BQLAll = BQLMaxRate<<1 - 1
)

// bqlFiles maps each field to its file below the queue directory and the
// value it sets.
var bqlFiles = []struct {
	field BQLFields
	name  string
	dst   func(*TxQueueBQL) *int64
}{
	{BQLLimit, "byte_queue_limits/limit", func(q *TxQueueBQL) *int64 { return &q.Limit }},
	{BQLLimitMin, "byte_queue_limits/limit_min", func(q *TxQueueBQL) *int64 { return &q.LimitMin }},
	{BQLLimitMax, "byte_queue_limits/limit_max", func(q *TxQueueBQL) *int64 { return &q.LimitMax }},
	{BQLInflight, "byte_queue_limits/inflight", func(q *TxQueueBQL) *int64 { return &q.Inflight }},
	{BQLHoldTime, "byte_queue_limits/hold_time", func(q *TxQueueBQL) *int64 { return &q.HoldTimeMS }},
	// stall_cnt before the detector's other two: a queue that stalled has
	// them read whatever was asked for (ReadTxQueueBQL).
	{BQLStallCount, "byte_queue_limits/stall_cnt", func(q *TxQueueBQL) *int64 { return &q.StallCount }},
	{BQLStallThreshold, "byte_queue_limits/stall_thrs", func(q *TxQueueBQL) *int64 { return &q.StallThresholdMS }},
	{BQLStallMax, "byte_queue_limits/stall_max", func(q *TxQueueBQL) *int64 { return &q.StallMaxJiffies }},
	{BQLMaxRate, "tx_maxrate", func(q *TxQueueBQL) *int64 { return &q.MaxRateMbps }},
}

// ReadTxQueueBQL reads the fields of one TX queue directory
// (<sysRoot>/class/net/<dev>/queues/tx-N). A file that is absent leaves
// its value -1; one that cannot be read or holds anything but a
// non-negative decimal integer too, and is named in the error. A queue
// whose stall_cnt is above 0 also has stall_thrs and stall_max read: the
// stall check quotes them, and a stalled queue is rare.
func ReadTxQueueBQL(qdir, device string, queue int, fields BQLFields) (TxQueueBQL, error) {
	q := TxQueueBQL{Device: device, Queue: queue, Limit: -1, LimitMin: -1, LimitMax: -1, Inflight: -1,
		HoldTimeMS: -1, StallThresholdMS: -1, StallCount: -1, StallMaxJiffies: -1, MaxRateMbps: -1}
	var errs []error
	for _, f := range bqlFiles {
		if fields&f.field == 0 {
			continue
		}
		v, present, err := ReadCount(filepath.Join(qdir, f.name))
		switch {
		case err != nil:
			errs = append(errs, err)
		case present:
			*f.dst(&q) = v
			q.HasBQL = q.HasBQL || strings.HasPrefix(f.name, "byte_queue_limits/")
			if f.field == BQLStallCount && v > 0 {
				fields |= BQLStallThreshold | BQLStallMax
			}
		}
	}
	if !q.HasBQL {
		q.HasBQL = dirExists(filepath.Join(qdir, "byte_queue_limits"))
	}
	return q, errors.Join(errs...)
}

// ReadBQL reads the TX queues of devices below <sysRoot>/class/net, the
// queues shared out over a few goroutines. A device or queue that vanished
// meanwhile is left out silently; a queue whose directory has neither
// byte_queue_limits nor tx_maxrate is left out too (nothing to export).
func ReadBQL(sysRoot string, devices []NetDevice, fields BQLFields) ([]TxQueueBQL, error) {
	type read struct {
		dev   string
		queue int
		q     TxQueueBQL
		err   error
	}
	var reads []read
	for _, d := range devices {
		for _, tx := range d.TxQueues {
			reads = append(reads, read{dev: d.Name, queue: tx.Index})
		}
	}
	classDir := filepath.Join(sysRoot, "class", "net")
	kernel.InChunks(len(reads), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			r := &reads[i]
			qdir := filepath.Join(classDir, r.dev, "queues", "tx-"+strconv.Itoa(r.queue))
			r.q, r.err = ReadTxQueueBQL(qdir, r.dev, r.queue, fields)
			if r.err != nil && !dirExists(qdir) {
				r.q, r.err = TxQueueBQL{}, fs.ErrNotExist // gone: a stopped container's veth
			}
		}
	})
	problems := kernel.NewProblems("byte queue limits")
	var out []TxQueueBQL
	for _, r := range reads {
		if errors.Is(r.err, fs.ErrNotExist) && r.q.Device == "" {
			continue
		}
		problems.Add(r.err)
		if r.q.HasBQL || r.q.MaxRateMbps >= 0 {
			out = append(out, r.q)
		}
	}
	return out, problems.Err()
}

// ReadCount reads a file holding one non-negative decimal integer (the
// kernel prints these with %u or %lu).
func ReadCount(path string) (int64, bool, error) {
	v, present, err := ReadInt(path)
	if err == nil && present && v < 0 {
		return 0, false, fmt.Errorf("%s: negative count %d", path, v)
	}
	return v, present, err
}

// dirExists follows links: the path goes through class/net/<dev>.
func dirExists(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.IsDir()
}
