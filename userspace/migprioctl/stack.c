// SPDX-License-Identifier: GPL-2.0
/*
 * The uplink walk: from the designated interface (the one holding the
 * migration address) down to the devices where its traffic meets
 * everything else leaving the host, read from one rtnetlink link dump
 * (IFLA_MASTER, IFLA_LINK, IFLA_LINK_NETNSID, IFLA_INFO_KIND and
 * IFLA_PARENT_DEV_NAME), as iproute2 reads them.
 *
 * Classification stays on the designated device; the queue goes where
 * guests' bridged traffic and the host's own meet:
 *
 *   vlan, macvlan, macvtap, ipvlan, ipvtap   its lower device (refused
 *       when that is in another network namespace: no qdisc can be
 *       installed there from here)
 *   bridge      its one port leading off the host: a NIC (a device with
 *       a parent bus device), a bond, a team, or a VLAN or macvlan on one.
 *       tun/tap ports are VMs, veth ports containers (or, in a lab,
 *       another namespace), vxlan and other tunnels leave through another
 *       device: none of them is chosen. None or several: refused, naming
 *       the ports; "uplink DEV" says which.
 *   openvswitch an OVS port: flows decide where its traffic leaves, so
 *       "uplink DEV" must say it (refused naming the candidates)
 *   bond, team  the device itself (one layout at the aggregate rate), or
 *       with per-slave each slave; rings on the slaves
 *   anything else (a NIC, veth, ...)   itself, as before
 *
 * "uplink DEV" stops the walk at DEV, which must be the designated device
 * or below it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>

#include "nlsock.h"
#include "stack.h"
#include "utils.h"

#define KIND_LEN	16
#define WALK_DEPTH	8	/* vlan on bridge on vlan on bond: 4 */

struct link {
	__u32 ifindex, master, lower;	/* lower: IFLA_LINK, 0 none */
	bool lower_elsewhere;		/* IFLA_LINK_NETNSID: another netns */
	bool parent;			/* IFLA_PARENT_DEV_NAME: hardware */
	int bond_mode;			/* -1 unknown */
	char ifname[IF_NAMESIZE];
	char kind[KIND_LEN];		/* "" for a driver without rtnl ops */
};

struct links {
	struct link *v;
	unsigned int n, size;
};

static int link_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *a, *b;
	struct links *ls = data;
	struct link *l;

	if (nlh->nlmsg_type != RTM_NEWLINK ||
	    nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*ifi)))
		return 0;
	if (ls->n == ls->size) {
		unsigned int size = ls->size ? 2 * ls->size : 64;
		struct link *v = realloc(ls->v, size * sizeof(*v));

		if (!v)
			return -ENOMEM;
		ls->v = v;
		ls->size = size;
	}
	l = &ls->v[ls->n++];
	memset(l, 0, sizeof(*l));
	l->ifindex = ifi->ifi_index;
	l->bond_mode = -1;
	mnl_attr_for_each(a, nlh, sizeof(*ifi)) {
		switch (mnl_attr_get_type(a)) {
		case IFLA_IFNAME:
			if (mnl_attr_validate(a, MNL_TYPE_NUL_STRING) >= 0)
				snprintf(l->ifname, sizeof(l->ifname), "%s",
					 mnl_attr_get_str(a));
			break;
		case IFLA_MASTER:
			if (mnl_attr_validate(a, MNL_TYPE_U32) >= 0)
				l->master = mnl_attr_get_u32(a);
			break;
		case IFLA_LINK:
			if (mnl_attr_validate(a, MNL_TYPE_U32) >= 0)
				l->lower = mnl_attr_get_u32(a);
			break;
		case IFLA_LINK_NETNSID:
			l->lower_elsewhere = true;
			break;
		case IFLA_PARENT_DEV_NAME:
			l->parent = true;
			break;
		case IFLA_LINKINFO:
			mnl_attr_for_each_nested(b, a) {
				const struct nlattr *c;

				if (mnl_attr_get_type(b) == IFLA_INFO_KIND &&
				    mnl_attr_validate(b, MNL_TYPE_NUL_STRING) >= 0)
					snprintf(l->kind, sizeof(l->kind), "%s",
						 mnl_attr_get_str(b));
				if (mnl_attr_get_type(b) != IFLA_INFO_DATA)
					continue;
				mnl_attr_for_each_nested(c, b) {
					if (mnl_attr_get_type(c) == IFLA_BOND_MODE &&
					    mnl_attr_validate(c, MNL_TYPE_U8) >= 0)
						l->bond_mode = mnl_attr_get_u8(c);
				}
			}
			break;
		}
	}
	/* a device is its own link when it has no lower one */
	if (l->lower == l->ifindex)
		l->lower = 0;
	return 0;
}

static void links_reset(void *data)
{
	((struct links *)data)->n = 0;
}

static int links_load(struct links *ls, char *err, size_t errlen)
{
	char buf[NLSOCK_MSG_SIZE];
	struct ifinfomsg *ifi;
	struct nlmsghdr *nlh;
	struct nlsock s;
	int ret;

	memset(ls, 0, sizeof(*ls));
	ret = nlsock_open(&s, NETLINK_ROUTE);
	if (ret) {
		snprintf(err, errlen, "cannot open rtnetlink socket: %s",
			 strerror(-ret));
		return ret;
	}
	nlh = nlsock_msg(&s, buf, RTM_GETLINK, NLM_F_DUMP);
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	mnl_attr_put_u32(nlh, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
	ret = nlsock_dump(&s, nlh, link_cb, links_reset, ls);
	if (ret)
		snprintf(err, errlen, "reading the interfaces: %s",
			 nlsock_errstr(&s.err));
	nlsock_close(&s);
	return ret;
}

static const struct link *find(const struct links *ls, __u32 ifindex)
{
	unsigned int i;

	for (i = 0; ifindex && i < ls->n; i++) {
		if (ls->v[i].ifindex == ifindex)
			return &ls->v[i];
	}
	return NULL;
}

static const struct link *find_name(const struct links *ls, const char *name)
{
	unsigned int i;

	for (i = 0; i < ls->n; i++) {
		if (!strcmp(ls->v[i].ifname, name))
			return &ls->v[i];
	}
	return NULL;
}

static bool is_kind(const struct link *l, const char *const *kinds)
{
	for (; *kinds; kinds++) {
		if (!strcmp(l->kind, *kinds))
			return true;
	}
	return false;
}

/* Stacked on one lower device, which carries its traffic. */
static bool stacked(const struct link *l)
{
	static const char *const kinds[] = {
		"vlan", "macvlan", "macvtap", "ipvlan", "ipvtap", NULL,
	};

	return is_kind(l, kinds);
}

static bool aggregate(const struct link *l)
{
	return !strcmp(l->kind, "bond") || !strcmp(l->kind, "team");
}

static bool nic(const struct link *l)
{
	return !l->kind[0] && l->parent;
}

static const char *kind_name(const struct link *l)
{
	if (l->kind[0])
		return l->kind;
	return l->parent ? "nic" : "device";
}

/* The lower device of a stacked one, NULL when it is not in this netns. */
static const struct link *lower_of(const struct links *ls, const struct link *l)
{
	return l->lower_elsewhere ? NULL : find(ls, l->lower);
}

/* A bridge port through which traffic leaves the host. */
static bool offhost(const struct links *ls, const struct link *l, int depth)
{
	const struct link *low;

	if (nic(l) || aggregate(l))
		return true;
	if (!stacked(l) || depth >= WALK_DEPTH)
		return false;
	low = lower_of(ls, l);
	return low && offhost(ls, low, depth + 1);
}

/*
 * The devices directly below l: a stacked device's lower one, a bridge's
 * ports, a bond's or team's slaves, the other ports of an OVS port's
 * datapath. Calls fn for each until it returns true (then true).
 */
static bool each_below(const struct links *ls, const struct link *l,
		       bool (*fn)(const struct link *c, void *data), void *data)
{
	const struct link *low;
	__u32 master = 0;
	unsigned int i;

	if (stacked(l)) {
		low = lower_of(ls, l);
		return low && fn(low, data);
	}
	if (!strcmp(l->kind, "bridge") || aggregate(l))
		master = l->ifindex;
	else if (!strcmp(l->kind, "openvswitch"))
		master = l->master;
	for (i = 0; master && i < ls->n; i++) {
		if (ls->v[i].master == master && ls->v[i].ifindex != l->ifindex &&
		    fn(&ls->v[i], data))
			return true;
	}
	return false;
}

struct below_ctx {
	struct mp_stack *st;
	int ret;
};

/* Append c to st->below unless it is there. */
static bool add_below(const struct link *c, void *data)
{
	struct below_ctx *bc = data;
	struct mp_stack *st = bc->st;
	__u32 *v;

	if (mp_stack_is_below(st, c->ifindex))
		return false;
	v = realloc(st->below, (st->nbelow + 1) * sizeof(*v));
	if (!v) {
		bc->ret = -ENOMEM;
		return true;
	}
	st->below = v;
	st->below[st->nbelow++] = c->ifindex;
	return false;
}

/* Breadth first from top, st->below as the queue. 0 or -ENOMEM. */
static int fill_below(const struct links *ls, const struct link *top,
		      struct mp_stack *st)
{
	struct below_ctx bc = { .st = st };
	unsigned int i;

	add_below(top, &bc);
	for (i = 0; !bc.ret && i < st->nbelow; i++) {
		const struct link *l = find(ls, st->below[i]);

		if (l)
			each_below(ls, l, add_below, &bc);
	}
	return bc.ret;
}

bool mp_stack_is_below(const struct mp_stack *st, __u32 ifindex)
{
	unsigned int i;

	for (i = 0; i < st->nbelow; i++) {
		if (st->below[i] == ifindex)
			return true;
	}
	return false;
}

void mp_stack_free(struct mp_stack *st)
{
	free(st->below);
	st->below = NULL;
	st->nbelow = 0;
}

/* ---- the walk ---- */

struct walk {
	const struct links *ls;
	const struct mp_stack_req *req;
	struct mp_stack *st;
	const struct link *top, *uplink;
	char *err;
	size_t errlen;
};

static void path_add(struct walk *w, const struct link *l)
{
	struct mp_stack *st = w->st;
	size_t n = strlen(st->path);

	snprintf(st->path + n, sizeof(st->path) - n, "%s%s (%s)",
		 n ? " > " : "", l->ifname, kind_name(l));
}

static void dev_add(struct mp_stack_dev *v, unsigned int *n,
		    const struct link *l)
{
	unsigned int i;

	for (i = 0; i < *n; i++) {
		if (v[i].ifindex == l->ifindex)
			return;
	}
	if (*n == MP_STACK_MAX)
		return;
	v[*n].ifindex = l->ifindex;
	snprintf(v[*n].ifname, sizeof(v[*n].ifname), "%s", l->ifname);
	(*n)++;
}

/* "name (kind), name (kind)" of the links for which keep() holds. */
static void list_links(const struct links *ls, const struct link *parent,
		       bool (*keep)(const struct links *ls, const struct link *l),
		       char *buf, size_t len)
{
	__u32 master = parent->ifindex;
	unsigned int i, shown = 0;
	size_t n = 0;

	if (!strcmp(parent->kind, "openvswitch"))
		master = parent->master;
	buf[0] = '\0';
	for (i = 0; i < ls->n && n < len; i++) {
		const struct link *l = &ls->v[i];

		if (l->master != master || l == parent || !keep(ls, l))
			continue;
		if (shown == 8) {
			snprintf(buf + n, len - n, ", ...");
			break;
		}
		n += snprintf(buf + n, len - n, "%s%s (%s)", shown ? ", " : "",
			      l->ifname, kind_name(l));
		shown++;
	}
	if (!shown)
		snprintf(buf, len, "none");
}

static bool keep_any(const struct links *ls, const struct link *l)
{
	(void)ls;
	(void)l;
	return true;
}

static bool keep_offhost(const struct links *ls, const struct link *l)
{
	return offhost(ls, l, 0);
}

struct pick {
	const struct links *ls;
	const struct link *found;
	unsigned int n;
};

static bool pick_offhost(const struct link *c, void *data)
{
	struct pick *p = data;

	if (offhost(p->ls, c, 0)) {
		p->found = c;
		p->n++;
	}
	return false;
}

struct reach {
	const struct links *ls;
	const struct link *target;
	int depth;
};

static bool reaches(const struct link *c, void *data)
{
	struct reach *r = data;
	bool ret;

	if (c == r->target)
		return true;
	if (r->depth >= WALK_DEPTH)
		return false;
	r->depth++;
	ret = each_below(r->ls, c, reaches, r);
	r->depth--;
	return ret;
}

static bool pick_toward(const struct link *c, void *data)
{
	struct pick *p = data;
	struct reach r = { .ls = p->ls, .target = p->found };

	if (!reaches(c, &r))
		return false;
	p->found = c;	/* the child on the way */
	p->n = 1;
	return true;
}

/* The next device down from l: 0 (*next set, NULL: stop here) or -errno. */
static int step(struct walk *w, const struct link *l, const struct link **next)
{
	const struct links *ls = w->ls;
	struct pick p = { .ls = ls };
	char names[256];

	*next = NULL;
	if (w->uplink) {
		if (l == w->uplink)
			return 0;
		p.found = w->uplink;
		each_below(ls, l, pick_toward, &p);
		*next = p.n ? p.found : NULL;
		return 0;	/* the uplink is below: checked before */
	}
	if (stacked(l)) {
		*next = lower_of(ls, l);
		if (*next)
			return 0;
		snprintf(w->err, w->errlen,
			 "%s is a %s on a device in another network namespace: its traffic queues there, where no qdisc can be installed from this one; use queue none here and give that device its layout in its own namespace",
			 l->ifname, l->kind);
		return -EXDEV;
	}
	if (!strcmp(l->kind, "bridge")) {
		each_below(ls, l, pick_offhost, &p);
		if (p.n == 1) {
			*next = p.found;
			return 0;
		}
		if (p.n) {
			list_links(ls, l, keep_offhost, names, sizeof(names));
			snprintf(w->err, w->errlen,
				 "%s is a bridge with %u ports leading off the host: %s; say which one carries the migration network with uplink DEV",
				 l->ifname, p.n, names);
		} else {
			list_links(ls, l, keep_any, names, sizeof(names));
			snprintf(w->err, w->errlen,
				 "%s is a bridge without a port leading off the host (a NIC, bond or team, or a VLAN on one); its ports: %s; say which one leads off the host with uplink DEV (uplink %s: the bridge itself)",
				 l->ifname, names, l->ifname);
		}
		return -ENOTUNIQ;
	}
	if (!strcmp(l->kind, "openvswitch")) {
		list_links(ls, l, keep_offhost, names, sizeof(names));
		snprintf(w->err, w->errlen,
			 "%s is an Open vSwitch port: the datapath's flows decide where its traffic leaves; say where with uplink DEV (ports leading off the host: %s)",
			 l->ifname, names);
		return -ENOTUNIQ;
	}
	return 0;
}

struct slaves {
	struct mp_stack_dev *v;
	unsigned int *n;
};

static bool add_slave(const struct link *c, void *data)
{
	struct slaves *s = data;

	dev_add(s->v, s->n, c);
	return false;
}

/* The walk stopped at l: the queue and ring devices. */
static int stop_at(struct walk *w, const struct link *l)
{
	struct mp_stack *st = w->st;
	struct slaves qs = { st->queue, &st->nqueue };
	struct slaves rs = { st->rings, &st->nrings };
	static const char *const modes[] = {
		"balance-rr", "active-backup", "balance-xor", "broadcast",
		"802.3ad", "balance-tlb", "balance-alb",
	};
	size_t n = strlen(st->path);

	if (!aggregate(l)) {
		if (w->req->per_slave) {
			snprintf(w->err, w->errlen,
				 "per-slave needs a bond or team below %s; its queue goes on %s (%s)",
				 w->top->ifname, l->ifname, kind_name(l));
			return -EINVAL;
		}
		dev_add(st->queue, &st->nqueue, l);
		dev_add(st->rings, &st->nrings, l);
		return 0;
	}
	each_below(w->ls, l, add_slave, &rs);
	if (w->req->per_slave) {
		each_below(w->ls, l, add_slave, &qs);
		if (!st->nqueue) {
			snprintf(w->err, w->errlen,
				 "per-slave: %s has no slaves", l->ifname);
			return -ENODEV;
		}
	} else {
		dev_add(st->queue, &st->nqueue, l);
	}
	/* "bond0 (bond)" becomes "bond0 (bond active-backup: eno1 eno2)" */
	if (n && st->path[n - 1] == ')') {
		unsigned int i;

		n--;
		if (l->bond_mode >= 0 &&
		    l->bond_mode < (int)ARRAY_SIZE(modes))
			n += snprintf(st->path + n, sizeof(st->path) - n, " %s",
				      modes[l->bond_mode]);
		for (i = 0; i < st->nrings && n < sizeof(st->path); i++)
			n += snprintf(st->path + n, sizeof(st->path) - n, "%s%s",
				      i ? " " : ": ", st->rings[i].ifname);
		if (n < sizeof(st->path))
			snprintf(st->path + n, sizeof(st->path) - n, ")");
	}
	return 0;
}

static int walk(struct walk *w, const struct link *top)
{
	const struct link *l = top, *next;
	int depth, ret;

	for (depth = 0; depth <= WALK_DEPTH; depth++) {
		path_add(w, l);
		ret = step(w, l, &next);
		if (ret)
			return ret;
		if (!next)
			return stop_at(w, l);
		l = next;
	}
	snprintf(w->err, w->errlen, "%s: more than %d devices stacked",
		 top->ifname, WALK_DEPTH);
	return -ELOOP;
}

int mp_stack_walk(const struct mp_stack_req *req, struct mp_stack *st,
		  char *err, size_t errlen)
{
	struct walk w = { .req = req, .st = st, .err = err, .errlen = errlen };
	const struct link *top;
	struct links ls;
	int ret;

	memset(st, 0, sizeof(*st));
	err[0] = '\0';
	ret = links_load(&ls, err, errlen);
	if (ret)
		return ret;
	w.ls = &ls;
	top = find(&ls, req->ifindex);
	w.top = top;
	if (!top) {
		snprintf(err, errlen, "ifindex %u: no such device (gone?)",
			 req->ifindex);
		ret = -ENODEV;
		goto out;
	}
	ret = fill_below(&ls, top, st);
	if (ret) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	if (req->uplink) {
		w.uplink = find_name(&ls, req->uplink);
		if (!w.uplink) {
			snprintf(err, errlen, "cannot find uplink device \"%s\"",
				 req->uplink);
			ret = -ENODEV;
			goto out;
		}
		if (!mp_stack_is_below(st, w.uplink->ifindex)) {
			snprintf(err, errlen,
				 "uplink %s is not below %s (%s carries none of its traffic)",
				 req->uplink, top->ifname, req->uplink);
			ret = -EINVAL;
			goto out;
		}
	}
	ret = walk(&w, top);
out:
	free(ls.v);
	if (ret) {
		st->nqueue = 0;
		st->nrings = 0;
	}
	return ret;
}
