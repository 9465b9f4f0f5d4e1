/* SPDX-License-Identifier: GPL-2.0 */
/* kshim: the resizable hash table's types (linux/rhashtable.h). */
#ifndef _KSHIM_LINUX_RHASHTABLE_TYPES_H
#define _KSHIM_LINUX_RHASHTABLE_TYPES_H

#include "../kshim.h"

struct rhash_head {
	struct rhash_head *next;
};

struct rhashtable_compare_arg;
typedef u32 (*rht_hashfn_t)(const void *data, u32 len, u32 seed);
typedef u32 (*rht_obj_hashfn_t)(const void *data, u32 len, u32 seed);
typedef int (*rht_obj_cmpfn_t)(struct rhashtable_compare_arg *arg,
			       const void *obj);

struct rhashtable_params {
	u16 nelem_hint;
	u16 key_len;
	u16 key_offset;
	u16 head_offset;
	unsigned int max_size;
	u16 min_size;
	bool automatic_shrinking;
	rht_hashfn_t hashfn;
	rht_obj_hashfn_t obj_hashfn;
	rht_obj_cmpfn_t obj_cmpfn;
};

struct rhashtable {
	struct rhash_head **buckets;
	unsigned int size;		/* a power of 2 */
	unsigned int nelems;
	u32 seed;
	struct rhashtable_params p;
};

#endif /* _KSHIM_LINUX_RHASHTABLE_TYPES_H */
