package sysfs

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/netirq/netirq_exporter/internal/testutil"
)

// FuzzReadTxQueueBQL fuzzes a TX queue directory: the contents of limit,
// inflight, stall_cnt, stall_max and tx_maxrate, and the presence (one bit
// per file, bit 5 the byte_queue_limits directory itself). Every value
// read is what strconv reads from the file, -1 exactly when the file is
// absent or bad, and a bad file is named in the error.
func FuzzReadTxQueueBQL(f *testing.F) {
	f.Add("5565\n", "0\n", "0\n", "0\n", "0\n", uint8(0xff))
	f.Add("18168\n", "3028\n", "3\n", "412\n", "1000\n", uint8(0b111111))
	f.Add("-1\n", "x", "18446744073709551615\n", " 7 ", "", uint8(0b100001))
	f.Add("1\n", "2\n", "3\n", "4\n", "5\n", uint8(0b010000))
	root := f.TempDir()
	f.Fuzz(func(t *testing.T, limit, inflight, stallCnt, stallMax, maxRate string, present uint8) {
		qdir := filepath.Join(root, "tx-0")
		bql := filepath.Join(qdir, "byte_queue_limits")
		if err := os.RemoveAll(qdir); err != nil {
			t.Fatal(err)
		}
		dirs := qdir
		if present&(1<<5) != 0 {
			dirs = bql
		}
		if err := os.MkdirAll(dirs, 0o755); err != nil {
			t.Fatal(err)
		}
		files := []struct {
			dir, name, content string
			get                func(TxQueueBQL) int64
		}{
			{bql, "limit", limit, func(q TxQueueBQL) int64 { return q.Limit }},
			{bql, "inflight", inflight, func(q TxQueueBQL) int64 { return q.Inflight }},
			{bql, "stall_cnt", stallCnt, func(q TxQueueBQL) int64 { return q.StallCount }},
			{bql, "stall_max", stallMax, func(q TxQueueBQL) int64 { return q.StallMaxJiffies }},
			{qdir, "tx_maxrate", maxRate, func(q TxQueueBQL) int64 { return q.MaxRateMbps }},
		}
		has := func(i int) bool {
			return present&(1<<uint(i)) != 0 && (files[i].dir == qdir || present&(1<<5) != 0)
		}
		for i, fl := range files {
			if has(i) {
				testutil.FuzzFile(t, fl.dir, fl.name, true, fl.content)
			}
		}
		q, err := ReadTxQueueBQL(qdir, "eth0", 0, BQLAll)
		testutil.CheckErrLen(t, err)
		if q.HasBQL != (present&(1<<5) != 0) {
			t.Fatalf("HasBQL %v with the directory present=%v", q.HasBQL, present&(1<<5) != 0)
		}
		for i, fl := range files {
			got := fl.get(q)
			if !has(i) {
				if got != -1 {
					t.Fatalf("%s absent but read as %d", fl.name, got)
				}
				continue
			}
			want, perr := strconv.ParseInt(strings.TrimSpace(strings.TrimRight(fl.content, "\n")), 10, 64)
			if perr != nil || want < 0 {
				if got != -1 || !testutil.ErrMentions(err, fl.name) {
					t.Fatalf("%s holds %q: read as %d, error %v", fl.name, fl.content, got, err)
				}
				continue
			}
			if got != want {
				t.Fatalf("%s holds %q: read as %d, want %d", fl.name, fl.content, got, want)
			}
		}
	})
}
