# SPDX-License-Identifier: GPL-2.0
#
# Included by the top-level Makefile.
#
#   make lint          checkpatch --strict, sparse (C=2) and W=1 on both
#                      kernels, cppcheck and gcc -fanalyzer on the
#                      userspace C code (userspace/, selftests/lib/)
#                      (scripts/lint.sh; LINT_ONLY="checkpatch sparse ..."
#                      runs a subset)
#   make check-debug   the VM suite on the debug kernel (KASAN, UBSAN,
#                      lockdep, kmemleak, ...; selftests/debug/), built and
#                      cached on first use; last line "N passed, N failed,
#                      N skipped"
#   make soak          one boot of the debug kernel under churn: 300
#                      QEMU-style incoming migrations, 1,000 flow
#                      idle/resume cycles, 100 netns (selftests/debug/soak);
#                      not part of .ci/run (Documentation/testing.rst)
#   make debug-kernel  only build (or find) the cached debug kernel
#   make check-debug-proof
#                      the injected bugs of selftests/debug/inject/ (a
#                      use-after-free, an unbalanced rcu_read_lock, a leak)
#                      each make check-debug fail, the clean module passes

lint: ksrc
	@scripts/lint.sh

check-debug: deps ksrc
	@selftests/debug/check-debug

soak: deps ksrc
	@selftests/debug/soak

check-debug-proof: deps ksrc
	@selftests/debug/inject-check

debug-kernel:
	@selftests/debug/build-kernel

.PHONY: lint check-debug soak check-debug-proof debug-kernel
