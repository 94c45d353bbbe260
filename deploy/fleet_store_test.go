package deploy

import (
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// TestFleetStoreBlock: the long-term store's block (README.md, "Remote
// write to a long-term store") is valid Prometheus configuration and
// filters exactly as the remote-write block does, which
// TestFleetRemoteWrite checks against the fleet dashboard.
func TestFleetStoreBlock(t *testing.T) {
	relabel := func(block string) any {
		var cfg struct {
			RemoteWrite []struct {
				URL                 string `json:"url"`
				WriteRelabelConfigs any    `json:"write_relabel_configs"`
			} `json:"remote_write"`
		}
		if err := yaml.Unmarshal([]byte(block), &cfg); err != nil {
			t.Fatal(err)
		}
		if len(cfg.RemoteWrite) != 1 || cfg.RemoteWrite[0].URL == "" {
			t.Fatalf("want one remote_write with a url:\n%s", block)
		}
		return cfg.RemoteWrite[0].WriteRelabelConfigs
	}
	store := readmeBlock(t, "remote-write-victoriametrics")
	if got, want := relabel(store), relabel(readmeBlock(t, "remote-write")); !reflect.DeepEqual(got, want) {
		t.Errorf("the store's write_relabel_configs differ from the remote-write block's:\n%v\nwant\n%v", got, want)
	}
	promtool := requireTool(t, "promtool", promtoolHint)
	path := filepath.Join(t.TempDir(), "prometheus.yml")
	if err := os.WriteFile(path, []byte("global:\n  external_labels: {cluster: a}\n"+store), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(promtool, "check", "config", path).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "SUCCESS") {
		t.Fatalf("promtool check config: %v\n%s", err, out)
	}
}
