/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kshim: a hash table with the rhashtable API the module uses: objects
 * found by a fixed-length key inside them, chained buckets, grown when
 * three quarters full. The key is hashed a 32-bit word at a time and
 * compared a long at a time, as the kernel does for a key whose length is
 * a multiple of 4 without its own hash function; the hash function is
 * kshim's own.
 */
#ifndef _KSHIM_LINUX_RHASHTABLE_H
#define _KSHIM_LINUX_RHASHTABLE_H

#include <linux/rhashtable-types.h>

int rhashtable_init(struct rhashtable *ht,
		    const struct rhashtable_params *params);
void rhashtable_destroy(struct rhashtable *ht);

/* NULL when inserted, else the object with the same key, or an ERR_PTR. */
void *kshim_rht_insert(struct rhashtable *ht, struct rhash_head *obj);
int kshim_rht_remove(struct rhashtable *ht, struct rhash_head *obj);

/* A multiply-xorshift per 32-bit word, then a final avalanche. */
static inline u32 kshim_rht_hash(const void *key, u32 len, u32 seed)
{
	const u32 *w = key;
	u32 h = seed, i;

	for (i = 0; i < len / 4; i++) {
		h = (h ^ w[i]) * 0x9e3779b1U;
		h ^= h >> 15;
	}
	h ^= h >> 16;
	h *= 0x85ebca6bU;
	h ^= h >> 13;
	return h;
}

/* Compare a long at a time, as the kernel's memcmp() does. */
static inline bool kshim_rht_key_eq(const void *a, const void *b, u32 len)
{
	const unsigned long *x = a, *y = b;
	u32 i;

	for (i = 0; i + sizeof(long) <= len; i += sizeof(long))
		if (*x++ != *y++)
			return false;
	return !memcmp(x, y, len - i);
}

/*
 * The object whose key is @key, or NULL. Inline with constant @params,
 * as in the kernel, so the key length is known to the compiler.
 */
static inline void *rhashtable_lookup(struct rhashtable *ht, const void *key,
				      const struct rhashtable_params params)
{
	const struct rhash_head *he;
	u32 h = kshim_rht_hash(key, params.key_len, ht->seed);

	for (he = ht->buckets[h & (ht->size - 1)]; he; he = he->next) {
		const char *obj = (const char *)he - params.head_offset;

		if (kshim_rht_key_eq(obj + params.key_offset, key,
				     params.key_len))
			return (void *)obj;
	}
	return NULL;
}

static inline void *rhashtable_lookup_fast(struct rhashtable *ht,
					   const void *key,
					   const struct rhashtable_params params)
{
	return rhashtable_lookup(ht, key, params);
}

static inline void *
rhashtable_lookup_get_insert_fast(struct rhashtable *ht, struct rhash_head *obj,
				  const struct rhashtable_params params)
{
	(void)params;
	return kshim_rht_insert(ht, obj);
}

static inline int rhashtable_insert_fast(struct rhashtable *ht,
					 struct rhash_head *obj,
					 const struct rhashtable_params params)
{
	void *old = rhashtable_lookup_get_insert_fast(ht, obj, params);

	return IS_ERR(old) ? PTR_ERR(old) : old ? -EEXIST : 0;
}

static inline int rhashtable_remove_fast(struct rhashtable *ht,
					 struct rhash_head *obj,
					 const struct rhashtable_params params)
{
	(void)params;
	return kshim_rht_remove(ht, obj);
}

#endif /* _KSHIM_LINUX_RHASHTABLE_H */
