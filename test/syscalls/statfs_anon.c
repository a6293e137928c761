/* fstatfs(2) of files that live on Linux's internal filesystems: pipes on
 * pipefs, sockets on sockfs, event files on anon_inodefs (their magic
 * numbers are in linux/magic.h). */
#include "test.h"

#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/vfs.h>

#define PIPEFS_MAGIC 0x50495045
#define SOCKFS_MAGIC 0x534F434B
#define ANON_INODE_FS_MAGIC 0x09041934

static long fs_type(int fd)
{
	struct statfs sf;
	ASSERT_SYSCALL_OK(fstatfs(fd, &sf));
	return sf.f_type;
}

TEST(statfs_anon, a_pipe_is_on_pipefs)
{
	int p[2];
	ASSERT_SYSCALL_OK(pipe(p));
	EXPECT_EQ(fs_type(p[0]), PIPEFS_MAGIC);
	EXPECT_EQ(fs_type(p[1]), PIPEFS_MAGIC);
}

TEST(statfs_anon, a_unix_socket_is_on_sockfs)
{
	int fd = ASSERT_SYSCALL_OK(socket(AF_UNIX, SOCK_STREAM, 0));
	EXPECT_EQ(fs_type(fd), SOCKFS_MAGIC);
}

TEST(statfs_anon, an_inet_socket_is_on_sockfs)
{
	int fd = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_DGRAM, 0));
	EXPECT_EQ(fs_type(fd), SOCKFS_MAGIC);
}

TEST(statfs_anon, an_eventfd_is_on_anon_inodefs)
{
	int fd = ASSERT_SYSCALL_OK(eventfd(0, 0));
	EXPECT_EQ(fs_type(fd), ANON_INODE_FS_MAGIC);
}

TEST(statfs_anon, a_pipe_reached_through_proc_self_fd_is_on_pipefs)
{
	int p[2];
	ASSERT_SYSCALL_OK(pipe(p));
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", p[0]);
	struct statfs sf;
	ASSERT_SYSCALL_OK(statfs(path, &sf));
	EXPECT_EQ(sf.f_type, PIPEFS_MAGIC);
}
