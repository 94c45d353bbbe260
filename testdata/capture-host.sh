#!/usr/bin/env bash
# capture-host.sh DEST
#
# Copies the /proc and /sys files netirq_exporter reads into DEST/proc and
# DEST/sys, so that the exporter (--path.procfs DEST/proc --path.sysfs
# DEST/sys) and its tests see the host as it was. Attach the tarball of
# DEST to a bug report:   testdata/capture-host.sh /tmp/myhost && tar -C /tmp -czf myhost.tgz myhost
#
# Read-only on the host: it only reads below /proc and /sys and writes below
# DEST. The symlinks of /sys (class/net/<dev>, <dev>/device, .../driver) are
# recreated with their relative targets, and their targets as directories,
# so the copy has the same layout as the real tree. A file the kernel
# refuses to read (xps_cpus on a single-queue device says ENOENT) is left
# out of the copy, as the exporter treats it as absent.
#
# Environment: PROC and SYS change the source roots (default /proc, /sys),
# e.g. to copy a tree that is itself a capture.
set -euo pipefail

PROC=${PROC:-/proc}
SYS=${SYS:-/sys}

if [[ $# -ne 1 || $1 == -* ]]; then
	echo "usage: $0 DEST   (DEST must not exist or be empty)" >&2
	exit 2
fi
dest=$1
if [[ -e $dest && -n $(ls -A "$dest") ]]; then
	echo "$0: $dest exists and is not empty" >&2
	exit 1
fi
mkdir -p "$dest"
dest=$(cd "$dest" && pwd -P)
PROC=$(cd "$PROC" && pwd -P)
SYS=$(cd "$SYS" && pwd -P)
for root in "$PROC" "$SYS"; do
	case $dest/ in "$root"/*)
		echo "$0: refusing to write below $root" >&2
		exit 1
		;;
	esac
done

# copy_file SRC DST: copy one file's content if it can be read.
copy_file() {
	local src=$1 dst=$2
	[[ -f $src ]] || return 0
	mkdir -p -- "$(dirname -- "$dst")"
	if ! cat -- "$src" >"$dst" 2>/dev/null; then
		rm -f -- "$dst"
	fi
}

# copy_sys REL: copy $SYS/REL to $dest/sys/REL.
copy_sys() { copy_file "$SYS/$1" "$dest/sys/$1"; }

# mirror_link REL: recreate the symlink $SYS/REL in $dest/sys with the same
# (relative) target and create its target directory. Prints the resolved
# path of the target relative to $SYS, or nothing when REL is not a link.
mirror_link() {
	local rel=$1 target resolved
	[[ -L $SYS/$rel ]] || return 0
	resolved=$(readlink -f -- "$SYS/$rel") || return 0
	case $resolved in "$SYS"/*) ;; *) return 0 ;; esac
	target=$(readlink -- "$SYS/$rel")
	if [[ $target == /* ]]; then
		target=$(realpath -m --relative-to="$(dirname -- "$SYS/$rel")" -- "$resolved")
	fi
	mkdir -p -- "$(dirname -- "$dest/sys/$rel")" "$dest/sys/${resolved#"$SYS"/}"
	ln -sfn -- "$target" "$dest/sys/$rel"
	printf '%s\n' "${resolved#"$SYS"/}"
}

# --- /proc ---------------------------------------------------------------
for f in interrupts softirqs stat net/softnet_stat sys/net/core/rps_sock_flow_entries \
	sys/kernel/osrelease irq/default_smp_affinity pressure/irq; do
	copy_file "$PROC/$f" "$dest/proc/$f"
done
# Every numbered IRQ of /proc/interrupts.
for irq in $(awk -F: '$1 ~ /^ *[0-9]+$/ {gsub(/ /, "", $1); print $1}' "$PROC/interrupts"); do
	for f in smp_affinity smp_affinity_list effective_affinity effective_affinity_list affinity_hint node; do
		copy_file "$PROC/irq/$irq/$f" "$dest/proc/irq/$irq/$f"
	done
done

# --- /sys/class/net --------------------------------------------------------
for entry in "$SYS"/class/net/*; do
	name=${entry##*/}
	[[ -d $entry ]] || continue # bonding_masters
	if [[ -L $entry ]]; then
		devrel=$(mirror_link "class/net/$name")
	else
		devrel=class/net/$name
		mkdir -p -- "$dest/sys/$devrel"
	fi
	[[ -n $devrel ]] || continue
	copy_sys "$devrel/threaded"
	copy_sys "$devrel/statistics/rx_packets"
	copy_sys "$devrel/statistics/tx_packets"
	for q in "$SYS/$devrel"/queues/rx-*; do
		[[ -d $q ]] || continue
		copy_sys "$devrel/queues/${q##*/}/rps_cpus"
		copy_sys "$devrel/queues/${q##*/}/rps_flow_cnt"
	done
	for q in "$SYS/$devrel"/queues/tx-*; do
		[[ -d $q ]] || continue
		copy_sys "$devrel/queues/${q##*/}/xps_cpus"
		copy_sys "$devrel/queues/${q##*/}/xps_rxqs"
		copy_sys "$devrel/queues/${q##*/}/tx_maxrate"
		for b in "$q"/byte_queue_limits/*; do
			[[ -f $b ]] && copy_sys "$devrel/queues/${q##*/}/byte_queue_limits/${b##*/}"
		done
	done

	# The bus device: <dev>/device, its driver, and for a virtio device
	# the PCI parent that owns the MSI vectors.
	busrel=$(mirror_link "$devrel/device")
	[[ -n $busrel ]] || continue
	drvrel=$(mirror_link "$busrel/driver")
	if [[ -n $drvrel ]]; then
		# A back link keeps the driver directory non-empty (git drops
		# empty directories) and mirrors the real one.
		mirror_link "$drvrel/${busrel##*/}" >/dev/null
	fi
	if [[ ${busrel##*/} =~ ^virtio[0-9]+$ ]]; then
		busrel=${busrel%/*}
	fi
	copy_sys "$busrel/numa_node"
	copy_sys "$busrel/irq"
	if [[ -d $SYS/$busrel/msi_irqs ]]; then
		for m in "$SYS/$busrel"/msi_irqs/*; do
			[[ -e $m ]] || continue
			if [[ -d $m ]]; then # kernels before 3.14: msi_irqs/N/mode
				copy_sys "$busrel/msi_irqs/${m##*/}/mode"
			else
				copy_sys "$busrel/msi_irqs/${m##*/}"
			fi
		done
	fi
done

# --- /sys/devices/system ---------------------------------------------------
for f in possible online present isolated nohz_full; do
	copy_sys "devices/system/cpu/$f"
done
for n in "$SYS"/devices/system/node/node[0-9]*; do
	[[ -d $n ]] || continue
	copy_sys "devices/system/node/${n##*/}/cpulist"
done

# --- notes -----------------------------------------------------------------
# SOURCE.md says where the tree comes from; go.mod keeps a tree committed
# under testdata/hosts out of the module zip (':' is invalid in zip paths).
name=${dest##*/}
cat >"$dest/go.mod" <<END
// Not Go code: this host tree is test data. A go.mod makes the tree a
// module of its own, so the go command leaves it out of the
// netirq_exporter module zip. Without it, the ':' of sysfs names like
// 0000:00:03.0 (invalid in module zip paths) would make the proxy fail to
// zip the module, and "go install ...@version" would fail for everyone.
module netirq.invalid/testdata/hosts/$name
END
cat >"$dest/SOURCE.md" <<END
# $name

Captured from a live host by \`testdata/capture-host.sh\`.

- kernel: \`$(uname -srm)\`
- CPUs online: $(cat "$SYS/devices/system/cpu/online" 2>/dev/null || echo unknown)
- date: $(date -u +%Y-%m-%dT%H:%M:%SZ)
- command: \`capture-host.sh $1\` (PROC=$PROC SYS=$SYS)

Describe the machine here (bare metal, VM type, NIC models) and what looks
wrong before sending the tree.
END

echo "captured to $dest:" >&2
(cd "$dest" && find . -type f -o -type l | wc -l | sed 's/^/  files and links: /') >&2
