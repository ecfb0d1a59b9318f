// SPDX-License-Identifier: GPL-2.0
/* nl.c - interface addresses through rtnetlink (libmnl). */
#include <errno.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>

#include "loader.h"

void addr_list_free(struct addr_list *l)
{
	free(l->a);
	free(l->index);
	free(l->marked);
	memset(l, 0, sizeof(*l));
}

/* Sorted copy of the addresses, so that thousands of VIPs can be looked
 * up in lo's thousands of addresses in O(log n) each. */
static int addr_list_index(struct addr_list *l)
{
	free(l->index);
	free(l->marked);
	l->nmarked = 0;
	l->index = calloc(l->n ? l->n : 1, sizeof(*l->index));
	l->marked = calloc(l->n ? l->n : 1, sizeof(*l->marked));
	if (!l->index || !l->marked)
		return -ENOMEM;
	for (size_t i = 0; i < l->n; i++) {
		l->index[i] = l->a[i].addr;
		if (l->a[i].lvip_mark)
			l->marked[l->nmarked++] = l->a[i].addr;
	}
	qsort(l->index, l->n, sizeof(*l->index), vip_cmp);
	qsort(l->marked, l->nmarked, sizeof(*l->marked), vip_cmp);
	return 0;
}

bool addr_list_has(const struct addr_list *l, const struct vip_addr *a)
{
	return l->index && vip_sorted_has(l->index, l->n, a);
}

bool addr_list_marked(const struct addr_list *l, const struct vip_addr *a)
{
	return l->marked && vip_sorted_has(l->marked, l->nmarked, a);
}

int lo_ifindex(void)
{
	unsigned int idx = if_nametoindex("lo");

	return idx ? (int)idx : -ENODEV;
}

int lo_addr_dump(struct addr_list *out)
{
	int lo = lo_ifindex();

	return lo < 0 ? lo : nl_addr_dump(AF_UNSPEC, lo, out);
}

/* One netlink socket for the whole run: a bulk change is one socket and a
 * few sendto()s, as with `ip -batch`. */
static struct mnl_socket *nl_sock;
static unsigned int nl_seq;

static void nl_close(void)
{
	if (nl_sock)
		mnl_socket_close(nl_sock);
	nl_sock = NULL;
}

static struct mnl_socket *nl_get(void)
{
	if (nl_sock)
		return nl_sock;
	nl_sock = mnl_socket_open(NETLINK_ROUTE);
	if (!nl_sock)
		return NULL;
	if (mnl_socket_bind(nl_sock, 0, MNL_SOCKET_AUTOPID) < 0) {
		nl_close();
		return NULL;
	}
	nl_seq = (unsigned int)time(NULL);
	atexit(nl_close);
	return nl_sock;
}

/* Does buf[len] hold the last message of dump seq? */
static bool dump_ends_in(const void *buf, ssize_t len, unsigned int seq)
{
	int left = (int)len;

	for (const struct nlmsghdr *h = buf; mnl_nlmsg_ok(h, left); h = mnl_nlmsg_next(h, &left))
		if (h->nlmsg_seq == seq && (h->nlmsg_type == NLMSG_DONE || h->nlmsg_type == NLMSG_ERROR))
			return true;
	return false;
}

/* A datagram of a dump is at most 32 KiB (the kernel's cap on a dump skb);
 * reading with that much room lets the kernel fill skbs that large. */
#define NL_DUMP_CHUNK 32768

/* Every answer to dump seq, up to its NLMSG_DONE, in one buffer. Reading it
 * all before parsing any keeps the dump short: the kernel marks it
 * interrupted when an address changes between two of its datagrams. */
static int dump_read_all(struct mnl_socket *nl, unsigned int seq, char **out, size_t *len)
{
	size_t n = 0, cap = 0;
	bool ended = false;
	char *all = NULL, *p;
	ssize_t ret;

	while (!ended) {
		if (cap - n < NL_DUMP_CHUNK) {
			cap = cap ? 2 * cap : 4 * NL_DUMP_CHUNK;
			p = realloc(all, cap);
			if (!p) {
				free(all);
				return -ENOMEM;
			}
			all = p;
		}
		ret = mnl_socket_recvfrom(nl, all + n, cap - n);
		if (ret < 0) {
			free(all);
			return -errno;
		}
		ended = dump_ends_in(all + n, ret, seq);
		n += ret;
	}
	*out = all;
	*len = n;
	return 0;
}

/* A dump: one request, all its answers read, then parsed. */
static int nl_dump_once(struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
	struct mnl_socket *nl = nl_get();
	unsigned int portid, seq;
	size_t len = 0;
	char *all = NULL;
	int err;

	if (!nl)
		return -errno;
	portid = mnl_socket_get_portid(nl);
	seq = nlh->nlmsg_seq = ++nl_seq;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	err = dump_read_all(nl, seq, &all, &len);
	if (err)
		return err;
	err = mnl_cb_run(all, len, seq, portid, cb, data) < 0 ? -errno : 0;
	free(all);
	return err;
}

/* The kernel flags a dump during which the list changed (NLM_F_DUMP_INTR,
 * EINTR from libmnl): reset the output and dump again, a few times. */
#define NL_DUMP_TRIES 10

int nl_dump(__u16 type, __u8 family, size_t hdr_len, mnl_cb_t cb, void (*reset)(void *),
	    void *data)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	__u8 *hdr;
	int err = -EINTR;

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	hdr = mnl_nlmsg_put_extra_header(nlh, hdr_len);
	*hdr = family; /* the first byte of every rtnetlink header */
	for (int i = 0; i < NL_DUMP_TRIES && err == -EINTR; i++) {
		reset(data);
		err = nl_dump_once(nlh, cb, data);
	}
	return err;
}

/* Read the ACKs of the requests seq first..first+n-1 into err[]. */
static int nl_read_acks(struct mnl_socket *nl, unsigned int first, size_t n, int *err)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	size_t got = 0;
	ssize_t ret;

	while (got < n) {
		struct nlmsghdr *h = (struct nlmsghdr *)buf;
		int len;

		ret = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		if (ret < 0)
			return -errno;
		for (len = (int)ret; mnl_nlmsg_ok(h, len); h = mnl_nlmsg_next(h, &len)) {
			struct nlmsgerr *e = mnl_nlmsg_get_payload(h);
			unsigned int i = h->nlmsg_seq - first;

			if (h->nlmsg_type != NLMSG_ERROR || i >= n)
				continue;
			err[i] = e->error;
			got++;
		}
	}
	return 0;
}

/* Does the kernel know IFA_PROTO (5.18)? Yes if a dump showed one (the
 * kernel marks lo's 127.0.0.1 and ::1 so): lvip dumps lo before it adds.
 * Else asked without changing anything: an IPv4 address for no interface
 * (ifindex 0) with an IFA_PROTO of no bytes. A kernel that knows the
 * attribute refuses its length while parsing (ERANGE, and logs the bad
 * length once); one that does not skips it and refuses the missing
 * interface (ENODEV). */
static bool ifa_proto_seen; /* a dump had an IFA_PROTO: the kernel knows it */

static bool nl_has_ifa_proto(struct mnl_socket *nl)
{
	static int known = -1;
	char buf[256];
	struct nlmsghdr *nlh;
	struct ifaddrmsg *ifa;
	__u8 zero[4] = {};
	int err = 0;

	if (getenv("LVIP_TEST_NO_IFA_PROTO"))
		return false; /* tests: the fallback of kernels before 5.18 */
	if (ifa_proto_seen)
		return true;
	if (known >= 0)
		return known;
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWADDR;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL;
	nlh->nlmsg_seq = ++nl_seq;
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = AF_INET;
	ifa->ifa_prefixlen = 32;
	mnl_attr_put(nlh, IFA_LOCAL, sizeof(zero), zero);
	mnl_attr_put(nlh, IFA_PROTO, 0, NULL);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0 || nl_read_acks(nl, nl_seq, 1, &err))
		return false; /* not known: the label, this time */
	known = err != -ENODEV && err != 0;
	return known;
}

static void put_addr_msg(struct nlmsghdr *nlh, bool add, bool proto, __u32 ifindex,
			 const struct vip_addr *a)
{
	struct ifaddrmsg *ifa;

	nlh->nlmsg_type = add ? RTM_NEWADDR : RTM_DELADDR;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | (add ? NLM_F_CREATE | NLM_F_EXCL : 0);
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = a->family;
	ifa->ifa_prefixlen = a->family == AF_INET ? 32 : 128;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	ifa->ifa_index = ifindex;
	mnl_attr_put(nlh, IFA_LOCAL, vip_len(a), a->bytes);
	mnl_attr_put(nlh, IFA_ADDRESS, vip_len(a), a->bytes);
	if (add && a->family == AF_INET6)
		mnl_attr_put_u32(nlh, IFA_FLAGS, IFA_F_NODAD);
	if (add && proto)
		mnl_attr_put_u8(nlh, IFA_PROTO, LVIP_IFA_PROTO);
	/* IPv4 gets the label too: `ip addr` shows it with any iproute2 */
	if (add && a->family == AF_INET)
		mnl_attr_put_strz(nlh, IFA_LABEL, LVIP_IFA_LABEL);
}

/* Adding an address that is there already, or deleting one that is not, is
 * success: the state is as asked. */
static int addr_change_result(bool add, int err)
{
	if (add && err == -EEXIST)
		return 0;
	if (!add && (err == -EADDRNOTAVAIL || err == -ENOENT || err == -ESRCH))
		return 0;
	return err;
}

/* Requests per sendto(): an address request is under 80 bytes, so 128 fit
 * the batch limit (half the buffer, as libmnl wants), and their ACKs fit
 * the socket's receive buffer. */
#define NL_BATCH 128

/* Add or delete ADDR/32 or /128 on ifindex for each of a[0..n-1]; err[i]
 * gets each one's result. Returns the first error, 0 if none. */
int nl_addr_change_many(bool add, __u32 ifindex, const struct vip_addr *a, size_t n, int *err)
{
	static char buf[NL_BATCH * 256];
	struct mnl_socket *nl = nl_get();
	int first_err = 0;
	bool proto;

	if (!nl)
		return -errno;
	proto = add && nl_has_ifa_proto(nl);
	for (size_t done = 0; done < n;) {
		struct mnl_nlmsg_batch *b = mnl_nlmsg_batch_start(buf, sizeof(buf) / 2);
		unsigned int first = nl_seq + 1;
		size_t k = 0, i;
		int ret;

		for (; done + k < n && k < NL_BATCH; k++) {
			struct nlmsghdr *nlh = mnl_nlmsg_put_header(mnl_nlmsg_batch_current(b));

			nlh->nlmsg_seq = ++nl_seq;
			put_addr_msg(nlh, add, proto, ifindex, &a[done + k]);
			mnl_nlmsg_batch_next(b); /* cannot overflow: see NL_BATCH */
		}
		ret = mnl_socket_sendto(nl, mnl_nlmsg_batch_head(b), mnl_nlmsg_batch_size(b)) < 0 ? -errno : 0;
		mnl_nlmsg_batch_stop(b);
		if (!ret)
			ret = nl_read_acks(nl, first, k, err + done);
		if (ret)
			return ret;
		for (i = done; i < done + k; i++) {
			err[i] = addr_change_result(add, err[i]);
			if (err[i] && !first_err)
				first_err = err[i];
		}
		done += k;
	}
	return first_err;
}

struct dump_req {
	__u32 ifindex; /* 0: every interface */
	bool except;   /* every interface but ifindex */
	struct addr_list *out;
	int err;
};

static int addr_cb(const struct nlmsghdr *nlh, void *data)
{
	struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *tb[IFA_MAX + 1] = {}, *attr, *addr;
	struct dump_req *req = data;
	struct if_addr a = {};
	size_t len;

	if (req->ifindex && (ifa->ifa_index != req->ifindex) != req->except)
		return MNL_CB_OK;
	mnl_attr_for_each(attr, nlh, sizeof(*ifa))
		if (mnl_attr_type_valid(attr, IFA_MAX) >= 0)
			tb[mnl_attr_get_type(attr)] = attr;
	/* IFA_LOCAL is the address itself (IFA_ADDRESS is the peer on
	 * point-to-point links); IPv6 only sends IFA_ADDRESS. */
	addr = tb[IFA_LOCAL] ? tb[IFA_LOCAL] : tb[IFA_ADDRESS];
	if (!addr)
		return MNL_CB_OK;
	a.addr.family = ifa->ifa_family;
	len = ifa->ifa_family == AF_INET ? 4 : 16;
	if (mnl_attr_get_payload_len(addr) != len)
		return MNL_CB_OK;
	memcpy(a.addr.bytes, mnl_attr_get_payload(addr), len);
	a.prefixlen = ifa->ifa_prefixlen;
	a.scope = ifa->ifa_scope;
	a.flags = tb[IFA_FLAGS] ? mnl_attr_get_u32(tb[IFA_FLAGS]) : ifa->ifa_flags;
	a.ifindex = ifa->ifa_index;
	ifa_proto_seen |= tb[IFA_PROTO] != NULL;
	a.lvip_mark = (tb[IFA_PROTO] && mnl_attr_get_payload_len(tb[IFA_PROTO]) == 1 &&
		       mnl_attr_get_u8(tb[IFA_PROTO]) == LVIP_IFA_PROTO) ||
		      (tb[IFA_LABEL] && !strcmp(mnl_attr_get_str(tb[IFA_LABEL]), LVIP_IFA_LABEL));
	req->err = vec_push(&req->out->a, &req->out->n, &req->out->cap, sizeof(a), &a);
	return req->err ? MNL_CB_ERROR : MNL_CB_OK;
}

static void addr_dump_reset(void *data)
{
	struct dump_req *req = data;

	addr_list_free(req->out);
	req->err = 0;
}

static int addr_dump(int family, __u32 ifindex, bool except, struct addr_list *out)
{
	struct dump_req req = { .ifindex = ifindex, .except = except, .out = out };
	int err = nl_dump(RTM_GETADDR, family, sizeof(struct ifaddrmsg), addr_cb, addr_dump_reset,
			  &req);

	if (!err)
		err = req.err;
	return err ? err : addr_list_index(out);
}

int nl_addr_dump(int family, __u32 ifindex, struct addr_list *out)
{
	return addr_dump(family, ifindex, false, out);
}

int nl_addr_dump_others(__u32 ifindex, struct addr_list *out)
{
	return addr_dump(AF_UNSPEC, ifindex, true, out);
}
