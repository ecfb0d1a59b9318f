/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ifcounters.h - the per-interface counters, kept in two maps (see struct
 * lvip_ifslot in lvip.h): an lvip_ifslot slot, if the interface owns one,
 * plus its lvip_ifstats entry; and summing per-CPU counters. libbpf only,
 * so the tests link it as is.
 */
#ifndef LVIP_IFCOUNTERS_H
#define LVIP_IFCOUNTERS_H

#include "lvip.h"

struct ifc_maps {
	int slot_fd;  /* lvip_ifslot */
	int hash_fd;  /* lvip_ifstats */
	int ncpus;
};

/* Add the struct lvip_counters at key of a per-CPU map (lvip_stats,
 * lvip_ifstats), summed over ncpus CPUs, to *sum. 0 or -errno. */
int counters_add(int fd, const void *key, int ncpus, struct lvip_counters *sum);

/* The lvip_ifstats entry (kept if it exists), and the interface's slot if
 * it is free, or its owner has no lvip_ifstats entry (left by a detach that
 * was killed half way). 0 or -errno. */
int ifc_create(const struct ifc_maps *m, __u32 ifindex);

/* Give up the slot (if owned), then the lvip_ifstats entry. 0 or -errno. */
int ifc_remove(const struct ifc_maps *m, __u32 ifindex);

/* Both places summed over the CPUs. 0, -ENOENT when the interface has
 * neither, or -errno. */
int ifc_read(const struct ifc_maps *m, __u32 ifindex, struct lvip_counters *sum);

#endif
