/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kshim: the part of the kernel's API that the module's packet path
 * (module/hooks.c, flows.c, classify.c) uses, written for a single-threaded
 * userspace program, so that those files build unchanged for hook_bench
 * (userspace/bench/hook_bench.c). Each header under kshim/ carries the name
 * of the kernel header the module includes; this one is the library they
 * share: types, compiler and memory-ordering macros, atomics and bitops,
 * lists, RCU, locks, per-CPU data, memory, work items and time.
 *
 * Own code, not the kernel's: semantics as the module relies on them, on
 * one CPU and without concurrency (RCU readers and locks cost nothing;
 * work items only record that they were queued and run when the program
 * says so, kshim_run_work()). Costs a benchmark should see stay: atomics
 * are real locked read-modify-write instructions, per-CPU counters plain
 * adds, as on x86-64.
 */
#ifndef _KSHIM_H
#define _KSHIM_H

#include <linux/types.h>
#include <linux/errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef __u8 u8;
typedef __u16 u16;
typedef __u32 u32;
typedef __u64 u64;
typedef __s8 s8;
typedef __s16 s16;
typedef __s32 s32;
typedef __s64 s64;

/* ---- compiler -------------------------------------------------------- */

#define __rcu
#define __percpu
#define __force
#define likely(x)	__builtin_expect(!!(x), 1)
#define unlikely(x)	__builtin_expect(!!(x), 0)
#define READ_ONCE(x)	(*(const volatile typeof(x) *)&(x))
#define WRITE_ONCE(x, v) (*(volatile typeof(x) *)&(x) = (v))

#define container_of(ptr, type, member) ({				\
	void *__mptr = (void *)(ptr);					\
	((type *)((char *)__mptr - offsetof(type, member)));		\
})
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define min(a, b) ({ typeof(a) __a = (a); typeof(b) __b = (b); __a < __b ? __a : __b; })
#define max(a, b) ({ typeof(a) __a = (a); typeof(b) __b = (b); __a > __b ? __a : __b; })
#define DIV_ROUND_UP(n, d) ({ typeof(d) __d = (d); ((n) + __d - 1) / __d; })

#define WARN_ON_ONCE(c)	({ bool __c = !!(c); if (__c) kshim_warn(__FILE__, __LINE__); __c; })
void kshim_warn(const char *file, int line);

#define MAX_ERRNO	4095
#define IS_ERR_VALUE(x)	((unsigned long)(x) >= (unsigned long)-MAX_ERRNO)

static inline void *ERR_PTR(long error)
{
	return (void *)error;
}

static inline long PTR_ERR(const void *ptr)
{
	return (long)ptr;
}

static inline bool IS_ERR(const void *ptr)
{
	return IS_ERR_VALUE(ptr);
}

/* ---- byte order (x86-64: little endian) ------------------------------- */

#define htons(x)	((__be16)__builtin_bswap16(x))
#define ntohs(x)	((u16)__builtin_bswap16((__force u16)(x)))
#define htonl(x)	((__be32)__builtin_bswap32(x))

/* ---- atomics and bitops: locked instructions, as on x86-64 ----------- */

typedef struct {
	int counter;
} atomic_t;

typedef struct {
	s64 counter;
} atomic64_t;

typedef struct {
	atomic_t refs;
} refcount_t;

#define KSHIM_RMW	__ATOMIC_SEQ_CST
#define atomic_read(v)		READ_ONCE((v)->counter)
#define atomic_set(v, i)	WRITE_ONCE((v)->counter, (i))
#define atomic_inc(v)		((void)__atomic_add_fetch(&(v)->counter, 1, KSHIM_RMW))
#define atomic_dec(v)		((void)__atomic_sub_fetch(&(v)->counter, 1, KSHIM_RMW))
#define atomic_inc_return(v)	__atomic_add_fetch(&(v)->counter, 1, KSHIM_RMW)
#define atomic64_read(v)	READ_ONCE((v)->counter)
#define atomic64_set(v, i)	WRITE_ONCE((v)->counter, (i))
#define atomic64_add(i, v)	((void)__atomic_add_fetch(&(v)->counter, (i), KSHIM_RMW))
#define atomic64_inc(v)		atomic64_add(1, v)
#define atomic64_xchg(v, i)	__atomic_exchange_n(&(v)->counter, (i), KSHIM_RMW)

/* barriers: one thread here, fences for the form's sake */
#define smp_rmb()		__atomic_thread_fence(__ATOMIC_ACQUIRE)
/* as smp_rmb() */
#define smp_mb__before_atomic()	__atomic_thread_fence(__ATOMIC_SEQ_CST)

#define cmpxchg(ptr, old, new) ({					\
	typeof(ptr) __ptr = (ptr);					\
	typeof(*__ptr) __old = (old);					\
	__atomic_compare_exchange_n(__ptr, &__old, (new), false,	\
				    KSHIM_RMW, KSHIM_RMW);		\
	__old;								\
})

#define BITS_PER_LONG	64
#define BIT(n)		(1UL << (n))

static inline void set_bit(long nr, unsigned long *addr)
{
	__atomic_fetch_or(addr, BIT(nr), KSHIM_RMW);
}

static inline void clear_bit(long nr, unsigned long *addr)
{
	__atomic_fetch_and(addr, ~BIT(nr), KSHIM_RMW);
}

static inline bool test_and_set_bit(long nr, unsigned long *addr)
{
	return __atomic_fetch_or(addr, BIT(nr), KSHIM_RMW) & BIT(nr);
}

static inline void __set_bit(long nr, unsigned long *addr)
{
	*addr |= BIT(nr);
}

static inline bool test_bit(long nr, const unsigned long *addr)
{
	return READ_ONCE(*addr) & BIT(nr);
}

/* ---- lists ------------------------------------------------------------ */

struct list_head {
	struct list_head *next, *prev;
};

#define LIST_HEAD_INIT(name)	{ &(name), &(name) }
#define LIST_HEAD(name)		struct list_head name = LIST_HEAD_INIT(name)

static inline void INIT_LIST_HEAD(struct list_head *l)
{
	l->next = l;
	l->prev = l;
}

static inline void __list_add(struct list_head *n, struct list_head *prev,
			      struct list_head *next)
{
	next->prev = n;
	n->next = next;
	n->prev = prev;
	WRITE_ONCE(prev->next, n);
}

static inline void list_add_tail(struct list_head *n, struct list_head *head)
{
	__list_add(n, head->prev, head);
}

static inline void list_del(struct list_head *e)
{
	e->next->prev = e->prev;
	WRITE_ONCE(e->prev->next, e->next);
}

static inline bool list_empty(const struct list_head *head)
{
	return READ_ONCE(head->next) == head;
}

static inline void list_splice_init(struct list_head *list,
				    struct list_head *head)
{
	if (list_empty(list))
		return;
	list->next->prev = head;
	list->prev->next = head->next;
	head->next->prev = list->prev;
	head->next = list->next;
	INIT_LIST_HEAD(list);
}

static inline void list_splice_tail(struct list_head *list,
				    struct list_head *head)
{
	if (list_empty(list))
		return;
	list->next->prev = head->prev;
	head->prev->next = list->next;
	list->prev->next = head;
	head->prev = list->prev;
}

static inline void list_move_tail(struct list_head *e, struct list_head *head)
{
	list_del(e);
	list_add_tail(e, head);
}

#define list_add_tail_rcu	list_add_tail
#define list_del_rcu		list_del
#define list_entry(ptr, type, member)	container_of(ptr, type, member)
#define list_first_entry(ptr, type, member) list_entry((ptr)->next, type, member)
#define list_next_entry(pos, member) \
	list_entry((pos)->member.next, typeof(*(pos)), member)
#define list_for_each_entry(pos, head, member)				\
	for (pos = list_first_entry(head, typeof(*pos), member);	\
	     &pos->member != (head); pos = list_next_entry(pos, member))
#define list_for_each_entry_safe(pos, n, head, member)			\
	for (pos = list_first_entry(head, typeof(*pos), member),	\
	     n = list_next_entry(pos, member);				\
	     &pos->member != (head);					\
	     pos = n, n = list_next_entry(n, member))
#define list_for_each_entry_rcu(pos, head, member, ...) \
	list_for_each_entry(pos, head, member)
#define list_next_or_null_rcu(head, ptr, type, member) ({		\
	struct list_head *__n = READ_ONCE((ptr)->next);			\
	__n != (head) ? list_entry(__n, type, member) : NULL;		\
})

/* ---- RCU and locks: one thread, no readers to wait for ----------------- */

struct rcu_head {
	void *next;
	void (*func)(struct rcu_head *head);
};

#define rcu_read_lock()		do { } while (0)
#define rcu_read_unlock()	do { } while (0)
#define synchronize_rcu()	do { } while (0)
#define rcu_dereference(p)	READ_ONCE(p)
#define rcu_dereference_check(p, c)	READ_ONCE(p)
#define rcu_dereference_protected(p, c)	(p)
#define rcu_assign_pointer(p, v) __atomic_store_n(&(p), (v), __ATOMIC_RELEASE)
#define RCU_INIT_POINTER(p, v)	WRITE_ONCE(p, v)
#define rcu_access_pointer(p)	READ_ONCE(p)

typedef struct {
	int locked;
} spinlock_t;

struct mutex {
	int locked;
};

#define spin_lock_init(l)	((l)->locked = 0)
#define spin_lock_bh(l)		((l)->locked++)
#define spin_unlock_bh(l)	((l)->locked--)
#define mutex_init(m)		((m)->locked = 0)
#define lockdep_is_held(l)	((l)->locked)
#define lockdep_assert_held(l)	do { } while (0)

/* ---- per-CPU data and its counters: one CPU --------------------------- */

#define alloc_percpu(tp)	calloc(1, sizeof(tp))
#define free_percpu(p)		free(p)
#define get_cpu_ptr(p)		(p)
#define put_cpu_ptr(p)		do { } while (0)

/* 64-bit: no sequence counter, plain adds (local64_t on x86-64) */
typedef struct {
	u64 v;
} u64_stats_t;

struct u64_stats_sync {
	char none;
};

#define u64_stats_init(s)	do { } while (0)
#define u64_stats_add(p, n)	((p)->v += (n))
#define u64_stats_update_begin_irqsave(s)	({ (void)(s); 0UL; })
#define u64_stats_update_end_irqrestore(s, f)	((void)(s), (void)(f))

/* ---- memory ----------------------------------------------------------- */

typedef unsigned int gfp_t;
#define GFP_KERNEL	0x1U
#define GFP_ATOMIC	0x2U
#define __GFP_NOWARN	0x4U

/* A program may make allocations fail (0: never, 1: the next one...). */
extern unsigned long kshim_fail_alloc;

static inline void *kzalloc(size_t size, gfp_t gfp)
{
	(void)gfp;
	if (kshim_fail_alloc && !--kshim_fail_alloc)
		return NULL;
	return calloc(1, size);
}

#define kvzalloc(size, gfp)	kzalloc(size, gfp)

/* A slab cache: only its object size. */
struct kmem_cache {
	size_t size;
};

static inline struct kmem_cache *kmem_cache_create_size(size_t size)
{
	struct kmem_cache *c = calloc(1, sizeof(*c));

	if (c)
		c->size = size;
	return c;
}

#define KMEM_CACHE(s, flags)	kmem_cache_create_size(sizeof(struct s))
#define kmem_cache_zalloc(c, gfp)	kzalloc((c)->size, gfp)
#define kmem_cache_free(c, p)	free((void *)(p))
#define kmem_cache_destroy(c)	free(c)
#define kfree(p)		free((void *)(p))
#define kvfree(p)		free((void *)(p))

static inline void sort(void *base, size_t num, size_t size,
			int (*cmp)(const void *, const void *),
			void (*swap)(void *, void *, int))
{
	(void)swap;
	qsort(base, num, size, cmp);
}

/* ---- time ------------------------------------------------------------- */

#define HZ	250
extern unsigned long jiffies;
#define time_after(a, b)	((long)((b) - (a)) < 0)

/* ---- work items: recorded when queued, run by kshim_run_work() ---------- */

struct work_struct;
typedef void (*work_func_t)(struct work_struct *work);

struct work_struct {
	work_func_t func;
	bool pending;
	struct work_struct *next_pending;
};

struct delayed_work {
	struct work_struct work;
	unsigned long delay;
};

struct workqueue_struct;
extern struct workqueue_struct *system_wq;

static inline void INIT_WORK(struct work_struct *w, work_func_t f)
{
	w->func = f;
	w->pending = false;
}

#define INIT_DELAYED_WORK(d, f)	INIT_WORK(&(d)->work, f)
#define to_delayed_work(w)	container_of(w, struct delayed_work, work)

bool queue_work(struct workqueue_struct *wq, struct work_struct *w);
bool cancel_work_sync(struct work_struct *w);
void flush_work(struct work_struct *w);

static inline bool queue_delayed_work(struct workqueue_struct *wq,
				      struct delayed_work *d,
				      unsigned long delay)
{
	d->delay = delay;
	return queue_work(wq, &d->work);
}

#define cancel_delayed_work_sync(d)	cancel_work_sync(&(d)->work)
#define mod_delayed_work(wq, d, delay)	queue_delayed_work(wq, d, delay)

/* Nothing sleeps here: the work items run when the program says. */
static inline void msleep(unsigned int ms)
{
	(void)ms;
}

/* Run the work items queued so far (delays ignored); how many ran. */
unsigned int kshim_run_work(void);

/* ---- namespaces and devices ------------------------------------------- */

#define IFNAMSIZ	16

struct net {
	unsigned int inum;
};

struct net_device {
	int ifindex;
	char name[IFNAMSIZ];
};

#endif /* _KSHIM_H */
