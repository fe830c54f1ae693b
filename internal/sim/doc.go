// Package sim holds simulators of the systems around tillsync — POS
// registers, a web shop, network links — for the demo, tests and
// benchmarks. Each lives in its own subpackage.
package sim
