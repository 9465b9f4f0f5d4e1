/* SPDX-License-Identifier: GPL-2.0 */
/* kshim: u8..s64 are in kshim.h, the __u8.. of the uapi header with them. */
#include_next <linux/types.h>
#include "../kshim.h"
