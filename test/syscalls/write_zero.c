/* write(2) of zero bytes: "If count is zero and fd refers to a regular
 * file, then write() may return a failure status if one of the errors
 * below is detected" — and Linux's vfs_write passes the empty write on to
 * the file, so sockets send an empty datagram and an eventfd rejects it. */
#include "test.h"

#include <sys/eventfd.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

TEST(write_zero, on_a_read_only_descriptor_fails_with_EBADF)
{
	int fd = ASSERT_SYSCALL_OK(open("/proc/self/stat", O_RDONLY));
	EXPECT_ERRNO(write(fd, "", 0), EBADF);
	close(fd);
}

TEST(write_zero, on_a_regular_file_returns_0_and_leaves_it_empty)
{
	char path[] = "/tmp/write_zero_XXXXXX";
	int fd = ASSERT_SYSCALL_OK(mkstemp(path));
	unlink(path);
	EXPECT_EQ(write(fd, "", 0), 0);
	EXPECT_EQ(lseek(fd, 0, SEEK_CUR), 0);
	struct stat st;
	ASSERT_SYSCALL_OK(fstat(fd, &st));
	EXPECT_EQ(st.st_size, 0);
	close(fd);
}

TEST(write_zero, on_a_full_pipe_returns_0_at_once)
{
	int p[2];
	ASSERT_SYSCALL_OK(pipe2(p, O_NONBLOCK));
	char buf[4096] = {0};
	while (write(p[1], buf, sizeof(buf)) > 0)
		;
	ASSERT_SYSCALL_OK(fcntl(p[1], F_SETFL, 0)); /* blocking again */
	EXPECT_EQ(write(p[1], buf, 0), 0);
}

TEST(write_zero, pwrite_on_a_pipe_fails_with_ESPIPE)
{
	int p[2];
	ASSERT_SYSCALL_OK(pipe(p));
	EXPECT_ERRNO(pwrite(p[1], "", 0, 0), ESPIPE);
}

TEST(write_zero, on_an_eventfd_fails_with_EINVAL)
{
	int fd = ASSERT_SYSCALL_OK(eventfd(0, 0));
	EXPECT_ERRNO(write(fd, "", 0), EINVAL);
	close(fd);
}

TEST(write_zero, on_a_unix_datagram_pair_sends_an_empty_datagram)
{
	int sv[2];
	ASSERT_SYSCALL_OK(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv));
	EXPECT_EQ(write(sv[0], "", 0), 0);
	ASSERT_EQ(write(sv[0], "x", 1), 1);
	char b[4];
	/* Blocking: the empty datagram is there to be read. */
	EXPECT_EQ(read(sv[1], b, sizeof(b)), 0);
	EXPECT_EQ(read(sv[1], b, sizeof(b)), 1);
}

TEST(write_zero, on_a_unix_seqpacket_pair_sends_an_empty_record)
{
	int sv[2];
	ASSERT_SYSCALL_OK(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv));
	EXPECT_EQ(write(sv[0], "", 0), 0);
	ASSERT_EQ(write(sv[0], "y", 1), 1);
	char b[4];
	EXPECT_EQ(recv(sv[1], b, sizeof(b), MSG_DONTWAIT), 0);
	EXPECT_EQ(recv(sv[1], b, sizeof(b), MSG_DONTWAIT), 1);
}

TEST(write_zero, on_an_unconnected_unix_stream_socket_fails_with_ENOTCONN)
{
	int fd = ASSERT_SYSCALL_OK(socket(AF_UNIX, SOCK_STREAM, 0));
	EXPECT_ERRNO(write(fd, "", 0), ENOTCONN);
	close(fd);
}

TEST(write_zero, on_a_unix_stream_pair_queues_nothing)
{
	int sv[2];
	ASSERT_SYSCALL_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	EXPECT_EQ(write(sv[0], "", 0), 0);
	char b[4];
	EXPECT_ERRNO(recv(sv[1], b, sizeof(b), MSG_DONTWAIT), EAGAIN);
}

TEST(write_zero, on_a_connected_udp_socket_sends_an_empty_datagram)
{
	int r = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_DGRAM, 0));
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	ASSERT_SYSCALL_OK(bind(r, (struct sockaddr *)&a, sizeof(a)));
	socklen_t len = sizeof(a);
	ASSERT_SYSCALL_OK(getsockname(r, (struct sockaddr *)&a, &len));
	int s = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_DGRAM, 0));
	ASSERT_SYSCALL_OK(connect(s, (struct sockaddr *)&a, sizeof(a)));
	EXPECT_EQ(write(s, "", 0), 0);
	char b[4];
	/* Blocking: loopback delivery may not be finished when write
	 * returns in the sandbox; the datagram must come. */
	EXPECT_EQ(recv(r, b, sizeof(b), 0), 0);
	close(r);
	close(s);
}
