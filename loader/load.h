/* SPDX-License-Identifier: GPL-2.0 */
/* load.h - loading and pinning lvip, and unpinning it. */
#ifndef LVIP_LOAD_H
#define LVIP_LOAD_H

#include "state.h"

int load_pins(struct lvip_state *s, __u32 max_vips, bool *replaced);
const char *load_note(bool stale);
int unload_pins(struct lvip_state *s);

#endif /* LVIP_LOAD_H */
