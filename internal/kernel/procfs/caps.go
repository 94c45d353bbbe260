package procfs

// The caps on the /proc tables read whole (kernel.ParseFile): well above
// what the largest real host prints, far below what would hurt the
// exporter's memory limit (128 MiB in deploy/). A file past its cap is
// read up to it and reported, not read on without end (a bind mount of
// /dev/zero, a runaway copy).
const (
	// InterruptsCap: a row is at most 8,192 CPUs x 11 bytes (~90 KiB);
	// 32 MiB is ~360 such rows, or 2,900 rows on a 1,024-CPU host (which
	// has ~1,000 IRQs); parsed, that many counts take ~24 MiB, so the
	// exporter stays inside the 128 MiB of deploy/ with the cap reached.
	InterruptsCap = 32 << 20
	// SoftirqsCap: 10 rows of at most 8,192 x 11-byte counts (~0.9 MiB).
	SoftirqsCap = 4 << 20
	// SoftnetCap: one row per CPU of at most 17 8-digit hex columns
	// (~150 bytes); 8,192 CPUs make ~1.2 MiB.
	SoftnetCap = 4 << 20
	// StatCap: 8,192 cpuN lines of ~100 bytes, and the intr line (one
	// count per IRQ number, skipped unread) on a host with 100,000 IRQs.
	StatCap = 8 << 20
)
