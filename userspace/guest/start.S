/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Multiboot (v1) entry of the migprio test guest: QEMU's -kernel loads the
 * ELF at 1 MiB and jumps to _start in 32-bit protected mode, paging off,
 * EAX = 0x2BADB002, EBX = the multiboot information structure.
 */
#define MB_MAGIC	0x1badb002
#define MB_FLAGS	0

	.section .multiboot, "a"
	.p2align 2
	.long MB_MAGIC
	.long MB_FLAGS
	.long -(MB_MAGIC + MB_FLAGS)

	.text
	.globl _start
_start:
	cli
	movl $stack_top, %esp
	pushl %ebx
	pushl %eax
	call guest_main
1:	hlt
	jmp 1b

	.bss
	.p2align 4
	.skip 16384
stack_top:

	.section .note.GNU-stack, "", @progbits
