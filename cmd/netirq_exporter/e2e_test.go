package main

// The end-to-end helpers (e2e_*_test.go): the exporter binary, a real
// Prometheus loading the shipped rule files and a real Alertmanager, both
// configured from the example configs in deploy/, and a webhook.
// TestScenarioPages (scenarios_test.go) drives them with real traffic and
// checks the pages, the report and the dashboards; the fleet test
// (fleet_test.go) uses them too.

const (
	e2eJob = "netirq" // the example's job name, kept as shipped

	// e2eForDivisor shortens every `for:` of the test copy of the alerts.
	e2eForDivisor = 15

	e2eRunbookURLPrefix = "https://github.com/netirq/netirq_exporter/blob/main/alerts/RUNBOOK.md#"
)
