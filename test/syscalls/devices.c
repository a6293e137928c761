/* /dev: the memory devices, /dev/tty and /dev/console. */
#include "test.h"

#include <sys/sysmacros.h>

TEST(devices, dev_tty_without_a_controlling_terminal_is_ENXIO)
{
	pid_t pid = fork();
	ASSERT_SYSCALL_OK(pid);
	if (pid == 0) {
		if (setsid() < 0)
			_exit(2);
		int fd = open("/dev/tty", O_RDWR);
		_exit(fd < 0 && errno == ENXIO ? 0 : 1);
	}
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
}

TEST(devices, dev_tty_and_console_are_char_5_0_and_5_1)
{
	struct stat st;
	ASSERT_SYSCALL_OK(stat("/dev/tty", &st));
	EXPECT_TRUE(S_ISCHR(st.st_mode));
	EXPECT_EQ(major(st.st_rdev), 5);
	EXPECT_EQ(minor(st.st_rdev), 0);
	if (stat("/dev/console", &st) == 0) {
		EXPECT_TRUE(S_ISCHR(st.st_mode));
		EXPECT_EQ(major(st.st_rdev), 5);
		EXPECT_EQ(minor(st.st_rdev), 1);
	}
}

TEST(devices, dev_null_reads_eof_and_swallows_writes)
{
	int fd = open("/dev/null", O_RDWR);
	ASSERT_SYSCALL_OK(fd);
	char buf[16];
	EXPECT_EQ(read(fd, buf, sizeof(buf)), 0);
	EXPECT_EQ(write(fd, "hello", 5), 5);
	close(fd);
}

TEST(devices, dev_zero_reads_zeros)
{
	int fd = open("/dev/zero", O_RDWR);
	ASSERT_SYSCALL_OK(fd);
	char buf[64];
	memset(buf, 'x', sizeof(buf));
	EXPECT_EQ(read(fd, buf, sizeof(buf)), (ssize_t)sizeof(buf));
	for (size_t i = 0; i < sizeof(buf); i++)
		ASSERT_EQ(buf[i], 0);
	EXPECT_EQ(write(fd, "x", 1), 1);
	close(fd);
}

TEST(devices, dev_full_reads_zeros_and_write_is_ENOSPC)
{
	int fd = open("/dev/full", O_RDWR);
	ASSERT_SYSCALL_OK(fd);
	char buf[8] = "xxxxxxx";
	EXPECT_EQ(read(fd, buf, sizeof(buf)), (ssize_t)sizeof(buf));
	EXPECT_EQ(buf[0], 0);
	EXPECT_ERRNO(write(fd, "x", 1), ENOSPC);
	close(fd);
}

TEST(devices, dev_urandom_reads_differ)
{
	int fd = open("/dev/urandom", O_RDONLY);
	ASSERT_SYSCALL_OK(fd);
	unsigned char a[32], b[32];
	EXPECT_EQ(read(fd, a, sizeof(a)), (ssize_t)sizeof(a));
	EXPECT_EQ(read(fd, b, sizeof(b)), (ssize_t)sizeof(b));
	EXPECT_TRUE(memcmp(a, b, sizeof(a)) != 0);
	close(fd);
}
