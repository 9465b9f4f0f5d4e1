/* SPDX-License-Identifier: GPL-2.0 */
/* kshim: hash_ptr(), a multiply and a shift as the kernel's hash_64(). */
#ifndef _KSHIM_LINUX_HASH_H
#define _KSHIM_LINUX_HASH_H

#include "../kshim.h"

static inline u32 hash_ptr(const void *ptr, unsigned int bits)
{
	return (u32)(((u64)(uintptr_t)ptr * 0x61c8864680b583ebULL) >>
		     (64 - bits));
}

#endif /* _KSHIM_LINUX_HASH_H */
