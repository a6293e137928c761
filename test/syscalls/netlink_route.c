/* netlink(7), rtnetlink(7): NETLINK_ROUTE dumps and errors, asked about
 * "lo" only (the host has more interfaces than the sandbox). */
#include "test.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/ioctl.h>
#include <unistd.h>

static int nl_open(int type) {
    return socket(AF_NETLINK, type | SOCK_CLOEXEC, NETLINK_ROUTE);
}

static void nl_send(int fd, int type, int flags, int family, unsigned seq) {
    struct {
        struct nlmsghdr h;
        struct ifaddrmsg a; /* large enough for rtgenmsg/ifinfomsg start */
        char pad[8];
    } req;
    memset(&req, 0, sizeof req);
    req.h.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifinfomsg));
    req.h.nlmsg_type = type;
    req.h.nlmsg_flags = flags;
    req.h.nlmsg_seq = seq;
    req.a.ifa_family = family;
    struct sockaddr_nl k = {.nl_family = AF_NETLINK};
    ASSERT_EQ(sendto(fd, &req, req.h.nlmsg_len, 0, (struct sockaddr *)&k, sizeof k), (ssize_t)req.h.nlmsg_len);
}

static char buf[1 << 16];

/* Reads the dump's datagrams until NLMSG_DONE, calling fn for each message. */
static void nl_dump(int fd, unsigned seq, void (*fn)(struct nlmsghdr *, void *), void *arg) {
    for (;;) {
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        ASSERT_GT(n, 0);
        for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
            EXPECT_EQ(h->nlmsg_seq, seq);
            ASSERT_NE(h->nlmsg_type, NLMSG_ERROR);
            if (h->nlmsg_type == NLMSG_DONE)
                return;
            EXPECT_TRUE(h->nlmsg_flags & NLM_F_MULTI);
            fn(h, arg);
        }
    }
}

struct found {
    int lo, v4, v6, idx;
};

static void link_fn(struct nlmsghdr *h, void *arg) {
    struct found *f = arg;
    EXPECT_EQ(h->nlmsg_type, RTM_NEWLINK);
    struct ifinfomsg *ifi = NLMSG_DATA(h);
    int len = IFLA_PAYLOAD(h);
    for (struct rtattr *a = IFLA_RTA(ifi); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
        if (a->rta_type == IFLA_IFNAME && strcmp(RTA_DATA(a), "lo") == 0) {
            f->lo = 1;
            EXPECT_EQ(ifi->ifi_index, (int)if_nametoindex("lo"));
            EXPECT_TRUE(ifi->ifi_flags & IFF_LOOPBACK);
            EXPECT_TRUE(ifi->ifi_flags & IFF_UP);
            EXPECT_EQ(ifi->ifi_type, 772 /* ARPHRD_LOOPBACK */);
        }
    }
}

TEST(netlink_route, RTM_GETLINK_dump_lists_lo_and_ends_with_NLMSG_DONE) {
    int types[] = {SOCK_RAW, SOCK_DGRAM};
    for (int i = 0; i < 2; i++) {
        int fd = ASSERT_SYSCALL_OK(nl_open(types[i]));
        nl_send(fd, RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP, AF_UNSPEC, 7);
        struct found f = {0};
        nl_dump(fd, 7, link_fn, &f);
        EXPECT_TRUE(f.lo);
        close(fd);
    }
}

static void addr_fn(struct nlmsghdr *h, void *arg) {
    struct found *f = arg;
    EXPECT_EQ(h->nlmsg_type, RTM_NEWADDR);
    struct ifaddrmsg *ifa = NLMSG_DATA(h);
    int len = IFA_PAYLOAD(h);
    for (struct rtattr *a = IFA_RTA(ifa); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
        if (a->rta_type != IFA_ADDRESS || (int)ifa->ifa_index != f->idx)
            continue;
        if (ifa->ifa_family == AF_INET && *(uint32_t *)RTA_DATA(a) == htonl(INADDR_LOOPBACK)) {
            f->v4 = 1;
            EXPECT_EQ(ifa->ifa_prefixlen, 8);
            EXPECT_EQ(ifa->ifa_scope, RT_SCOPE_HOST);
        }
        if (ifa->ifa_family == AF_INET6 && IN6_IS_ADDR_LOOPBACK((struct in6_addr *)RTA_DATA(a))) {
            f->v6 = 1;
            EXPECT_EQ(ifa->ifa_prefixlen, 128);
        }
    }
}

TEST(netlink_route, RTM_GETADDR_dump_filters_by_family) {
    int fd = ASSERT_SYSCALL_OK(nl_open(SOCK_RAW));
    struct found f = {.idx = (int)if_nametoindex("lo")};
    nl_send(fd, RTM_GETADDR, NLM_F_REQUEST | NLM_F_DUMP, AF_INET, 1);
    nl_dump(fd, 1, addr_fn, &f);
    EXPECT_TRUE(f.v4);
    EXPECT_FALSE(f.v6);
    f.v4 = f.v6 = 0;
    nl_send(fd, RTM_GETADDR, NLM_F_REQUEST | NLM_F_DUMP, AF_INET6, 2);
    nl_dump(fd, 2, addr_fn, &f);
    EXPECT_FALSE(f.v4);
    EXPECT_TRUE(f.v6);
}

static void route_fn(struct nlmsghdr *h, void *arg) {
    struct found *f = arg;
    EXPECT_EQ(h->nlmsg_type, RTM_NEWROUTE);
    struct rtmsg *rt = NLMSG_DATA(h);
    int len = RTM_PAYLOAD(h);
    int oif = 0;
    uint32_t dst = 0;
    for (struct rtattr *a = RTM_RTA(rt); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
        if (a->rta_type == RTA_OIF)
            oif = *(int *)RTA_DATA(a);
        if (a->rta_type == RTA_DST && rt->rtm_family == AF_INET)
            dst = *(uint32_t *)RTA_DATA(a);
    }
    if (rt->rtm_family == AF_INET && rt->rtm_type == RTN_LOCAL && rt->rtm_dst_len == 32 &&
        dst == htonl(INADDR_LOOPBACK) && oif == f->idx) {
        f->v4 = 1;
        EXPECT_EQ(rt->rtm_table, RT_TABLE_LOCAL);
    }
}

TEST(netlink_route, RTM_GETROUTE_dump_has_the_local_route_to_127_0_0_1) {
    int fd = ASSERT_SYSCALL_OK(nl_open(SOCK_RAW));
    struct found f = {.idx = (int)if_nametoindex("lo")};
    nl_send(fd, RTM_GETROUTE, NLM_F_REQUEST | NLM_F_DUMP, AF_INET, 3);
    nl_dump(fd, 3, route_fn, &f);
    EXPECT_TRUE(f.v4);
}

static int recv_error(int fd, unsigned seq) {
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    ASSERT_GE(n, (ssize_t)NLMSG_LENGTH(sizeof(struct nlmsgerr)));
    struct nlmsghdr *h = (struct nlmsghdr *)buf;
    EXPECT_EQ(h->nlmsg_type, NLMSG_ERROR);
    EXPECT_EQ(h->nlmsg_seq, seq);
    struct nlmsgerr *e = NLMSG_DATA(h);
    EXPECT_EQ(e->msg.nlmsg_seq, seq);
    return e->error;
}

TEST(netlink_route, unknown_type_is_answered_with_EOPNOTSUPP) {
    int fd = ASSERT_SYSCALL_OK(nl_open(SOCK_RAW));
    nl_send(fd, RTM_MAX + 10, NLM_F_REQUEST, AF_UNSPEC, 9);
    EXPECT_EQ(recv_error(fd, 9), -EOPNOTSUPP);
}

TEST(netlink_route, NLM_F_ACK_on_a_message_without_NLM_F_REQUEST_acks_with_0) {
    int fd = ASSERT_SYSCALL_OK(nl_open(SOCK_RAW));
    nl_send(fd, RTM_GETLINK, NLM_F_ACK, AF_UNSPEC, 4);
    EXPECT_EQ(recv_error(fd, 4), 0);
    /* Nothing else was queued. */
    EXPECT_ERRNO(recv(fd, buf, sizeof buf, MSG_DONTWAIT), EAGAIN);
}

TEST(netlink_route, RTM_GETLINK_by_index_returns_one_message) {
    int fd = ASSERT_SYSCALL_OK(nl_open(SOCK_RAW));
    struct {
        struct nlmsghdr h;
        struct ifinfomsg i;
    } req = {.h = {.nlmsg_len = sizeof req, .nlmsg_type = RTM_GETLINK, .nlmsg_flags = NLM_F_REQUEST, .nlmsg_seq = 5},
             .i = {.ifi_index = (int)if_nametoindex("lo")}};
    ASSERT_EQ(send(fd, &req, sizeof req, 0), (ssize_t)sizeof req);
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    ASSERT_GT(n, 0);
    struct nlmsghdr *h = (struct nlmsghdr *)buf;
    EXPECT_EQ(h->nlmsg_type, RTM_NEWLINK);
    EXPECT_EQ(((struct ifinfomsg *)NLMSG_DATA(h))->ifi_index, req.i.ifi_index);
    req.i.ifi_index = 0x7ffffff0;
    req.h.nlmsg_seq = 6;
    ASSERT_EQ(send(fd, &req, sizeof req, 0), (ssize_t)sizeof req);
    EXPECT_EQ(recv_error(fd, 6), -ENODEV);
}

TEST(netlink_route, MSG_PEEK_MSG_TRUNC_reports_the_whole_datagram) {
    int fd = ASSERT_SYSCALL_OK(nl_open(SOCK_RAW));
    nl_send(fd, RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP, AF_UNSPEC, 8);
    char small[4];
    ssize_t whole = recv(fd, small, sizeof small, MSG_PEEK | MSG_TRUNC);
    ASSERT_GT(whole, (ssize_t)sizeof small);
    struct iovec iov = {buf, 8};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
    EXPECT_EQ(recvmsg(fd, &m, MSG_PEEK), 8);
    EXPECT_TRUE(m.msg_flags & MSG_TRUNC);
    EXPECT_EQ(recv(fd, buf, sizeof buf, 0), whole);
}

TEST(netlink_route, bind_and_getsockname_report_the_port) {
    int fd = ASSERT_SYSCALL_OK(nl_open(SOCK_RAW));
    struct sockaddr_nl a = {.nl_family = AF_NETLINK};
    socklen_t len = sizeof a;
    ASSERT_SYSCALL_OK(getsockname(fd, (struct sockaddr *)&a, &len));
    EXPECT_EQ(len, sizeof a);
    EXPECT_EQ(a.nl_family, AF_NETLINK);
    EXPECT_EQ(a.nl_pid, 0);
    a.nl_pid = 0;
    ASSERT_SYSCALL_OK(bind(fd, (struct sockaddr *)&a, sizeof a));
    ASSERT_SYSCALL_OK(getsockname(fd, (struct sockaddr *)&a, &len));
    EXPECT_NE(a.nl_pid, 0);
    /* A second socket cannot take the same port. */
    int fd2 = ASSERT_SYSCALL_OK(nl_open(SOCK_RAW));
    EXPECT_ERRNO(bind(fd2, (struct sockaddr *)&a, sizeof a), EADDRINUSE);
    EXPECT_ERRNO(bind(fd2, (struct sockaddr *)&a, 4), EINVAL);
}

TEST(netlink_route, socket_options_iproute2_sets_are_accepted) {
    int fd = ASSERT_SYSCALL_OK(nl_open(SOCK_RAW));
    int one = 1, v = 32768;
    EXPECT_SYSCALL_OK(setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof v));
    EXPECT_SYSCALL_OK(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof v));
    EXPECT_SYSCALL_OK(setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof one));
    EXPECT_SYSCALL_OK(setsockopt(fd, SOL_NETLINK, NETLINK_GET_STRICT_CHK, &one, sizeof one));
    int got = 0;
    socklen_t len = sizeof got;
    EXPECT_SYSCALL_OK(getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &got, &len));
    EXPECT_EQ(got, 2 * v);
    EXPECT_SYSCALL_OK(getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &got, &len));
    EXPECT_EQ(got, NETLINK_ROUTE);
}

TEST(netlink_route, bad_protocol_and_type_are_refused) {
    EXPECT_ERRNO(socket(AF_NETLINK, SOCK_RAW, 32), EPROTONOSUPPORT);
    EXPECT_ERRNO(socket(AF_NETLINK, SOCK_STREAM, NETLINK_ROUTE), ESOCKTNOSUPPORT);
}

TEST(netlink_route, truncated_and_oversized_headers_are_ignored) {
    int fd = ASSERT_SYSCALL_OK(nl_open(SOCK_RAW));
    struct nlmsghdr h = {.nlmsg_len = 4096, .nlmsg_type = RTM_GETLINK,
                         .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP | NLM_F_ACK};
    EXPECT_EQ(send(fd, &h, sizeof h, 0), (ssize_t)sizeof h);
    h.nlmsg_len = 3;
    EXPECT_EQ(send(fd, &h, sizeof h, 0), (ssize_t)sizeof h);
    EXPECT_EQ(send(fd, &h, 5, 0), 5);
    EXPECT_ERRNO(recv(fd, buf, sizeof buf, MSG_DONTWAIT), EAGAIN);
}

TEST(netlink_route, netdevice_ioctls_work_on_a_netlink_socket) {
    int fd = ASSERT_SYSCALL_OK(nl_open(SOCK_RAW));
    struct ifreq r;
    memset(&r, 0, sizeof r);
    strcpy(r.ifr_name, "lo");
    EXPECT_SYSCALL_OK(ioctl(fd, SIOCGIFINDEX, &r));
    EXPECT_EQ(r.ifr_ifindex, (int)if_nametoindex("lo"));
}

TEST(netlink_route, getifaddrs_reports_lo_with_its_addresses) {
    struct ifaddrs *ifa;
    ASSERT_SYSCALL_OK(getifaddrs(&ifa));
    int v4 = 0, v6 = 0;
    for (struct ifaddrs *p = ifa; p; p = p->ifa_next) {
        if (strcmp(p->ifa_name, "lo") != 0 || !p->ifa_addr)
            continue;
        EXPECT_TRUE(p->ifa_flags & IFF_LOOPBACK);
        EXPECT_TRUE(p->ifa_flags & IFF_UP);
        if (p->ifa_addr->sa_family == AF_INET) {
            struct sockaddr_in *sin = (struct sockaddr_in *)p->ifa_addr;
            struct sockaddr_in *m = (struct sockaddr_in *)p->ifa_netmask;
            if (ntohl(sin->sin_addr.s_addr) == INADDR_LOOPBACK) {
                v4 = 1;
                EXPECT_EQ(ntohl(m->sin_addr.s_addr), 0xff000000u);
            }
        }
        if (p->ifa_addr->sa_family == AF_INET6 &&
            IN6_IS_ADDR_LOOPBACK(&((struct sockaddr_in6 *)p->ifa_addr)->sin6_addr))
            v6 = 1;
    }
    freeifaddrs(ifa);
    EXPECT_TRUE(v4);
    EXPECT_TRUE(v6);
}
