/* netdevice(7): the interface ioctls, asked about "lo" only (the host has
 * more interfaces than the sandbox). */
#include "test.h"

#include <arpa/inet.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

static int inet_sock(void) {
    return socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
}

static struct ifreq lo_req(void) {
    struct ifreq r;
    memset(&r, 0, sizeof r);
    strcpy(r.ifr_name, "lo");
    return r;
}

TEST(netdevice, SIOCGIFINDEX_and_SIOCGIFNAME_agree_with_if_nametoindex) {
    int s = ASSERT_SYSCALL_OK(inet_sock());
    struct ifreq r = lo_req();
    EXPECT_SYSCALL_OK(ioctl(s, SIOCGIFINDEX, &r));
    unsigned idx = if_nametoindex("lo");
    EXPECT_NE(idx, 0);
    EXPECT_EQ(r.ifr_ifindex, (int)idx);
    struct ifreq n;
    memset(&n, 0, sizeof n);
    n.ifr_ifindex = r.ifr_ifindex;
    EXPECT_SYSCALL_OK(ioctl(s, SIOCGIFNAME, &n));
    EXPECT_STREQ(n.ifr_name, "lo");
    char buf[IF_NAMESIZE];
    EXPECT_TRUE(if_indextoname(idx, buf) != NULL);
    EXPECT_STREQ(buf, "lo");
}

TEST(netdevice, SIOCGIFFLAGS_of_lo_is_up_running_loopback) {
    int s = ASSERT_SYSCALL_OK(inet_sock());
    struct ifreq r = lo_req();
    EXPECT_SYSCALL_OK(ioctl(s, SIOCGIFFLAGS, &r));
    EXPECT_EQ(r.ifr_flags & (IFF_UP | IFF_RUNNING | IFF_LOOPBACK), IFF_UP | IFF_RUNNING | IFF_LOOPBACK);
    EXPECT_EQ(r.ifr_flags & IFF_BROADCAST, 0);
}

TEST(netdevice, SIOCGIFADDR_NETMASK_BRDADDR_of_lo) {
    int s = ASSERT_SYSCALL_OK(inet_sock());
    struct ifreq r = lo_req();
    EXPECT_SYSCALL_OK(ioctl(s, SIOCGIFADDR, &r));
    struct sockaddr_in *sin = (struct sockaddr_in *)&r.ifr_addr;
    EXPECT_EQ(sin->sin_family, AF_INET);
    EXPECT_EQ(ntohl(sin->sin_addr.s_addr), INADDR_LOOPBACK);
    r = lo_req();
    EXPECT_SYSCALL_OK(ioctl(s, SIOCGIFNETMASK, &r));
    sin = (struct sockaddr_in *)&r.ifr_netmask;
    EXPECT_EQ(sin->sin_family, AF_INET);
    EXPECT_EQ(ntohl(sin->sin_addr.s_addr), 0xff000000u);
    r = lo_req();
    EXPECT_SYSCALL_OK(ioctl(s, SIOCGIFBRDADDR, &r));
    sin = (struct sockaddr_in *)&r.ifr_broadaddr;
    EXPECT_EQ(sin->sin_family, AF_INET);
    EXPECT_EQ(sin->sin_addr.s_addr, 0);
}

TEST(netdevice, SIOCGIFMTU_of_lo_is_positive) {
    int s = ASSERT_SYSCALL_OK(inet_sock());
    struct ifreq r = lo_req();
    EXPECT_SYSCALL_OK(ioctl(s, SIOCGIFMTU, &r));
    EXPECT_GE(r.ifr_mtu, 1280);
}

TEST(netdevice, SIOCGIFHWADDR_of_lo_is_ARPHRD_LOOPBACK_with_zero_address) {
    int s = ASSERT_SYSCALL_OK(inet_sock());
    struct ifreq r = lo_req();
    memset(r.ifr_hwaddr.sa_data, 0x55, sizeof r.ifr_hwaddr.sa_data);
    EXPECT_SYSCALL_OK(ioctl(s, SIOCGIFHWADDR, &r));
    EXPECT_EQ(r.ifr_hwaddr.sa_family, ARPHRD_LOOPBACK);
    static const char zero[6];
    EXPECT_MEMEQ(r.ifr_hwaddr.sa_data, zero, 6);
}

TEST(netdevice, unknown_interface_is_ENODEV) {
    int s = ASSERT_SYSCALL_OK(inet_sock());
    struct ifreq r;
    memset(&r, 0, sizeof r);
    strcpy(r.ifr_name, "nosuchif0");
    EXPECT_ERRNO(ioctl(s, SIOCGIFINDEX, &r), ENODEV);
    EXPECT_ERRNO(ioctl(s, SIOCGIFMTU, &r), ENODEV);
    EXPECT_ERRNO(ioctl(s, SIOCGIFADDR, &r), ENODEV);
    memset(&r, 0, sizeof r);
    r.ifr_ifindex = 0x7ffffff0;
    EXPECT_ERRNO(ioctl(s, SIOCGIFNAME, &r), ENODEV);
    EXPECT_EQ(if_nametoindex("nosuchif0"), 0);
}

TEST(netdevice, bad_pointer_is_EFAULT) {
    int s = ASSERT_SYSCALL_OK(inet_sock());
    EXPECT_ERRNO(syscall(SYS_ioctl, s, SIOCGIFINDEX, (void *)8), EFAULT);
    EXPECT_ERRNO(syscall(SYS_ioctl, s, SIOCGIFCONF, (void *)8), EFAULT);
    struct ifconf c = {.ifc_len = (int)sizeof(struct ifreq) * 4, .ifc_buf = (void *)8};
    EXPECT_ERRNO(syscall(SYS_ioctl, s, SIOCGIFCONF, &c), EFAULT);
}

TEST(netdevice, SIOCGIFCONF_lists_lo_with_127_0_0_1) {
    int s = ASSERT_SYSCALL_OK(inet_sock());
    struct ifconf c = {.ifc_len = 0, .ifc_buf = NULL};
    EXPECT_SYSCALL_OK(ioctl(s, SIOCGIFCONF, &c));
    int need = c.ifc_len;
    EXPECT_GE(need, (int)sizeof(struct ifreq));
    EXPECT_EQ(need % (int)sizeof(struct ifreq), 0);
    if (need > 64 * (int)sizeof(struct ifreq))
        need = 64 * (int)sizeof(struct ifreq);
    struct ifreq reqs[64];
    c.ifc_len = need;
    c.ifc_req = reqs;
    EXPECT_SYSCALL_OK(ioctl(s, SIOCGIFCONF, &c));
    EXPECT_EQ(c.ifc_len % (int)sizeof(struct ifreq), 0);
    int found = 0;
    for (int i = 0; i < c.ifc_len / (int)sizeof(struct ifreq); i++) {
        struct sockaddr_in *sin = (struct sockaddr_in *)&reqs[i].ifr_addr;
        if (strcmp(reqs[i].ifr_name, "lo") == 0 && sin->sin_family == AF_INET &&
            ntohl(sin->sin_addr.s_addr) == INADDR_LOOPBACK)
            found = 1;
    }
    EXPECT_TRUE(found);
}

TEST(netdevice, SIOCGIFCONF_writes_only_whole_records) {
    int s = ASSERT_SYSCALL_OK(inet_sock());
    struct ifreq reqs[2];
    memset(reqs, 0x7a, sizeof reqs);
    struct ifconf c = {.ifc_len = (int)sizeof(struct ifreq) - 1, .ifc_req = reqs};
    EXPECT_SYSCALL_OK(ioctl(s, SIOCGIFCONF, &c));
    EXPECT_EQ(c.ifc_len, 0);
    EXPECT_EQ(((unsigned char *)reqs)[0], 0x7a);
}

TEST(netdevice, other_families_answer_device_ioctls_but_not_address_ones) {
    int fams[][2] = {{AF_UNIX, SOCK_STREAM}, {AF_INET6, SOCK_DGRAM}};
    for (int i = 0; i < 2; i++) {
        int s = ASSERT_SYSCALL_OK(socket(fams[i][0], fams[i][1] | SOCK_CLOEXEC, 0));
        struct ifreq r = lo_req();
        EXPECT_SYSCALL_OK(ioctl(s, SIOCGIFINDEX, &r));
        EXPECT_EQ(r.ifr_ifindex, (int)if_nametoindex("lo"));
        r = lo_req();
        EXPECT_SYSCALL_OK(ioctl(s, SIOCGIFFLAGS, &r));
        EXPECT_TRUE(r.ifr_flags & IFF_LOOPBACK);
        r = lo_req();
        EXPECT_ERRNO(ioctl(s, SIOCGIFADDR, &r), ENOTTY);
        close(s);
    }
}

TEST(netdevice, interface_ioctls_on_a_non_socket_are_ENOTTY) {
    int p[2];
    ASSERT_SYSCALL_OK(pipe(p));
    struct ifreq r = lo_req();
    EXPECT_ERRNO(ioctl(p[0], SIOCGIFINDEX, &r), ENOTTY);
}
