/* /sys/class/net (sysfs-class-net ABI): one entry per network interface,
 * a link to its device directory, whose attributes agree with the
 * netdevice(7) ioctls. */
#include "test.h"
#include "inet_test.h"

#include <dirent.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/statvfs.h>

/* Reads attribute name of interface ifname into buf (without the
 * newline); returns 0, or -1 with errno if the file cannot be read. */
static int attr(const char *ifname, const char *name, char *buf, size_t n)
{
	char path[256];
	snprintf(path, sizeof path, "/sys/class/net/%s/%s", ifname, name);
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	ssize_t got = read(fd, buf, n - 1);
	int e = errno;
	close(fd);
	if (got < 0) {
		errno = e;
		return -1;
	}
	buf[got] = 0;
	EXPECT_TRUE(got > 0 && buf[got - 1] == '\n');
	if (got > 0 && buf[got - 1] == '\n')
		buf[got - 1] = 0;
	return 0;
}

static long long attr_num(const char *ifname, const char *name)
{
	char buf[64];
	ASSERT_SYSCALL_OK(attr(ifname, name, buf, sizeof buf));
	return strtoll(buf, NULL, 0);
}

/* Fills ifr for ifname and runs ioctl cmd on a datagram socket. */
static int ifioctl(const char *ifname, unsigned long cmd, struct ifreq *ifr)
{
	int s = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_DGRAM, 0));
	memset(ifr, 0, sizeof *ifr);
	snprintf(ifr->ifr_name, IFNAMSIZ, "%s", ifname);
	int r = ioctl(s, cmd, ifr);
	int e = errno;
	close(s);
	errno = e;
	return r;
}

TEST(sys_class_net, lo_is_a_link_to_its_device_directory)
{
	char target[128] = {0};
	ASSERT_SYSCALL_OK(readlink("/sys/class/net/lo", target, sizeof target - 1));
	EXPECT_STREQ(target, "../../devices/virtual/net/lo");
	char buf[64];
	ASSERT_SYSCALL_OK(attr("lo", "ifindex", buf, sizeof buf));
	int fd = ASSERT_SYSCALL_OK(open("/sys/devices/virtual/net/lo/ifindex", O_RDONLY));
	char buf2[64] = {0};
	ASSERT_GT(read(fd, buf2, sizeof buf2 - 1), 0);
	close(fd);
	EXPECT_EQ(atoi(buf2), atoi(buf));
}

TEST(sys_class_net, lo_has_index_1_type_772_and_loopback_addresses)
{
	EXPECT_EQ(attr_num("lo", "ifindex"), 1);
	EXPECT_EQ(attr_num("lo", "iflink"), 1);
	EXPECT_EQ(attr_num("lo", "type"), 772); /* ARPHRD_LOOPBACK */
	EXPECT_EQ(attr_num("lo", "addr_len"), 6);
	char buf[64];
	ASSERT_SYSCALL_OK(attr("lo", "address", buf, sizeof buf));
	EXPECT_STREQ(buf, "00:00:00:00:00:00");
	ASSERT_SYSCALL_OK(attr("lo", "broadcast", buf, sizeof buf));
	EXPECT_STREQ(buf, "00:00:00:00:00:00");
	ASSERT_SYSCALL_OK(attr("lo", "operstate", buf, sizeof buf));
	EXPECT_STREQ(buf, "unknown");
	EXPECT_EQ(attr_num("lo", "carrier"), 1);
}

TEST(sys_class_net, lo_agrees_with_the_netdevice_ioctls)
{
	struct ifreq ifr;
	ASSERT_SYSCALL_OK(ifioctl("lo", SIOCGIFMTU, &ifr));
	EXPECT_EQ(attr_num("lo", "mtu"), ifr.ifr_mtu);
	ASSERT_SYSCALL_OK(ifioctl("lo", SIOCGIFTXQLEN, &ifr));
	EXPECT_EQ(attr_num("lo", "tx_queue_len"), ifr.ifr_qlen);
	ASSERT_SYSCALL_OK(ifioctl("lo", SIOCGIFFLAGS, &ifr));
	/* sysfs shows the device's flags; SIOCGIFFLAGS adds the operational
	 * IFF_RUNNING. */
	long long flags = attr_num("lo", "flags");
	EXPECT_EQ(flags & ~(long long)IFF_RUNNING, (long long)(ifr.ifr_flags & 0xffff & ~IFF_RUNNING));
	EXPECT_EQ(flags & (IFF_UP | IFF_LOOPBACK), IFF_UP | IFF_LOOPBACK);
	char buf[64];
	ASSERT_SYSCALL_OK(attr("lo", "flags", buf, sizeof buf));
	EXPECT_TRUE(strncmp(buf, "0x", 2) == 0);
}

TEST(sys_class_net, every_entry_is_an_interface_with_its_index)
{
	DIR *d = opendir("/sys/class/net");
	ASSERT_TRUE(d != NULL);
	int seen_lo = 0, checked = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		if (strcmp(e->d_name, "lo") == 0)
			seen_lo = 1;
		/* Natively, other interfaces may come and go meanwhile. */
		struct ifreq ifr;
		char buf[64];
		if (ifioctl(e->d_name, SIOCGIFINDEX, &ifr) < 0 || attr(e->d_name, "ifindex", buf, sizeof buf) < 0)
			continue;
		EXPECT_EQ(atoi(buf), ifr.ifr_ifindex);
		if (ifioctl(e->d_name, SIOCGIFMTU, &ifr) == 0)
			EXPECT_EQ(attr_num(e->d_name, "mtu"), ifr.ifr_mtu);
		checked++;
	}
	closedir(d);
	EXPECT_TRUE(seen_lo);
	EXPECT_GE(checked, 1);
}

TEST(sys_class_net, lo_statistics_grow_with_loopback_traffic)
{
	long long rxp = attr_num("lo", "statistics/rx_packets"), txp = attr_num("lo", "statistics/tx_packets");
	long long rxb = attr_num("lo", "statistics/rx_bytes"), txb = attr_num("lo", "statistics/tx_bytes");
	int r = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_DGRAM, 0));
	int w = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_DGRAM, 0));
	inet_addr_t a;
	socklen_t len = inet_loopback(AF_INET, &a, 0);
	ASSERT_SYSCALL_OK(bind(r, &a.sa, len));
	inet_sockname(r, &a);
	char payload[100] = {0};
	ASSERT_EQ(sendto(w, payload, sizeof payload, 0, &a.sa, len), (ssize_t)sizeof payload);
	net_wait(r, POLLIN);
	EXPECT_GE(attr_num("lo", "statistics/rx_packets"), rxp + 1);
	EXPECT_GE(attr_num("lo", "statistics/tx_packets"), txp + 1);
	EXPECT_GE(attr_num("lo", "statistics/rx_bytes"), rxb + 100);
	EXPECT_GE(attr_num("lo", "statistics/tx_bytes"), txb + 100);
	EXPECT_GE(attr_num("lo", "statistics/rx_errors"), 0);
	EXPECT_GE(attr_num("lo", "statistics/tx_dropped"), 0);
}

TEST(sys_class_net, statistics_cannot_be_opened_for_writing)
{
	/* On a read-only mount of sysfs (containers') the mount refuses
	 * first; otherwise sysfs refuses attributes it cannot store. */
	struct statvfs sv;
	ASSERT_SYSCALL_OK(statvfs("/sys/class/net/lo/ifindex", &sv));
	int want = (sv.f_flag & ST_RDONLY) ? EROFS : EACCES;
	EXPECT_ERRNO(open("/sys/class/net/lo/statistics/rx_bytes", O_WRONLY), want);
	EXPECT_ERRNO(open("/sys/class/net/lo/ifindex", O_RDWR), want);
}

TEST(sys_class_net, an_unknown_interface_is_absent)
{
	char buf[64];
	EXPECT_ERRNO(attr("palisade-none0", "mtu", buf, sizeof buf), ENOENT);
}
