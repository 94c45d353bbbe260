// Not Go code: this host tree is test data. A go.mod makes the tree a
// module of its own, so the go command leaves it out of the
// netirq_exporter module zip. Without it, the ':' of sysfs names like
// 0000:00:03.0 (invalid in module zip paths) would make the proxy fail to
// zip the module, and "go install ...@version" would fail for everyone.
module netirq.invalid/testdata/hosts/bigiron-8cpu
