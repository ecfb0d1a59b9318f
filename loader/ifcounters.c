// SPDX-License-Identifier: GPL-2.0
/*
 * ifcounters.c - the per-interface counters: lvip_ifslot + lvip_ifstats;
 * per-CPU counters summed.
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
	if (owner == ifindex || (owner && !bpf_map_lookup_elem(m->hash_fd, &owner, buf)))
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

static void add_counters(struct lvip_counters *sum, const struct lvip_counters *c)
{
	__u64 *acc = (__u64 *)sum;
	const __u64 *r = (const __u64 *)c;

	for (int i = 0; i < LVIP_R_MAX; i++)
		acc[i] += r[i];
}

int counters_add(int fd, const void *key, int ncpus, struct lvip_counters *sum)
{
	struct lvip_counters *v = calloc(ncpus, sizeof(*v));
	int err = 0;

	if (!v)
		return -ENOMEM;
	if (bpf_map_lookup_elem(fd, key, v))
		err = -errno;
	for (int c = 0; !err && c < ncpus; c++)
		add_counters(sum, &v[c]);
	free(v);
	return err;
}

int ifc_read(const struct ifc_maps *m, __u32 ifindex, struct lvip_counters *sum)
{
	struct lvip_ifslot *v = calloc(m->ncpus, sizeof(*v));
	__u32 slot = slot_of(ifindex);
	int err;

	memset(sum, 0, sizeof(*sum));
	if (!v)
		return -ENOMEM;
	err = counters_add(m->hash_fd, &ifindex, m->ncpus, sum);
	if ((!err || err == -ENOENT) && !bpf_map_lookup_elem(m->slot_fd, &slot, v) &&
	    v[0].owner == ifindex) {
		err = 0;
		for (int c = 0; c < m->ncpus; c++)
			add_counters(sum, &v[c].c);
	}
	free(v);
	return err;
}
