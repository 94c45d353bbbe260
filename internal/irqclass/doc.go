// Package irqclass classifies the lines of /proc/interrupts: which IRQ
// serves which device, queue and direction (rx, tx, combined, other).
package irqclass
