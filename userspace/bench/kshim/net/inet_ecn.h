/* SPDX-License-Identifier: GPL-2.0 */
/* kshim: the ECN bits of the DS field. */
#ifndef _KSHIM_NET_INET_ECN_H
#define _KSHIM_NET_INET_ECN_H

enum {
	INET_ECN_NOT_ECT = 0,
	INET_ECN_ECT_1 = 1,
	INET_ECN_ECT_0 = 2,
	INET_ECN_CE = 3,
	INET_ECN_MASK = 3,
};

#endif /* _KSHIM_NET_INET_ECN_H */
