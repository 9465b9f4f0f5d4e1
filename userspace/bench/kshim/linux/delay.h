/* SPDX-License-Identifier: GPL-2.0 */
/* kshim: what this kernel header declares is in kshim.h. */
#include "../kshim.h"
