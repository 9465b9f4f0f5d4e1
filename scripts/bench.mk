# SPDX-License-Identifier: GPL-2.0
# Benchmarks (included by the top-level Makefile). Results and the plot go
# to $(BUILD)/bench/ (quick: $(BUILD)/bench/quick/); see
# Documentation/benchmarks.md.
#   make bench          all scenarios, < 30 min
#   make bench-quick    P1/P1b with small memory, P2, P4: < 3 min
#   make bench-qemu     only PQ, the real-QEMU migrations of every client
#                       (QEMU 7.2 and 10, Proxmox, KubeVirt): ~15 min, plus
#                       QEMU 7.2 on a bridge (group br)
#   make bench-hook     only P2c, the hook's instructions per packet
#                       (callgrind, on this machine, no VM): seconds
bench:
	@scripts/bench.sh full

bench-quick:
	@scripts/bench.sh quick

bench-qemu:
	@scripts/bench.sh full qemu

bench-hook:
	@BUILD=$(ABS_BUILD) scripts/bench-hook.sh

.PHONY: bench bench-quick bench-qemu bench-hook
