/* getrandom(2), /dev/urandom, /dev/random. */
#include "test.h"

#include <sys/random.h>

TEST(getrandom, returns_the_number_of_bytes_requested_up_to_256)
{
	unsigned char buf[256];
	EXPECT_EQ(getrandom(buf, sizeof(buf), 0), (ssize_t)sizeof(buf));
	EXPECT_EQ(getrandom(buf, 1, 0), 1);
}

TEST(getrandom, fills_the_buffer_with_unpredictable_bytes)
{
	unsigned char a[32], b[32], zero[32] = {0};
	memset(a, 0, sizeof(a));
	memset(b, 0, sizeof(b));
	ASSERT_EQ(getrandom(a, sizeof(a), 0), (ssize_t)sizeof(a));
	ASSERT_EQ(getrandom(b, sizeof(b), 0), (ssize_t)sizeof(b));
	EXPECT_NE(memcmp(a, b, sizeof(a)), 0);
	EXPECT_NE(memcmp(a, zero, sizeof(a)), 0);
}

TEST(getrandom, GRND_NONBLOCK_succeeds_once_the_pool_is_initialized)
{
	unsigned char buf[16];
	EXPECT_EQ(getrandom(buf, sizeof(buf), GRND_NONBLOCK), (ssize_t)sizeof(buf));
	EXPECT_EQ(getrandom(buf, sizeof(buf), GRND_RANDOM | GRND_NONBLOCK) > 0, 1);
}

TEST(getrandom, with_length_zero_returns_zero)
{
	unsigned char buf[1];
	EXPECT_EQ(syscall(SYS_getrandom, buf, 0, 0), 0);
}

TEST(getrandom, unknown_flags_fail_with_EINVAL)
{
	unsigned char buf[8];
	EXPECT_ERRNO(syscall(SYS_getrandom, buf, sizeof(buf), 0x1000), EINVAL);
}

TEST(getrandom, bad_buffer_fails_with_EFAULT)
{
	EXPECT_ERRNO(syscall(SYS_getrandom, (void *)8, 16, 0), EFAULT);
}

TEST(urandom, read_returns_the_requested_number_of_random_bytes)
{
	int fd = ASSERT_SYSCALL_OK(open("/dev/urandom", O_RDONLY));
	unsigned char a[64], b[64];
	EXPECT_EQ(read(fd, a, sizeof(a)), (ssize_t)sizeof(a));
	EXPECT_EQ(read(fd, b, sizeof(b)), (ssize_t)sizeof(b));
	EXPECT_NE(memcmp(a, b, sizeof(a)), 0);
	struct stat st;
	ASSERT_SYSCALL_OK(fstat(fd, &st));
	EXPECT_TRUE(S_ISCHR(st.st_mode));
}

TEST(random, dev_random_does_not_block_once_initialized)
{
	int fd = ASSERT_SYSCALL_OK(open("/dev/random", O_RDONLY | O_NONBLOCK));
	unsigned char a[16];
	EXPECT_EQ(read(fd, a, sizeof(a)), (ssize_t)sizeof(a));
}
