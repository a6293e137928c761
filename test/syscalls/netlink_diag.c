/* sock_diag(7): NETLINK_SOCK_DIAG's SOCK_DIAG_BY_FAMILY for AF_INET and
 * AF_INET6 TCP and UDP sockets (what ss(8) asks), checked on sockets the
 * case makes on loopback. The host has other sockets: each case looks for
 * its own by inode. */
#include "test.h"

#include <arpa/inet.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define ALL_STATES 0xffffffffu

static int diag_open(void) {
    return socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
}

static void diag_send(int fd, int flags, int family, int proto, unsigned states, unsigned seq,
                      const struct inet_diag_sockid *id, int len) {
    struct {
        struct nlmsghdr h;
        struct inet_diag_req_v2 r;
    } req;
    memset(&req, 0, sizeof req);
    req.h.nlmsg_len = len ? (unsigned)len : sizeof req;
    req.h.nlmsg_type = SOCK_DIAG_BY_FAMILY;
    req.h.nlmsg_flags = flags;
    req.h.nlmsg_seq = seq;
    req.r.sdiag_family = family;
    req.r.sdiag_protocol = proto;
    req.r.idiag_states = states;
    req.r.idiag_ext = 1 << (INET_DIAG_INFO - 1);
    if (id)
        req.r.id = *id;
    struct sockaddr_nl k = {.nl_family = AF_NETLINK};
    ASSERT_EQ(sendto(fd, &req, req.h.nlmsg_len, 0, (struct sockaddr *)&k, sizeof k), (ssize_t)req.h.nlmsg_len);
}

static char buf[1 << 16];

/* Reads a dump to NLMSG_DONE; copies the message of inode ino to *out (if
 * found) and returns how many messages had that inode; *err gets an
 * NLMSG_ERROR's error, if one came instead. */
static int diag_find(int fd, unsigned seq, ino_t ino, struct inet_diag_msg *out, int *err) {
    int found = 0;
    *err = 0;
    for (;;) {
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        ASSERT_GT(n, 0);
        for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
            EXPECT_EQ(h->nlmsg_seq, seq);
            if (h->nlmsg_type == NLMSG_ERROR) {
                *err = ((struct nlmsgerr *)NLMSG_DATA(h))->error;
                return found;
            }
            if (h->nlmsg_type == NLMSG_DONE) {
                /* A dump that failed once started says so in NLMSG_DONE. */
                if (h->nlmsg_len >= NLMSG_LENGTH(sizeof(int)))
                    *err = *(int *)NLMSG_DATA(h);
                return found;
            }
            ASSERT_EQ(h->nlmsg_type, SOCK_DIAG_BY_FAMILY);
            ASSERT_GE(h->nlmsg_len, NLMSG_LENGTH(sizeof(struct inet_diag_msg)));
            struct inet_diag_msg *m = NLMSG_DATA(h);
            if (m->idiag_inode == ino) {
                found++;
                *out = *m;
            }
        }
    }
}

static ino_t inode_of(int fd) {
    struct stat st;
    if (fstat(fd, &st) != 0)
        return 0;
    return st.st_ino;
}

/* dump_one dumps family/proto with states and returns how often fd's
 * socket was listed, its message in *m. */
static int dump_one(int family, int proto, unsigned states, int sock, struct inet_diag_msg *m) {
    int fd = diag_open();
    if (fd < 0)
        return -1;
    diag_send(fd, NLM_F_REQUEST | NLM_F_DUMP, family, proto, states, 11, NULL, 0);
    int err;
    int n = diag_find(fd, 11, inode_of(sock), m, &err);
    EXPECT_EQ(err, 0);
    close(fd);
    return n;
}

static int tcp_listener(int family, uint16_t *port) {
    int s = socket(family, SOCK_STREAM, 0);
    if (s < 0)
        return -1;
    struct sockaddr_in6 a6 = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
    struct sockaddr_in a4 = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    struct sockaddr *a = family == AF_INET ? (struct sockaddr *)&a4 : (struct sockaddr *)&a6;
    socklen_t len = family == AF_INET ? sizeof a4 : sizeof a6;
    if (bind(s, a, len) != 0 || listen(s, 7) != 0 || getsockname(s, a, &len) != 0)
        return -1;
    *port = ntohs(family == AF_INET ? a4.sin_port : a6.sin6_port);
    return s;
}

TEST(sock_diag, tcp_dump_lists_a_listener_with_its_port_uid_and_inode) {
    uint16_t port;
    int l = ASSERT_SYSCALL_OK(tcp_listener(AF_INET, &port));
    struct inet_diag_msg m;
    ASSERT_EQ(dump_one(AF_INET, IPPROTO_TCP, ALL_STATES, l, &m), 1);
    EXPECT_EQ(m.idiag_family, AF_INET);
    EXPECT_EQ(m.idiag_state, TCP_LISTEN);
    EXPECT_EQ(ntohs(m.id.idiag_sport), port);
    EXPECT_EQ(m.id.idiag_dport, 0);
    EXPECT_EQ(m.id.idiag_src[0], htonl(INADDR_LOOPBACK));
    EXPECT_EQ(m.id.idiag_dst[0], 0u);
    EXPECT_EQ(m.idiag_uid, geteuid());
    EXPECT_EQ(m.idiag_wqueue, 7u); /* a listener's backlog */
    EXPECT_EQ(m.idiag_rqueue, 0u);
}

TEST(sock_diag, tcp_dump_lists_both_ends_of_a_connection_established_with_their_queues) {
    uint16_t port;
    int l = ASSERT_SYSCALL_OK(tcp_listener(AF_INET, &port));
    int c = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_STREAM, 0));
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    ASSERT_SYSCALL_OK(connect(c, (struct sockaddr *)&a, sizeof a));
    int s = ASSERT_SYSCALL_OK(accept(l, NULL, NULL));
    char data[100] = {1};
    ASSERT_EQ(write(c, data, sizeof data), (ssize_t)sizeof data);
    struct pollfd p = {.fd = s, .events = POLLIN};
    ASSERT_EQ(poll(&p, 1, 10000), 1);

    struct inet_diag_msg mc, ms;
    ASSERT_EQ(dump_one(AF_INET, IPPROTO_TCP, ALL_STATES, c, &mc), 1);
    ASSERT_EQ(dump_one(AF_INET, IPPROTO_TCP, ALL_STATES, s, &ms), 1);
    EXPECT_EQ(mc.idiag_state, TCP_ESTABLISHED);
    EXPECT_EQ(ms.idiag_state, TCP_ESTABLISHED);
    EXPECT_EQ(ntohs(mc.id.idiag_dport), port);
    EXPECT_EQ(ntohs(ms.id.idiag_sport), port);
    EXPECT_EQ(mc.id.idiag_sport, ms.id.idiag_dport);
    EXPECT_EQ(ms.idiag_rqueue, sizeof data);
    EXPECT_EQ(mc.idiag_rqueue, 0u);
}

TEST(sock_diag, the_state_filter_leaves_out_sockets_in_other_states) {
    uint16_t port;
    int l = ASSERT_SYSCALL_OK(tcp_listener(AF_INET, &port));
    int c = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_STREAM, 0));
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    ASSERT_SYSCALL_OK(connect(c, (struct sockaddr *)&a, sizeof a));
    struct inet_diag_msg m;
    EXPECT_EQ(dump_one(AF_INET, IPPROTO_TCP, 1u << TCP_LISTEN, l, &m), 1);
    EXPECT_EQ(dump_one(AF_INET, IPPROTO_TCP, 1u << TCP_LISTEN, c, &m), 0);
    EXPECT_EQ(dump_one(AF_INET, IPPROTO_TCP, 1u << TCP_ESTABLISHED, l, &m), 0);
    EXPECT_EQ(dump_one(AF_INET, IPPROTO_TCP, 1u << TCP_ESTABLISHED, c, &m), 1);
}

TEST(sock_diag, a_tcp_socket_neither_listening_nor_connected_is_not_listed) {
    int s = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_STREAM, 0));
    struct inet_diag_msg m;
    EXPECT_EQ(dump_one(AF_INET, IPPROTO_TCP, ALL_STATES, s, &m), 0);
}

TEST(sock_diag, tcp6_dump_lists_an_AF_INET6_listener_and_the_AF_INET_dump_does_not) {
    uint16_t port;
    int l = ASSERT_SYSCALL_OK(tcp_listener(AF_INET6, &port));
    struct inet_diag_msg m;
    ASSERT_EQ(dump_one(AF_INET6, IPPROTO_TCP, ALL_STATES, l, &m), 1);
    EXPECT_EQ(m.idiag_family, AF_INET6);
    EXPECT_EQ(m.idiag_state, TCP_LISTEN);
    EXPECT_EQ(ntohs(m.id.idiag_sport), port);
    struct in6_addr lo = IN6ADDR_LOOPBACK_INIT;
    EXPECT_MEMEQ(m.id.idiag_src, &lo, 16);
    EXPECT_EQ(dump_one(AF_INET, IPPROTO_TCP, ALL_STATES, l, &m), 0);
}

TEST(sock_diag, udp_dump_shows_a_bound_socket_closed_and_a_connected_one_established) {
    int u = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_DGRAM, 0));
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    ASSERT_SYSCALL_OK(bind(u, (struct sockaddr *)&a, sizeof a));
    ASSERT_SYSCALL_OK(getsockname(u, (struct sockaddr *)&a, &len));
    int c = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_DGRAM, 0));
    ASSERT_SYSCALL_OK(connect(c, (struct sockaddr *)&a, sizeof a));
    int unbound = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_DGRAM, 0));
    ASSERT_EQ(send(c, "hello", 5, 0), 5);
    struct pollfd p = {.fd = u, .events = POLLIN};
    ASSERT_EQ(poll(&p, 1, 10000), 1);

    struct inet_diag_msg m;
    ASSERT_EQ(dump_one(AF_INET, IPPROTO_UDP, ALL_STATES, u, &m), 1);
    EXPECT_EQ(m.idiag_state, TCP_CLOSE);
    EXPECT_EQ(m.id.idiag_sport, a.sin_port);
    EXPECT_GT(m.idiag_rqueue, 0u);
    ASSERT_EQ(dump_one(AF_INET, IPPROTO_UDP, ALL_STATES, c, &m), 1);
    EXPECT_EQ(m.idiag_state, TCP_ESTABLISHED);
    EXPECT_EQ(m.id.idiag_dport, a.sin_port);
    EXPECT_EQ(dump_one(AF_INET, IPPROTO_UDP, ALL_STATES, unbound, &m), 0);
    EXPECT_EQ(dump_one(AF_INET, IPPROTO_TCP, ALL_STATES, u, &m), 0);
}

TEST(sock_diag, a_request_without_NLM_F_DUMP_finds_one_socket_by_its_addresses) {
    uint16_t port;
    int l = ASSERT_SYSCALL_OK(tcp_listener(AF_INET, &port));
    struct inet_diag_sockid id;
    memset(&id, 0, sizeof id);
    id.idiag_sport = htons(port);
    id.idiag_src[0] = htonl(INADDR_LOOPBACK);
    id.idiag_cookie[0] = INET_DIAG_NOCOOKIE;
    id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
    int fd = ASSERT_SYSCALL_OK(diag_open());
    diag_send(fd, NLM_F_REQUEST, AF_INET, IPPROTO_TCP, ALL_STATES, 5, &id, 0);
    ssize_t n = ASSERT_SYSCALL_OK(recv(fd, buf, sizeof buf, 0));
    struct nlmsghdr *h = (struct nlmsghdr *)buf;
    ASSERT_TRUE(NLMSG_OK(h, (size_t)n));
    ASSERT_EQ(h->nlmsg_type, SOCK_DIAG_BY_FAMILY);
    struct inet_diag_msg *m = NLMSG_DATA(h);
    EXPECT_EQ(m->idiag_inode, inode_of(l));
    EXPECT_EQ(m->idiag_state, TCP_LISTEN);
}

/* The error a dump request sent on a fresh socket gets, as NLMSG_ERROR
 * (checked before the dump starts) or in NLMSG_DONE (found by the dump:
 * the protocol). */
static int diag_error(int family, int proto, int len) {
    int fd = diag_open();
    if (fd < 0)
        return 0;
    diag_send(fd, NLM_F_REQUEST | NLM_F_DUMP, family, proto, ALL_STATES, 9, NULL, len);
    struct inet_diag_msg m;
    int err;
    diag_find(fd, 9, 0, &m, &err);
    close(fd);
    return err;
}

TEST(sock_diag, an_unknown_family_is_ENOENT_a_family_beyond_AF_MAX_EINVAL) {
    EXPECT_EQ(diag_error(AF_UNSPEC, IPPROTO_TCP, 0), -ENOENT);
    EXPECT_EQ(diag_error(AF_MAX, IPPROTO_TCP, 0), -EINVAL);
}

TEST(sock_diag, an_unknown_protocol_ends_the_dump_with_ENOENT_a_short_request_is_EINVAL) {
    EXPECT_EQ(diag_error(AF_INET, 253 /* experimental */, 0), -ENOENT);
    EXPECT_EQ(diag_error(AF_INET, IPPROTO_TCP, NLMSG_LENGTH(sizeof(struct inet_diag_req_v2) - 4)), -EINVAL);
}
