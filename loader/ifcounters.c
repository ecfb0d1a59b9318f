// SPDX-License-Identifier: GPL-2.0
/*
 * ifcounters.c - the per-interface counters: lvip_ifslot + lvip_ifstats.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>

#include "ifcounters.h"

static __u32 slot_of(__u32 ifindex)
{
	return ifindex & (LVIP_IFSLOTS - 1);
}

static int hash_has(const struct ifc_maps *m, __u32 ifindex, struct lvip_counters *buf)
{
	return !bpf_map_lookup_elem(m->hash_fd, &ifindex, buf);
}

/* Every CPU's copy of the slot gets owner and zero counters. */
static int slot_write(const struct ifc_maps *m, __u32 slot, __u32 owner, struct lvip_ifslot *v)
{
	memset(v, 0, m->ncpus * sizeof(*v));
	for (int c = 0; c < m->ncpus; c++)
		v[c].owner = owner;
	return bpf_map_update_elem(m->slot_fd, &slot, v, BPF_ANY) ? -errno : 0;
}

static int slot_claim(const struct ifc_maps *m, __u32 ifindex, struct lvip_ifslot *v,
		      struct lvip_counters *buf)
{
	__u32 slot = slot_of(ifindex), owner;

	if (bpf_map_lookup_elem(m->slot_fd, &slot, v))
		return -errno;
	owner = v[0].owner;
	if (owner == ifindex || (owner && hash_has(m, owner, buf)))
		return 0;
	return slot_write(m, slot, ifindex, v);
}

int ifc_create(const struct ifc_maps *m, __u32 ifindex)
{
	struct lvip_ifslot *v = calloc(m->ncpus, sizeof(*v));
	struct lvip_counters *buf = calloc(m->ncpus, sizeof(*buf));
	int err = 0;

	if (!v || !buf)
		err = -ENOMEM;
	else if (bpf_map_update_elem(m->hash_fd, &ifindex, buf, BPF_NOEXIST) && errno != EEXIST)
		err = -errno;
	if (!err)
		err = slot_claim(m, ifindex, v, buf);
	free(v);
	free(buf);
	return err;
}

int ifc_remove(const struct ifc_maps *m, __u32 ifindex)
{
	struct lvip_ifslot *v = calloc(m->ncpus, sizeof(*v));
	__u32 slot = slot_of(ifindex);
	int err = 0;

	if (!v)
		return -ENOMEM;
	if (!bpf_map_lookup_elem(m->slot_fd, &slot, v) && v[0].owner == ifindex)
		err = slot_write(m, slot, 0, v);
	if (!err && bpf_map_delete_elem(m->hash_fd, &ifindex) && errno != ENOENT)
		err = -errno;
	free(v);
	return err;
}

static void add_counters(__u64 *acc, const struct lvip_counters *c)
{
	const __u64 *r = (const __u64 *)c;

	for (int i = 0; i < LVIP_R_MAX; i++)
		acc[i] += r[i];
}

int ifc_read(const struct ifc_maps *m, __u32 ifindex, struct lvip_counters *sum)
{
	struct lvip_ifslot *v = calloc(m->ncpus, sizeof(*v));
	struct lvip_counters *buf = calloc(m->ncpus, sizeof(*buf));
	__u32 slot = slot_of(ifindex);
	int err = -ENOENT;

	memset(sum, 0, sizeof(*sum));
	if (!v || !buf) {
		err = -ENOMEM;
		goto out;
	}
	if (hash_has(m, ifindex, buf)) {
		err = 0;
		for (int c = 0; c < m->ncpus; c++)
			add_counters((__u64 *)sum, &buf[c]);
	}
	if (!bpf_map_lookup_elem(m->slot_fd, &slot, v) && v[0].owner == ifindex) {
		err = 0;
		for (int c = 0; c < m->ncpus; c++)
			add_counters((__u64 *)sum, &v[c].c);
	}
out:
	free(v);
	free(buf);
	return err;
}
