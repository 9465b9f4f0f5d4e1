/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kshim: struct net_device is in kshim.h (not the uapi header of this
 * name: it brings libc's socket definitions along).
 */
#include "../kshim.h"
