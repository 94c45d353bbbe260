//go:build linux

package netlab

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// AddIFB creates a 4-queue ifb in the lab's receiver namespace, up, and
// redirects everything arriving on the receiver veth to it (ingress u32
// match-all + mirred), so that its per-queue ethtool -S counters see the
// flood. Deleted at cleanup (before the lab is).
func (lab *Lab) AddIFB(t *testing.T) string {
	t.Helper()
	ifb := lab.Name() + "-i"
	ns := lab.ReceiverNS()
	run := func(name string, args ...string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		if out, err := exec.CommandContext(ctx, name, args...).CombinedOutput(); err != nil {
			t.Fatalf("%s %s: %v: %s", name, strings.Join(args, " "), err, out)
		}
	}
	run("ip", "-n", ns, "link", "add", ifb, "numtxqueues", "4", "numrxqueues", "4", "type", "ifb")
	t.Cleanup(func() {
		_ = exec.Command("tc", "-n", ns, "qdisc", "del", "dev", lab.RxDevice(), "ingress").Run()
		if out, err := exec.Command("ip", "-n", ns, "link", "del", ifb).CombinedOutput(); err != nil {
			t.Errorf("deleting %s: %v: %s", ifb, err, out)
		}
	})
	run("ip", "-n", ns, "link", "set", ifb, "up")
	run("tc", "-n", ns, "qdisc", "add", "dev", lab.RxDevice(), "handle", "ffff:", "ingress")
	run("tc", "-n", ns, "filter", "add", "dev", lab.RxDevice(), "parent", "ffff:", "protocol", "all",
		"u32", "match", "u32", "0", "0", "action", "mirred", "egress", "redirect", "dev", ifb)
	return ifb
}
