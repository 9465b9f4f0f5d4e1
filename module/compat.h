/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Differences between the kernels migprio supports (Debian's 6.1 and 6.12
 * cloud kernels), and nothing else: one shim per difference, each saying
 * from which kernel version the API exists, so that the sources use one
 * spelling and carry no version tests. Included by the files that use a
 * shim. The APIs checked identical on both kernels, and the differences
 * avoided rather than shimmed, are listed in Documentation/migprio.rst
 * ("Kernel versions").
 */
#ifndef _MIGPRIO_COMPAT_H
#define _MIGPRIO_COMPAT_H

#include <linux/version.h>
#include <net/netlink.h>

/*
 * An extack message with arguments: NL_SET_ERR_MSG_ATTR_FMT exists from
 * 6.3 on. 6.1 has no buffer in the extack for it (the message is a
 * pointer, sent after the handler returned): it gets the constant @msg.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 3, 0)
#define mp_set_err_msg_fmt(extack, attr, msg, fmt, args...) \
	NL_SET_ERR_MSG_ATTR_FMT(extack, attr, fmt, ##args)
#else
#define mp_set_err_msg_fmt(extack, attr, msg, fmt, args...) \
	NL_SET_ERR_MSG_ATTR(extack, attr, msg)
#endif

#endif /* _MIGPRIO_COMPAT_H */
