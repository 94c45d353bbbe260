// Package report builds the one-shot report (netirq_exporter report) from
// two snapshots and writes it as text or JSON.
package report
