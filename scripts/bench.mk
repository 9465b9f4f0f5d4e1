# SPDX-License-Identifier: GPL-2.0
# Benchmarks (included by the top-level Makefile). Results and the plot go
# to $(BUILD)/bench/ (quick: $(BUILD)/bench/quick/); see
# Documentation/benchmarks.md.
#   make bench          all scenarios, < 25 min
#   make bench-quick    P1/P1b with small memory, P2, P4: < 3 min
#   make bench-qemu     only PQ, the real-QEMU migrations of every client
#                       (QEMU 7.2 and 10, Proxmox, KubeVirt): ~15 min
bench:
	@scripts/bench.sh full

bench-quick:
	@scripts/bench.sh quick

bench-qemu:
	@scripts/bench.sh full qemu

.PHONY: bench bench-quick bench-qemu
