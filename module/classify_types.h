/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Types and allocation for the classifier core, so that classify.c builds
 * both in the kernel and in userspace tests.
 */
#ifndef _MIGPRIO_CLASSIFY_TYPES_H
#define _MIGPRIO_CLASSIFY_TYPES_H

#ifdef __KERNEL__
#include <linux/types.h>
#include <linux/string.h>
#include <linux/slab.h>
#include <linux/mm.h>
#include <linux/sort.h>

#define mp_zalloc(size)	kvzalloc(size, GFP_KERNEL)
#define mp_free(p)	kvfree(p)
#define mp_sort(base, num, size, cmp)	sort(base, num, size, cmp, NULL)
#else
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef int8_t s8;
typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;

/* A test may point this at an allocator that fails on purpose. */
extern void *(*mp_test_zalloc)(size_t size);

static inline void *mp_zalloc(size_t size)
{
	return mp_test_zalloc ? mp_test_zalloc(size) : calloc(1, size);
}

#define mp_free(p)	free(p)
#define mp_sort(base, num, size, cmp)	qsort(base, num, size, cmp)
#endif

#endif /* _MIGPRIO_CLASSIFY_TYPES_H */
