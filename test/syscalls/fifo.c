/* FIFOs made by mknod(2), mknodat(2) and mkfifo(3), and their open rules. */
#include "test.h"

TEST(fifo, mknod_creates_a_fifo_with_the_umask_applied)
{
	mode_t old = umask(022);
	ASSERT_SYSCALL_OK(mknod(test_path("p"), S_IFIFO | 0666, 0));
	umask(old);
	struct stat st;
	ASSERT_SYSCALL_OK(stat(test_path("p"), &st));
	EXPECT_TRUE(S_ISFIFO(st.st_mode));
	EXPECT_EQ(st.st_mode & 0777, 0644);
	EXPECT_EQ(st.st_size, 0);
	EXPECT_ERRNO(mkfifo(test_path("p"), 0600), EEXIST);
}

TEST(fifo, mknodat_creates_relative_to_a_directory_descriptor)
{
	int dfd = ASSERT_SYSCALL_OK(open(test_tmpdir(), O_RDONLY | O_DIRECTORY));
	ASSERT_SYSCALL_OK(mknodat(dfd, "q", S_IFIFO | 0600, 0));
	struct stat st;
	ASSERT_SYSCALL_OK(fstatat(dfd, "q", &st, 0));
	EXPECT_TRUE(S_ISFIFO(st.st_mode));
	close(dfd);
}

TEST(fifo, nonblocking_opens_reader_succeeds_writer_without_reader_fails_with_ENXIO)
{
	ASSERT_SYSCALL_OK(mkfifo(test_path("p"), 0600));
	EXPECT_ERRNO(open(test_path("p"), O_WRONLY | O_NONBLOCK), ENXIO);
	int r = ASSERT_SYSCALL_OK(open(test_path("p"), O_RDONLY | O_NONBLOCK));
	int w = ASSERT_SYSCALL_OK(open(test_path("p"), O_WRONLY | O_NONBLOCK));
	char buf[4];
	EXPECT_ERRNO(read(r, buf, sizeof(buf)), EAGAIN);
	ASSERT_EQ(write(w, "hi", 2), 2);
	EXPECT_EQ(read(r, buf, sizeof(buf)), 2);
	close(w);
	EXPECT_EQ(read(r, buf, sizeof(buf)), 0);
	close(r);
}

TEST(fifo, blocking_open_for_reading_waits_for_a_writer)
{
	ASSERT_SYSCALL_OK(mkfifo(test_path("p"), 0600));
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0) {
		usleep(100 * 1000);
		int w = ASSERT_SYSCALL_OK(open(test_path("p"), O_WRONLY));
		ASSERT_EQ(write(w, "data", 4), 4);
		close(w);
		_exit(0);
	}
	int r = ASSERT_SYSCALL_OK(open(test_path("p"), O_RDONLY));
	char buf[8];
	EXPECT_EQ(read(r, buf, sizeof(buf)), 4);
	EXPECT_MEMEQ(buf, "data", 4);
	EXPECT_EQ(read(r, buf, sizeof(buf)), 0);
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
}

TEST(fifo, blocking_open_for_writing_waits_for_a_reader)
{
	ASSERT_SYSCALL_OK(mkfifo(test_path("p"), 0600));
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0) {
		usleep(100 * 1000);
		int r = ASSERT_SYSCALL_OK(open(test_path("p"), O_RDONLY));
		char buf[8];
		ASSERT_EQ(read(r, buf, sizeof(buf)), 3);
		_exit(0);
	}
	int w = ASSERT_SYSCALL_OK(open(test_path("p"), O_WRONLY));
	EXPECT_EQ(write(w, "abc", 3), 3);
	close(w);
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
}

TEST(fifo, O_RDWR_open_never_blocks_and_sees_its_own_data)
{
	ASSERT_SYSCALL_OK(mkfifo(test_path("p"), 0600));
	int fd = ASSERT_SYSCALL_OK(open(test_path("p"), O_RDWR));
	ASSERT_EQ(write(fd, "xy", 2), 2);
	char buf[4];
	EXPECT_EQ(read(fd, buf, sizeof(buf)), 2);
	close(fd);
}

TEST(fifo, unlinked_fifo_keeps_working_for_open_ends)
{
	ASSERT_SYSCALL_OK(mkfifo(test_path("p"), 0600));
	int fd = ASSERT_SYSCALL_OK(open(test_path("p"), O_RDWR));
	ASSERT_SYSCALL_OK(unlink(test_path("p")));
	ASSERT_EQ(write(fd, "z", 1), 1);
	char c;
	EXPECT_EQ(read(fd, &c, 1), 1);
	EXPECT_EQ(c, 'z');
	close(fd);
}

TEST(fifo, writing_to_a_fifo_with_no_reader_left_raises_EPIPE)
{
	ASSERT_SYSCALL_OK(mkfifo(test_path("p"), 0600));
	signal(SIGPIPE, SIG_IGN);
	int r = ASSERT_SYSCALL_OK(open(test_path("p"), O_RDONLY | O_NONBLOCK));
	int w = ASSERT_SYSCALL_OK(open(test_path("p"), O_WRONLY));
	close(r);
	EXPECT_ERRNO(write(w, "a", 1), EPIPE);
	close(w);
}
