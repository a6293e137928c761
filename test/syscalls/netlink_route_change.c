/* rtnetlink(7) requests that change the network stack: RTM_NEWADDR and
 * RTM_DELADDR, RTM_NEWROUTE and RTM_DELROUTE, RTM_NEWLINK (IFF_UP, MTU).
 * Natively each case changes a network namespace of its own
 * (unshare(CLONE_NEWNET), as root); in the sandbox, whose stack is its
 * own and where CLONE_NEWNET is not implemented, the sandbox's, and each
 * case undoes what it did. Addresses are 10.9.x.x and fd00:9::/32 on lo. */
#include "test.h"

#include <arpa/inet.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

struct req {
    struct nlmsghdr h;
    char body[512];
};

static void req_init(struct req *r, int type, int flags, const void *hdr, size_t len) {
    memset(r, 0, sizeof *r);
    r->h.nlmsg_len = NLMSG_LENGTH(len);
    r->h.nlmsg_type = type;
    r->h.nlmsg_flags = NLM_F_REQUEST | flags;
    r->h.nlmsg_seq = 42;
    memcpy(NLMSG_DATA(&r->h), hdr, len);
}

static void req_attr(struct req *r, int type, const void *data, int len) {
    struct rtattr *a = (struct rtattr *)((char *)&r->h + NLMSG_ALIGN(r->h.nlmsg_len));
    a->rta_type = type;
    a->rta_len = RTA_LENGTH(len);
    memcpy(RTA_DATA(a), data, len);
    r->h.nlmsg_len = NLMSG_ALIGN(r->h.nlmsg_len) + RTA_ALIGN(a->rta_len);
}

static char buf[1 << 16];

/* Sends r on a fresh socket and returns the NLMSG_ERROR's error (0: an
 * acknowledgement); 1 if another reply came first. */
static int nl_talk(struct req *r) {
    int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (fd < 0)
        return -1000 - errno;
    r->h.nlmsg_flags |= NLM_F_ACK;
    if (send(fd, r, r->h.nlmsg_len, 0) != (ssize_t)r->h.nlmsg_len) {
        close(fd);
        return -2000 - errno;
    }
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    close(fd);
    struct nlmsghdr *h = (struct nlmsghdr *)buf;
    if (n < (ssize_t)NLMSG_LENGTH(sizeof(struct nlmsgerr)) || h->nlmsg_type != NLMSG_ERROR)
        return 1;
    if (h->nlmsg_seq != 42)
        return 2;
    return ((struct nlmsgerr *)NLMSG_DATA(h))->error;
}

static int lo_index(void) { return if_nametoindex("lo"); }

static int set_link(int index, unsigned flags, unsigned change, int mtu) {
    struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC, .ifi_index = index, .ifi_flags = flags, .ifi_change = change};
    struct req r;
    req_init(&r, RTM_NEWLINK, 0, &ifi, sizeof ifi);
    if (mtu)
        req_attr(&r, IFLA_MTU, &mtu, 4);
    return nl_talk(&r);
}

/* Gives the case a network stack it may change, with lo up; skips
 * without the privilege to. */
static void private_net(void) {
    if (geteuid() != 0)
        TEST_SKIP("changing the network needs CAP_NET_ADMIN");
    if (!test_in_sandbox())
        ASSERT_SYSCALL_OK(unshare(CLONE_NEWNET));
    ASSERT_EQ(set_link(lo_index(), IFF_UP, IFF_UP, 0), 0);
}

static int addr(int type, int flags, int family, const char *a, int plen, int index) {
    /* IFA_F_NODAD: usable at once, not tentative. */
    struct ifaddrmsg ifa = {.ifa_family = family, .ifa_prefixlen = plen, .ifa_index = index,
                            .ifa_flags = family == AF_INET6 ? IFA_F_NODAD : 0};
    struct req r;
    req_init(&r, type, flags, &ifa, sizeof ifa);
    unsigned char raw[16];
    ASSERT_EQ(inet_pton(family, a, raw), 1);
    int len = family == AF_INET ? 4 : 16;
    req_attr(&r, IFA_LOCAL, raw, len);
    req_attr(&r, IFA_ADDRESS, raw, len);
    return nl_talk(&r);
}

static int route(int type, int flags, int family, const char *dst, int plen, const char *gw, int oif) {
    struct rtmsg rt = {.rtm_family = family, .rtm_dst_len = plen, .rtm_table = RT_TABLE_MAIN,
                       .rtm_protocol = RTPROT_BOOT, .rtm_scope = gw ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK,
                       .rtm_type = RTN_UNICAST};
    if (type == RTM_DELROUTE) {
        rt.rtm_scope = RT_SCOPE_NOWHERE;
        rt.rtm_protocol = 0;
    }
    struct req r;
    req_init(&r, type, flags, &rt, sizeof rt);
    unsigned char raw[16];
    int len = family == AF_INET ? 4 : 16;
    ASSERT_EQ(inet_pton(family, dst, raw), 1);
    req_attr(&r, RTA_DST, raw, len);
    if (gw) {
        ASSERT_EQ(inet_pton(family, gw, raw), 1);
        req_attr(&r, RTA_GATEWAY, raw, len);
    }
    if (oif)
        req_attr(&r, RTA_OIF, &oif, 4);
    return nl_talk(&r);
}

/* bind(2) of a TCP socket to a, port 0: 0 or the errno. */
static int bind_to(int family, const char *a) {
    int s = socket(family, SOCK_STREAM, 0);
    struct sockaddr_in6 a6 = {.sin6_family = AF_INET6};
    struct sockaddr_in a4 = {.sin_family = AF_INET};
    int ok = family == AF_INET ? inet_pton(AF_INET, a, &a4.sin_addr) : inet_pton(AF_INET6, a, &a6.sin6_addr);
    if (s < 0 || ok != 1)
        return -1;
    int r = family == AF_INET ? bind(s, (struct sockaddr *)&a4, sizeof a4) : bind(s, (struct sockaddr *)&a6, sizeof a6);
    int e = r == 0 ? 0 : errno;
    close(s);
    return e;
}

/* connect(2) of a UDP socket to a:9: 0 or the errno (routing only). */
static int udp_connect(const char *a) {
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(9)};
    inet_pton(AF_INET, a, &sa.sin_addr);
    int r = connect(s, (struct sockaddr *)&sa, sizeof sa);
    int e = r == 0 ? 0 : errno;
    close(s);
    return e;
}

TEST(rtnetlink_change, RTM_NEWADDR_adds_an_IPv4_address_a_socket_can_bind_and_RTM_DELADDR_removes_it) {
    private_net();
    EXPECT_EQ(bind_to(AF_INET, "10.9.1.9"), EADDRNOTAVAIL);
    ASSERT_EQ(addr(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, AF_INET, "10.9.1.9", 24, lo_index()), 0);
    EXPECT_EQ(bind_to(AF_INET, "10.9.1.9"), 0);
    EXPECT_EQ(addr(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, AF_INET, "10.9.1.9", 24, lo_index()), -EEXIST);
    EXPECT_EQ(addr(RTM_DELADDR, 0, AF_INET, "10.9.1.9", 24, lo_index()), 0);
    EXPECT_EQ(bind_to(AF_INET, "10.9.1.9"), EADDRNOTAVAIL);
    EXPECT_EQ(addr(RTM_DELADDR, 0, AF_INET, "10.9.1.9", 24, lo_index()), -EADDRNOTAVAIL);
}

TEST(rtnetlink_change, RTM_NEWADDR_adds_an_IPv6_address_and_RTM_DELADDR_removes_it) {
    private_net();
    EXPECT_EQ(bind_to(AF_INET6, "fd00:9::9"), EADDRNOTAVAIL);
    ASSERT_EQ(addr(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, AF_INET6, "fd00:9::9", 64, lo_index()), 0);
    EXPECT_EQ(bind_to(AF_INET6, "fd00:9::9"), 0);
    EXPECT_EQ(addr(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, AF_INET6, "fd00:9::9", 64, lo_index()), -EEXIST);
    EXPECT_EQ(addr(RTM_DELADDR, 0, AF_INET6, "fd00:9::9", 64, lo_index()), 0);
    EXPECT_EQ(bind_to(AF_INET6, "fd00:9::9"), EADDRNOTAVAIL);
    EXPECT_EQ(addr(RTM_DELADDR, 0, AF_INET6, "fd00:9::9", 64, lo_index()), -EADDRNOTAVAIL);
}

TEST(rtnetlink_change, RTM_NEWADDR_on_a_missing_interface_is_ENODEV_a_long_prefix_EINVAL) {
    private_net();
    EXPECT_EQ(addr(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, AF_INET, "10.9.2.9", 24, 9999), -ENODEV);
    EXPECT_EQ(addr(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, AF_INET, "10.9.2.9", 33, lo_index()), -EINVAL);
    EXPECT_EQ(addr(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, AF_INET6, "fd00:9::2", 129, lo_index()), -EINVAL);
    EXPECT_EQ(addr(RTM_DELADDR, 0, AF_INET, "10.9.2.9", 24, 9999), -ENODEV);
}

TEST(rtnetlink_change, RTM_NEWADDR_without_an_address_is_EINVAL) {
    private_net();
    struct ifaddrmsg ifa = {.ifa_family = AF_INET, .ifa_prefixlen = 24, .ifa_index = lo_index()};
    struct req r;
    req_init(&r, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, &ifa, sizeof ifa);
    EXPECT_EQ(nl_talk(&r), -EINVAL);
}

TEST(rtnetlink_change, RTM_NEWROUTE_makes_a_destination_reachable_and_RTM_DELROUTE_unreachable_again) {
    private_net();
    if (udp_connect("10.9.8.1") == 0)
        TEST_SKIP("a default route reaches 10.9.8.1 (runsc do with its NAT); --network=none has none");
    EXPECT_EQ(udp_connect("10.9.8.1"), ENETUNREACH);
    ASSERT_EQ(route(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, AF_INET, "10.9.8.0", 24, NULL, lo_index()), 0);
    EXPECT_EQ(udp_connect("10.9.8.1"), 0);
    EXPECT_EQ(route(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, AF_INET, "10.9.8.0", 24, NULL, lo_index()), -EEXIST);
    EXPECT_EQ(route(RTM_DELROUTE, 0, AF_INET, "10.9.8.0", 24, NULL, 0), 0);
    EXPECT_EQ(udp_connect("10.9.8.1"), ENETUNREACH);
    EXPECT_EQ(route(RTM_DELROUTE, 0, AF_INET, "10.9.8.0", 24, NULL, 0), -ESRCH);
}

TEST(rtnetlink_change, RTM_NEWROUTE_via_a_gateway_on_an_address_prefix) {
    private_net();
    ASSERT_EQ(addr(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, AF_INET, "10.9.3.9", 24, lo_index()), 0);
    EXPECT_EQ(route(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, AF_INET, "10.9.7.0", 24, "10.9.3.1", 0), 0);
    EXPECT_EQ(udp_connect("10.9.7.1"), 0);
    EXPECT_EQ(route(RTM_DELROUTE, 0, AF_INET, "10.9.7.0", 24, NULL, 0), 0);
    EXPECT_EQ(addr(RTM_DELADDR, 0, AF_INET, "10.9.3.9", 24, lo_index()), 0);
}

TEST(rtnetlink_change, RTM_NEWROUTE_without_a_device_is_ENODEV_through_an_unreachable_gateway_ENETUNREACH) {
    private_net();
    EXPECT_EQ(route(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, AF_INET, "10.9.6.0", 24, NULL, 0), -ENODEV);
    EXPECT_EQ(route(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, AF_INET, "10.9.6.0", 24, NULL, 9999), -ENODEV);
    EXPECT_EQ(route(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, AF_INET, "10.9.6.0", 24, "10.99.0.1", 0), -ENETUNREACH);
    EXPECT_EQ(route(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, AF_INET, "10.9.6.0", 33, NULL, lo_index()), -EINVAL);
}

/* The MTU RTM_GETLINK reports for lo. */
static int lo_mtu(void) {
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    strcpy(ifr.ifr_name, "lo");
    int r = ioctl(fd, SIOCGIFMTU, &ifr);
    close(fd);
    return r == 0 ? ifr.ifr_mtu : -errno;
}

static int lo_flags(void) {
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    strcpy(ifr.ifr_name, "lo");
    int r = ioctl(fd, SIOCGIFFLAGS, &ifr);
    close(fd);
    return r == 0 ? ifr.ifr_flags : -errno;
}

TEST(rtnetlink_change, RTM_NEWLINK_sets_the_MTU) {
    private_net();
    int old = lo_mtu();
    ASSERT_GT(old, 0);
    EXPECT_EQ(set_link(lo_index(), 0, 0, 1500), 0);
    EXPECT_EQ(lo_mtu(), 1500);
    EXPECT_EQ(set_link(lo_index(), 0, 0, old), 0);
    EXPECT_EQ(lo_mtu(), old);
    EXPECT_EQ(set_link(9999, 0, 0, 1500), -ENODEV);
}

TEST(rtnetlink_change, a_link_set_down_drops_what_is_sent_through_it) {
    private_net();
    int r = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_DGRAM, 0));
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    ASSERT_SYSCALL_OK(bind(r, (struct sockaddr *)&a, sizeof a));
    ASSERT_SYSCALL_OK(getsockname(r, (struct sockaddr *)&a, &len));
    int s = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_DGRAM, 0));

    ASSERT_EQ(set_link(lo_index(), 0, IFF_UP, 0), 0);
    EXPECT_EQ(lo_flags() & IFF_UP, 0);
    /* The send succeeds; the datagram is dropped by the device. */
    EXPECT_EQ(sendto(s, "A", 1, 0, (struct sockaddr *)&a, sizeof a), 1);
    ASSERT_EQ(set_link(lo_index(), IFF_UP, IFF_UP, 0), 0);
    EXPECT_TRUE(lo_flags() & IFF_UP);
    EXPECT_EQ(sendto(s, "B", 1, 0, (struct sockaddr *)&a, sizeof a), 1);
    char c = 0;
    EXPECT_EQ(recv(r, &c, 1, 0), 1);
    EXPECT_EQ(c, 'B');
}

TEST(rtnetlink_change, changes_without_CAP_NET_ADMIN_are_EPERM) {
    if (geteuid() == 0)
        ASSERT_SYSCALL_OK(setresuid(65534, 65534, 65534));
    EXPECT_EQ(addr(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, AF_INET, "10.9.4.9", 24, lo_index()), -EPERM);
    EXPECT_EQ(route(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, AF_INET, "10.9.4.0", 24, NULL, lo_index()), -EPERM);
    EXPECT_EQ(set_link(lo_index(), 0, 0, 1500), -EPERM);
}

TEST(rtnetlink_change, an_acknowledgement_is_sent_only_with_NLM_F_ACK) {
    private_net();
    int fd = ASSERT_SYSCALL_OK(socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE));
    struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC, .ifi_index = lo_index(), .ifi_flags = IFF_UP, .ifi_change = IFF_UP};
    struct req r;
    req_init(&r, RTM_NEWLINK, 0, &ifi, sizeof ifi);
    ASSERT_EQ(send(fd, &r, r.h.nlmsg_len, 0), (ssize_t)r.h.nlmsg_len);
    /* A request that needs no answer, then a dump: the dump's reply
     * comes first. */
    struct {
        struct nlmsghdr h;
        struct rtgenmsg g;
    } d = {{NLMSG_LENGTH(sizeof(struct rtgenmsg)), RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP, 43, 0}, {AF_PACKET}};
    ASSERT_EQ(send(fd, &d, d.h.nlmsg_len, 0), (ssize_t)d.h.nlmsg_len);
    /* Linux answers while send runs: the reply is queued already. */
    ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    struct nlmsghdr *h = (struct nlmsghdr *)buf;
    ASSERT_GT(n, 0);
    EXPECT_EQ(h->nlmsg_seq, 43u);
    EXPECT_NE(h->nlmsg_type, NLMSG_ERROR);
}

/* Reads one message from a group member: its type; *a gets IFA_LOCAL. */
static int next_addr_event(int fd, struct in_addr *a, struct ifaddrmsg *out) {
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    struct nlmsghdr *h = (struct nlmsghdr *)buf;
    if (n <= 0 || !NLMSG_OK(h, (size_t)n))
        return -1;
    if (h->nlmsg_type == RTM_NEWADDR || h->nlmsg_type == RTM_DELADDR) {
        struct ifaddrmsg *ifa = NLMSG_DATA(h);
        *out = *ifa;
        int len = IFA_PAYLOAD(h);
        for (struct rtattr *at = IFA_RTA(ifa); RTA_OK(at, len); at = RTA_NEXT(at, len))
            if (at->rta_type == IFA_LOCAL && RTA_PAYLOAD(at) == 4)
                memcpy(a, RTA_DATA(at), 4);
    }
    return h->nlmsg_type;
}

TEST(rtnetlink_change, members_of_RTMGRP_IPV4_IFADDR_are_told_of_added_and_deleted_addresses) {
    private_net();
    int fd = ASSERT_SYSCALL_OK(socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE));
    struct sockaddr_nl sa = {.nl_family = AF_NETLINK, .nl_groups = RTMGRP_IPV4_IFADDR};
    ASSERT_SYSCALL_OK(bind(fd, (struct sockaddr *)&sa, sizeof sa));
    ASSERT_EQ(addr(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, AF_INET, "10.9.5.9", 24, lo_index()), 0);
    struct in_addr a = {0};
    struct ifaddrmsg ifa;
    EXPECT_EQ(next_addr_event(fd, &a, &ifa), RTM_NEWADDR);
    EXPECT_EQ(a.s_addr, inet_addr("10.9.5.9"));
    EXPECT_EQ(ifa.ifa_prefixlen, 24);
    EXPECT_EQ((int)ifa.ifa_index, lo_index());
    ASSERT_EQ(addr(RTM_DELADDR, 0, AF_INET, "10.9.5.9", 24, lo_index()), 0);
    a.s_addr = 0;
    EXPECT_EQ(next_addr_event(fd, &a, &ifa), RTM_DELADDR);
    EXPECT_EQ(a.s_addr, inet_addr("10.9.5.9"));
}

TEST(rtnetlink_change, NETLINK_ADD_MEMBERSHIP_of_RTNLGRP_LINK_tells_of_an_MTU_change_and_group_0_is_EINVAL) {
    private_net();
    int fd = ASSERT_SYSCALL_OK(socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE));
    /* Bound: the kernel's broadcasts leave out port 0. */
    struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
    ASSERT_SYSCALL_OK(bind(fd, (struct sockaddr *)&sa, sizeof sa));
    int g = 0;
    EXPECT_ERRNO(setsockopt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &g, sizeof g), EINVAL);
    g = RTNLGRP_LINK;
    ASSERT_SYSCALL_OK(setsockopt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &g, sizeof g));
    int old = lo_mtu();
    ASSERT_EQ(set_link(lo_index(), 0, 0, 1400), 0);
    ssize_t n = ASSERT_SYSCALL_OK(recv(fd, buf, sizeof buf, 0));
    struct nlmsghdr *h = (struct nlmsghdr *)buf;
    ASSERT_TRUE(NLMSG_OK(h, (size_t)n));
    EXPECT_EQ(h->nlmsg_type, RTM_NEWLINK);
    struct ifinfomsg *ifi = NLMSG_DATA(h);
    EXPECT_EQ(ifi->ifi_index, lo_index());
    int mtu = 0, len = IFLA_PAYLOAD(h);
    for (struct rtattr *at = IFLA_RTA(ifi); RTA_OK(at, len); at = RTA_NEXT(at, len))
        if (at->rta_type == IFLA_MTU)
            memcpy(&mtu, RTA_DATA(at), 4);
    EXPECT_EQ(mtu, 1400);
    EXPECT_EQ(set_link(lo_index(), 0, 0, old), 0);
}
