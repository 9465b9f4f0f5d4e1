// SPDX-License-Identifier: GPL-2.0
/*
 * migprio-guest - a tiny guest for real QEMU migrations in the tests, the
 * benchmark and the demo.  A multiboot (v1) ELF, booted with
 * `qemu-system-x86_64 -M pc -kernel migprio-guest.elf -append "..."`.
 *
 * It fills FILL MiB of RAM with pseudo-random words (pages QEMU must send
 * in full: not zero, not repeated), then keeps writing one word into each
 * 4 KiB page of a HOT KiB hot set, RATE MiB of pages per second, cycling
 * through it, so that QEMU always finds up to HOT KiB dirty.  Parameters
 * come from the command line (-append), as key=value words:
 *
 *   hot=KIB     hot set size, KiB (default 2048)
 *   fill=MIB    random RAM, MiB (default 32)
 *   rate=MIBS   pages dirtied per second, in MiB of pages (default 8;
 *               0 stops dirtying)
 *
 * Output on COM1 (the test's proof of life, on the source and, after the
 * migration, on the destination):
 *   "migprio-guest hot=... fill=... rate=...\n"  at boot
 *   "ready\n"                                     once the fill is done
 *   "."                                           every 100 ms after that
 *   " N\n"                                        every 5 s (N = seconds)
 *
 * Time comes from the PIT (channel 0, 1.193182 MHz, polled with interrupts
 * off).  The loop polls it far more often than the counter wraps (55 ms);
 * if the emulator deschedules the guest for longer, the guest's clock and
 * so its dirtying rate fall behind, never ahead.
 */
typedef unsigned int u32;
typedef unsigned short u16;
typedef unsigned char u8;

#define MB_BOOT_MAGIC	0x2badb002
#define MB_INFO_MEM	(1u << 0)
#define MB_INFO_CMDLINE	(1u << 2)
#define PAGE_SIZE	4096u
#define PIT_HZ		1193182u
#define COM1		0x3f8
#define FILL_START	(4u << 20)	/* above the image, stack and mbi */

struct mb_info {
	u32 flags;
	u32 mem_lower;		/* KiB below 1 MiB */
	u32 mem_upper;		/* KiB above 1 MiB */
	u32 boot_device;
	u32 cmdline;
};

static inline void outb(u16 port, u8 v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline u8 inb(u16 port)
{
	u8 v;

	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static void putc(char c)
{
	/* QEMU's 16550 takes a byte at any time: no LSR polling needed */
	outb(COM1, (u8)c);
}

static void puts(const char *s)
{
	while (*s)
		putc(*s++);
}

static void putu(u32 v)
{
	char b[11];
	int i = 0;

	do {
		b[i++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (i)
		putc(b[--i]);
}

/* "key=NUMBER" anywhere in the command line */
static u32 param(const char *cmd, const char *key, u32 def)
{
	const char *p = cmd, *k;
	u32 v;

	while (cmd && *p) {
		while (*p == ' ')
			p++;
		for (k = key; *k && *p == *k; k++, p++)
			;
		if (!*k && *p == '=' && p[1] >= '0' && p[1] <= '9') {
			for (v = 0, p++; *p >= '0' && *p <= '9'; p++)
				v = v * 10 + (u32)(*p - '0');
			return v;
		}
		while (*p && *p != ' ')
			p++;
	}
	return def;
}

/* PIT channel 0, mode 2, reload 65536: a free-running 16-bit down counter */
static void pit_init(void)
{
	outb(0x43, 0x34);
	outb(0x40, 0);
	outb(0x40, 0);
}

static u16 pit_read(void)
{
	u8 lo, hi;

	outb(0x43, 0x00);	/* latch channel 0 */
	lo = inb(0x40);
	hi = inb(0x40);
	return (u16)(lo | hi << 8);
}

static u32 pit_last, pit_frac;

/* milliseconds elapsed since the last call (the remainder is carried) */
static u32 pit_elapsed_ms(void)
{
	u16 now = pit_read();
	u32 ms;

	pit_frac += (u16)(pit_last - now);
	pit_last = now;
	ms = pit_frac / (PIT_HZ / 1000);
	pit_frac -= ms * (PIT_HZ / 1000);
	return ms;
}

void guest_main(u32 magic, const struct mb_info *mbi)
{
	const char *cmd = 0;
	u32 hot, fill, rate, top, i, x = 2463534242u;
	u32 *hot_base, hot_pages, next = 0, gen = 1;
	u32 ms_total = 0, ms_dot = 0, acc = 0, due = 0;

	if (magic == MB_BOOT_MAGIC && (mbi->flags & MB_INFO_CMDLINE))
		cmd = (const char *)mbi->cmdline;
	hot = param(cmd, "hot", 2048);
	fill = param(cmd, "fill", 32);
	rate = param(cmd, "rate", 8);
	/* keep both regions inside RAM */
	top = 64u << 20;
	if (magic == MB_BOOT_MAGIC && (mbi->flags & MB_INFO_MEM))
		top = (1u << 20) + (mbi->mem_upper << 10);
	if (FILL_START + (fill << 20) + (hot << 10) > top) {
		fill = (top - FILL_START) >> 21;
		hot = (top - FILL_START - (fill << 20)) >> 11;
	}
	puts("migprio-guest hot=");
	putu(hot);
	puts("K fill=");
	putu(fill);
	puts("M rate=");
	putu(rate);
	puts("M/s\n");

	for (i = 0; i < (fill << 20) / 4; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		/* volatile: stores nothing reads must still reach RAM */
		((volatile u32 *)FILL_START)[i] = x;
	}
	hot_base = (u32 *)(FILL_START + (fill << 20));
	hot_pages = (hot << 10) / PAGE_SIZE;
	puts("ready\n");

	pit_init();
	pit_last = pit_read();
	for (;;) {
		u32 ms = pit_elapsed_ms();

		/* pages due: rate MiB/s = rate * 256 pages/s, per ms */
		for (; ms; ms--) {
			acc += rate * 256;
			due += acc / 1000;
			acc %= 1000;
			if (++ms_dot == 100) {
				ms_dot = 0;
				putc('.');
			}
			if (++ms_total % 5000 == 0) {
				putc(' ');
				putu(ms_total / 1000);
				putc('\n');
			}
		}
		/* at most 64 pages between two looks at the clock */
		for (i = 0; due && hot_pages && i < 64; i++, due--) {
			((volatile u32 *)hot_base)[next * (PAGE_SIZE / 4)] = gen;
			if (++next == hot_pages) {
				next = 0;
				gen++;
			}
		}
		if (!hot_pages)
			due = 0;
	}
}
