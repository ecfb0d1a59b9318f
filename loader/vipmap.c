// SPDX-License-Identifier: GPL-2.0
/* vipmap.c - the VIP maps: per-CPU values, summed over CPUs when read. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>

#include "loader.h"

/* ---- per-CPU map access ---- */

int vip_map_fd(const struct lvip_state *s, const struct vip_addr *a)
{
	return s->map_fd[a->family == AF_INET ? M_VIP4 : M_VIP6];
}

static void vip_sum(const struct lvip_vip_val *v, int ncpus, struct lvip_vip_val *sum)
{
	memset(sum, 0, sizeof(*sum));
	for (int c = 0; c < ncpus; c++) {
		sum->packets += v[c].packets;
		sum->bytes += v[c].bytes;
		sum->arp_dropped += v[c].arp_dropped;
		sum->nd_dropped += v[c].nd_dropped;
	}
	sum->flags = v[0].flags;
}

int vip_lookup(const struct lvip_state *s, const struct vip_addr *a, struct lvip_vip_val *sum)
{
	struct lvip_vip_val *v = calloc(s->ncpus, sizeof(*v));
	int err = 0;

	if (!v)
		return -ENOMEM;
	if (bpf_map_lookup_elem(vip_map_fd(s, a), a->bytes, v))
		err = -errno;
	else if (sum)
		vip_sum(v, s->ncpus, sum);
	free(v);
	return err;
}

/* A per-CPU hash without prealloc takes its elements from a per-CPU cache
 * that the kernel refills in the background: a burst of inserts can see
 * ENOMEM for a moment. Retry for up to a second before believing it. */
static int map_update_retry(int fd, const void *key, const void *val, __u64 flags)
{
	struct timespec pause = { 0, 2 * 1000 * 1000 };

	for (int i = 0; i < 500; i++) {
		if (!bpf_map_update_elem(fd, key, val, flags))
			return 0;
		if (errno != ENOMEM)
			return -errno;
		nanosleep(&pause, NULL);
	}
	return -ENOMEM;
}

/* create: a new entry, its counters at 0; else an existing entry's flags,
 * its counters kept. Flags are replicated on every CPU. */
int vip_store(const struct lvip_state *s, const struct vip_addr *a, __u32 flags, bool create)
{
	struct lvip_vip_val *v = calloc(s->ncpus, sizeof(*v));
	int err = 0;

	if (!v)
		return -ENOMEM;
	if (!create && bpf_map_lookup_elem(vip_map_fd(s, a), a->bytes, v))
		err = -errno;
	for (int c = 0; !err && c < s->ncpus; c++)
		v[c].flags = flags;
	if (!err)
		err = map_update_retry(vip_map_fd(s, a), a->bytes, v, create ? BPF_NOEXIST : BPF_EXIST);
	free(v);
	return err;
}

int vip_set_flags(const struct lvip_state *s, const struct vip_addr *a, __u32 flags)
{
	return vip_store(s, a, flags, false);
}

int vip_remove(const struct lvip_state *s, const struct vip_addr *a)
{
	if (bpf_map_delete_elem(vip_map_fd(s, a), a->bytes) && errno != ENOENT)
		return -errno;
	return 0;
}

static int collect_family(const struct lvip_state *s, int family, struct vip_entry **out,
			  size_t *n, size_t *cap)
{
	int fd = s->map_fd[family == AF_INET ? M_VIP4 : M_VIP6];
	struct vip_addr key = { .family = family }, next = { .family = family };
	void *prev = NULL;

	while (!bpf_map_get_next_key(fd, prev, next.bytes)) {
		struct vip_entry e = { .addr = next };

		if (!vip_lookup(s, &next, &e.val) && vec_push(out, n, cap, sizeof(e), &e))
			return -ENOMEM;
		key = next;
		prev = key.bytes;
	}
	return errno == ENOENT ? 0 : -errno;
}

static int entry_order(const void *a, const void *b)
{
	return vip_cmp(&((const struct vip_entry *)a)->addr, &((const struct vip_entry *)b)->addr);
}

/* Every VIP of both maps, sorted (IPv4 first), counters summed. */
int vip_collect(const struct lvip_state *s, struct vip_entry **out, size_t *n)
{
	size_t cap = 0;
	int err;

	*out = NULL;
	*n = 0;
	err = collect_family(s, AF_INET, out, n, &cap);
	if (!err)
		err = collect_family(s, AF_INET6, out, n, &cap);
	if (err) {
		free(*out);
		*out = NULL;
		*n = 0;
		return err;
	}
	if (*n)
		qsort(*out, *n, sizeof(**out), entry_order);
	return 0;
}
