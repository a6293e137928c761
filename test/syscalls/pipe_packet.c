/* pipe2(2) with O_DIRECT: "packet mode" pipes. */
#include "test.h"

#include <limits.h>
#include <sys/ioctl.h>

TEST(pipe_packet, each_write_is_one_packet)
{
	int p[2];
	ASSERT_SYSCALL_OK(pipe2(p, O_DIRECT));
	ASSERT_EQ(write(p[1], "abc", 3), 3);
	ASSERT_EQ(write(p[1], "de", 2), 2);
	int n = 0;
	ASSERT_SYSCALL_OK(ioctl(p[0], FIONREAD, &n));
	EXPECT_EQ(n, 5);
	char buf[100];
	EXPECT_EQ(read(p[0], buf, sizeof(buf)), 3);
	EXPECT_MEMEQ(buf, "abc", 3);
	EXPECT_EQ(read(p[0], buf, sizeof(buf)), 2);
	EXPECT_MEMEQ(buf, "de", 2);
	close(p[0]);
	close(p[1]);
}

TEST(pipe_packet, short_read_discards_the_rest_of_the_packet)
{
	int p[2];
	ASSERT_SYSCALL_OK(pipe2(p, O_DIRECT | O_NONBLOCK));
	ASSERT_EQ(write(p[1], "hello", 5), 5);
	char buf[16];
	EXPECT_EQ(read(p[0], buf, 2), 2);
	EXPECT_MEMEQ(buf, "he", 2);
	EXPECT_ERRNO(read(p[0], buf, sizeof(buf)), EAGAIN);
	ASSERT_EQ(write(p[1], "x", 1), 1);
	EXPECT_EQ(read(p[0], buf, sizeof(buf)), 1);
	EXPECT_EQ(buf[0], 'x');
	close(p[0]);
	close(p[1]);
}

TEST(pipe_packet, writes_larger_than_PIPE_BUF_are_split)
{
	int p[2];
	ASSERT_SYSCALL_OK(pipe2(p, O_DIRECT));
	static char out[PIPE_BUF + 1000], in[2 * PIPE_BUF];
	for (size_t i = 0; i < sizeof(out); i++)
		out[i] = (char)i;
	ASSERT_EQ(write(p[1], out, sizeof(out)), (ssize_t)sizeof(out));
	EXPECT_EQ(read(p[0], in, sizeof(in)), PIPE_BUF);
	EXPECT_MEMEQ(in, out, PIPE_BUF);
	EXPECT_EQ(read(p[0], in, sizeof(in)), 1000);
	EXPECT_MEMEQ(in, out + PIPE_BUF, 1000);
	close(p[0]);
	close(p[1]);
}

TEST(pipe_packet, F_GETFL_shows_O_DIRECT_and_F_SETFL_toggles_it)
{
	int p[2];
	ASSERT_SYSCALL_OK(pipe2(p, O_DIRECT));
	/* As Linux, only the write end has O_DIRECT. */
	EXPECT_FALSE(fcntl(p[0], F_GETFL) & O_DIRECT);
	EXPECT_TRUE(fcntl(p[1], F_GETFL) & O_DIRECT);
	/* Without O_DIRECT on the writer, writes merge into a stream. */
	ASSERT_SYSCALL_OK(fcntl(p[1], F_SETFL, fcntl(p[1], F_GETFL) & ~O_DIRECT));
	EXPECT_FALSE(fcntl(p[1], F_GETFL) & O_DIRECT);
	ASSERT_EQ(write(p[1], "ab", 2), 2);
	ASSERT_EQ(write(p[1], "cd", 2), 2);
	char buf[16];
	EXPECT_EQ(read(p[0], buf, sizeof(buf)), 4);
	close(p[0]);
	close(p[1]);

	/* A plain pipe becomes packetized by F_SETFL O_DIRECT on the writer. */
	ASSERT_SYSCALL_OK(pipe(p));
	EXPECT_FALSE(fcntl(p[1], F_GETFL) & O_DIRECT);
	ASSERT_SYSCALL_OK(fcntl(p[1], F_SETFL, O_DIRECT));
	EXPECT_TRUE(fcntl(p[1], F_GETFL) & O_DIRECT);
	ASSERT_EQ(write(p[1], "ab", 2), 2);
	ASSERT_EQ(write(p[1], "cd", 2), 2);
	EXPECT_EQ(read(p[0], buf, sizeof(buf)), 2);
	EXPECT_MEMEQ(buf, "ab", 2);
	EXPECT_EQ(read(p[0], buf, sizeof(buf)), 2);
	EXPECT_MEMEQ(buf, "cd", 2);
	close(p[0]);
	close(p[1]);
}

TEST(pipe_packet, a_read_stops_at_the_end_of_a_packet)
{
	int p[2];
	ASSERT_SYSCALL_OK(pipe2(p, O_DIRECT));
	ASSERT_EQ(write(p[1], "ab", 2), 2);
	ASSERT_SYSCALL_OK(fcntl(p[1], F_SETFL, 0));
	ASSERT_EQ(write(p[1], "cd", 2), 2);
	ASSERT_EQ(write(p[1], "ef", 2), 2);
	char buf[16];
	EXPECT_EQ(read(p[0], buf, sizeof(buf)), 2);
	EXPECT_MEMEQ(buf, "ab", 2);
	EXPECT_EQ(read(p[0], buf, sizeof(buf)), 4);
	EXPECT_MEMEQ(buf, "cdef", 4);
	close(p[0]);
	close(p[1]);
}
