// Package sysfs reads /sys/class/net (devices and queues) and
// /sys/devices/system (CPU and NUMA topology), with capped small-file
// readers that the /proc readers share.
package sysfs
