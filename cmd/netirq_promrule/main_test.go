package main

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"go.yaml.in/yaml/v2"
)

var ruleFiles = []string{
	"../../alerts/netirq-thresholds.yml",
	"../../alerts/netirq-rules.yml",
	"../../alerts/netirq-alerts.yml",
}

const committed = "../../deploy/kubernetes/prometheusrule.yaml"

// TestCommittedManifestUpToDate fails when deploy/kubernetes/prometheusrule.yaml
// is not what the generator makes from alerts/*.yml now.
func TestCommittedManifestUpToDate(t *testing.T) {
	want, err := Generate(DefaultOptions, ruleFiles...)
	if err != nil {
		t.Fatal(err)
	}
	have, err := os.ReadFile(committed)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(have, want) {
		hl, wl := strings.Split(string(have), "\n"), strings.Split(string(want), "\n")
		for i := 0; i < len(hl) && i < len(wl); i++ {
			if hl[i] != wl[i] {
				t.Fatalf("%s is out of date with alerts/*.yml: run make promrule\nfirst difference, line %d:\n have %q\n want %q", committed, i+1, hl[i], wl[i])
			}
		}
		t.Fatalf("%s is out of date with alerts/*.yml (%d lines, want %d): run make promrule", committed, len(hl), len(wl))
	}
}

// TestRoundTrip decodes the generated manifest and checks that its groups
// are exactly those of the rule files, in order: nothing lost in the YAML
// round trip (multi-line expressions, templates, quoting).
func TestRoundTrip(t *testing.T) {
	out, err := Generate(DefaultOptions, ruleFiles...)
	if err != nil {
		t.Fatal(err)
	}
	var pr prometheusRule
	if err := yaml.UnmarshalStrict(out, &pr); err != nil {
		t.Fatalf("generated manifest does not decode: %v", err)
	}
	var want []ruleGroup
	for _, f := range ruleFiles {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var rf ruleFile
		if err := yaml.UnmarshalStrict(b, &rf); err != nil {
			t.Fatal(err)
		}
		want = append(want, rf.Groups...)
	}
	if !reflect.DeepEqual(pr.Spec.Groups, want) {
		t.Errorf("generated groups differ from the rule files'")
	}
	if pr.APIVersion != "monitoring.coreos.com/v1" || pr.Kind != "PrometheusRule" ||
		pr.Metadata.Name != DefaultOptions.Name || pr.Metadata.Namespace != DefaultOptions.Namespace {
		t.Errorf("manifest header: %+v %+v", pr.APIVersion+" "+pr.Kind, pr.Metadata)
	}
	// The output depends on the files' contents, not on how they were named.
	abs := make([]string, len(ruleFiles))
	for i, f := range ruleFiles {
		abs[i], _ = filepath.Abs(f)
	}
	if again, err := Generate(DefaultOptions, abs...); err != nil || !bytes.Equal(again, out) {
		t.Errorf("output changes with the path the files are given by (%v)", err)
	}
}

func TestRejects(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("good.yml", "groups:\n  - name: a\n    rules:\n      - record: x:y:z\n        expr: vector(1)\n")
	for name, c := range map[string]struct {
		files []string
		want  string
	}{
		"unknown field":   {[]string{write("unknown.yml", "groups:\n  - name: b\n    evaluation_interval: 1m\n    rules:\n      - record: a:b:c\n        expr: vector(1)\n")}, "evaluation_interval"},
		"duplicate group": {[]string{good, write("dup.yml", "groups:\n  - name: a\n    rules:\n      - alert: A\n        expr: vector(1)\n")}, `group "a" is also in`},
		"record+alert":    {[]string{write("both.yml", "groups:\n  - name: c\n    rules:\n      - record: a:b:c\n        alert: A\n        expr: vector(1)\n")}, "exactly one of record and alert"},
		"neither":         {[]string{write("neither.yml", "groups:\n  - name: d\n    rules:\n      - expr: vector(1)\n")}, "exactly one of record and alert"},
		"empty file":      {[]string{write("empty.yml", "groups: []\n")}, "no rule groups"},
		"for on a record": {[]string{write("for.yml", "groups:\n  - name: e\n    rules:\n      - record: a:b:c\n        expr: vector(1)\n        for: 5m\n")}, "alerts only"},
		"no files":        {nil, "no rule files"},
	} {
		if _, err := Generate(DefaultOptions, c.files...); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got error %v, want one containing %q", name, err, c.want)
		}
	}
	if _, err := Generate(DefaultOptions, good); err != nil {
		t.Errorf("good file: %v", err)
	}
}
