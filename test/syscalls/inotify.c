/* inotify(7): inotify_init, inotify_init1, inotify_add_watch, inotify_rm_watch. */
#include "test.h"

#include <poll.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>

#ifndef IN_MASK_CREATE
#define IN_MASK_CREATE 0x10000000
#endif

struct ev {
	int wd;
	uint32_t mask;
	uint32_t cookie;
	uint32_t len;
	char name[256];
};

/* drain reads every queued event (non-blocking) into evs; returns count. */
static int drain(int fd, struct ev *evs, int max)
{
	static char buf[65536] __attribute__((aligned(8)));
	int n = 0;
	int fl = fcntl(fd, F_GETFL);
	fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	for (;;) {
		ssize_t r = read(fd, buf, sizeof(buf));
		if (r <= 0)
			break;
		for (char *p = buf; p < buf + r;) {
			struct inotify_event *e = (struct inotify_event *)p;
			if (n < max) {
				evs[n].wd = e->wd;
				evs[n].mask = e->mask;
				evs[n].cookie = e->cookie;
				evs[n].len = e->len;
				snprintf(evs[n].name, sizeof(evs[n].name), "%s", e->len ? e->name : "");
			}
			n++;
			p += sizeof(*e) + e->len;
		}
	}
	fcntl(fd, F_SETFL, fl);
	return n;
}

static int touch(const char *p)
{
	int fd = open(p, O_CREAT | O_WRONLY, 0644);
	if (fd >= 0)
		close(fd);
	return fd >= 0 ? 0 : -1;
}

TEST(inotify, init1_flags_set_descriptor_flags_and_unknown_flags_fail)
{
	int fd = ASSERT_SYSCALL_OK(inotify_init1(IN_CLOEXEC | IN_NONBLOCK));
	EXPECT_EQ(fcntl(fd, F_GETFD), FD_CLOEXEC);
	EXPECT_EQ(fcntl(fd, F_GETFL) & O_NONBLOCK, O_NONBLOCK);
	int fd2 = ASSERT_SYSCALL_OK(inotify_init());
	EXPECT_EQ(fcntl(fd2, F_GETFD), 0);
	EXPECT_EQ(fcntl(fd2, F_GETFL) & O_NONBLOCK, 0);
	EXPECT_ERRNO(inotify_init1(0x1), EINVAL);
}

TEST(inotify, nonblocking_read_with_no_events_fails_with_EAGAIN)
{
	int fd = ASSERT_SYSCALL_OK(inotify_init1(IN_NONBLOCK));
	char buf[256];
	EXPECT_ERRNO(read(fd, buf, sizeof(buf)), EAGAIN);
}

TEST(inotify, create_in_watched_directory_reports_IN_CREATE_with_padded_name)
{
	int fd = ASSERT_SYSCALL_OK(inotify_init1(0));
	int wd = ASSERT_SYSCALL_OK(inotify_add_watch(fd, test_tmpdir(), IN_CREATE));
	EXPECT_GT(wd, 0);
	ASSERT_EQ(touch(test_path("f")), 0);
	struct ev e[8];
	ASSERT_EQ(drain(fd, e, 8), 1);
	EXPECT_EQ(e[0].wd, wd);
	EXPECT_EQ(e[0].mask, IN_CREATE);
	EXPECT_EQ(e[0].cookie, 0);
	EXPECT_EQ(e[0].len, 16);
	EXPECT_STREQ(e[0].name, "f");
}

TEST(inotify, mkdir_reports_IN_CREATE_with_IN_ISDIR)
{
	int fd = ASSERT_SYSCALL_OK(inotify_init1(0));
	int wd = ASSERT_SYSCALL_OK(inotify_add_watch(fd, test_tmpdir(), IN_CREATE | IN_DELETE));
	ASSERT_SYSCALL_OK(mkdir(test_path("d"), 0755));
	ASSERT_SYSCALL_OK(rmdir(test_path("d")));
	struct ev e[8];
	ASSERT_EQ(drain(fd, e, 8), 2);
	EXPECT_EQ(e[0].wd, wd);
	EXPECT_EQ(e[0].mask, IN_CREATE | IN_ISDIR);
	EXPECT_EQ(e[1].mask, IN_DELETE | IN_ISDIR);
	EXPECT_STREQ(e[1].name, "d");
}

TEST(inotify, open_write_close_on_watched_file_report_in_order)
{
	ASSERT_EQ(touch(test_path("f")), 0);
	int fd = ASSERT_SYSCALL_OK(inotify_init1(0));
	int wd = ASSERT_SYSCALL_OK(inotify_add_watch(fd, test_path("f"), IN_ALL_EVENTS));
	int f = ASSERT_SYSCALL_OK(open(test_path("f"), O_WRONLY));
	ASSERT_EQ(write(f, "abc", 3), 3);
	close(f);
	struct ev e[8];
	ASSERT_EQ(drain(fd, e, 8), 3);
	EXPECT_EQ(e[0].mask, IN_OPEN);
	EXPECT_EQ(e[1].mask, IN_MODIFY);
	EXPECT_EQ(e[2].mask, IN_CLOSE_WRITE);
	for (int i = 0; i < 3; i++) {
		EXPECT_EQ(e[i].wd, wd);
		EXPECT_EQ(e[i].len, 0);
	}
}

TEST(inotify, read_reports_IN_ACCESS_and_IN_CLOSE_NOWRITE_to_the_parent_with_the_name)
{
	int f = ASSERT_SYSCALL_OK(open(test_path("f"), O_CREAT | O_RDWR, 0644));
	ASSERT_EQ(write(f, "abc", 3), 3);
	close(f);
	int fd = ASSERT_SYSCALL_OK(inotify_init1(0));
	int wd = ASSERT_SYSCALL_OK(inotify_add_watch(fd, test_tmpdir(), IN_ACCESS | IN_CLOSE_NOWRITE));
	f = ASSERT_SYSCALL_OK(open(test_path("f"), O_RDONLY));
	char buf[8];
	ASSERT_EQ(read(f, buf, sizeof(buf)), 3);
	ASSERT_EQ(read(f, buf, sizeof(buf)), 0);
	close(f);
	struct ev e[8];
	ASSERT_EQ(drain(fd, e, 8), 2);
	EXPECT_EQ(e[0].wd, wd);
	EXPECT_EQ(e[0].mask, IN_ACCESS);
	EXPECT_STREQ(e[0].name, "f");
	EXPECT_EQ(e[1].mask, IN_CLOSE_NOWRITE);
	EXPECT_STREQ(e[1].name, "f");
}

TEST(inotify, identical_consecutive_events_are_coalesced)
{
	int f = ASSERT_SYSCALL_OK(open(test_path("f"), O_CREAT | O_RDWR, 0644));
	int fd = ASSERT_SYSCALL_OK(inotify_init1(0));
	ASSERT_SYSCALL_OK(inotify_add_watch(fd, test_path("f"), IN_MODIFY));
	ASSERT_EQ(write(f, "a", 1), 1);
	ASSERT_EQ(write(f, "b", 1), 1);
	ASSERT_EQ(write(f, "c", 1), 1);
	struct ev e[8];
	EXPECT_EQ(drain(fd, e, 8), 1);
	close(f);
}

TEST(inotify, rename_reports_moved_from_and_to_with_one_cookie_and_IN_MOVE_SELF)
{
	ASSERT_EQ(touch(test_path("a")), 0);
	ASSERT_SYSCALL_OK(mkdir(test_path("sub"), 0755));
	int fd = ASSERT_SYSCALL_OK(inotify_init1(0));
	int wd = ASSERT_SYSCALL_OK(inotify_add_watch(fd, test_tmpdir(), IN_MOVE));
	int wsub = ASSERT_SYSCALL_OK(inotify_add_watch(fd, test_path("sub"), IN_MOVE));
	int wf = ASSERT_SYSCALL_OK(inotify_add_watch(fd, test_path("a"), IN_MOVE_SELF));
	ASSERT_SYSCALL_OK(rename(test_path("a"), test_path("sub/b")));
	struct ev e[8];
	ASSERT_EQ(drain(fd, e, 8), 3);
	EXPECT_EQ(e[0].wd, wd);
	EXPECT_EQ(e[0].mask, IN_MOVED_FROM);
	EXPECT_STREQ(e[0].name, "a");
	EXPECT_EQ(e[1].wd, wsub);
	EXPECT_EQ(e[1].mask, IN_MOVED_TO);
	EXPECT_STREQ(e[1].name, "b");
	EXPECT_NE(e[0].cookie, 0);
	EXPECT_EQ(e[0].cookie, e[1].cookie);
	EXPECT_EQ(e[2].wd, wf);
	EXPECT_EQ(e[2].mask, IN_MOVE_SELF);
}

TEST(inotify, unlink_reports_attrib_delete_self_and_ignored_to_the_file_and_delete_to_the_dir)
{
	ASSERT_EQ(touch(test_path("f")), 0);
	int fdir = ASSERT_SYSCALL_OK(inotify_init1(0));
	int ffile = ASSERT_SYSCALL_OK(inotify_init1(0));
	int wd = ASSERT_SYSCALL_OK(inotify_add_watch(fdir, test_tmpdir(), IN_ALL_EVENTS));
	int wf = ASSERT_SYSCALL_OK(inotify_add_watch(ffile, test_path("f"), IN_ALL_EVENTS));
	ASSERT_SYSCALL_OK(unlink(test_path("f")));
	struct ev e[8];
	ASSERT_EQ(drain(ffile, e, 8), 3);
	EXPECT_EQ(e[0].wd, wf);
	EXPECT_EQ(e[0].mask, IN_ATTRIB);
	EXPECT_EQ(e[1].mask, IN_DELETE_SELF);
	EXPECT_EQ(e[2].mask, IN_IGNORED);
	ASSERT_EQ(drain(fdir, e, 8), 1);
	EXPECT_EQ(e[0].wd, wd);
	EXPECT_EQ(e[0].mask, IN_DELETE);
	EXPECT_STREQ(e[0].name, "f");
	/* The watch is gone. */
	EXPECT_ERRNO(inotify_rm_watch(ffile, wf), EINVAL);
}

TEST(inotify, chmod_reports_IN_ATTRIB_and_truncate_IN_MODIFY)
{
	ASSERT_EQ(touch(test_path("f")), 0);
	int fd = ASSERT_SYSCALL_OK(inotify_init1(0));
	ASSERT_SYSCALL_OK(inotify_add_watch(fd, test_path("f"), IN_ATTRIB | IN_MODIFY));
	ASSERT_SYSCALL_OK(chmod(test_path("f"), 0600));
	ASSERT_SYSCALL_OK(truncate(test_path("f"), 10));
	struct ev e[8];
	ASSERT_EQ(drain(fd, e, 8), 2);
	EXPECT_EQ(e[0].mask, IN_ATTRIB);
	EXPECT_EQ(e[1].mask, IN_MODIFY);
}

TEST(inotify, IN_ONESHOT_removes_the_watch_after_one_event)
{
	int fd = ASSERT_SYSCALL_OK(inotify_init1(0));
	int wd = ASSERT_SYSCALL_OK(inotify_add_watch(fd, test_tmpdir(), IN_CREATE | IN_ONESHOT));
	ASSERT_EQ(touch(test_path("a")), 0);
	ASSERT_EQ(touch(test_path("b")), 0);
	struct ev e[8];
	ASSERT_EQ(drain(fd, e, 8), 2);
	EXPECT_EQ(e[0].mask, IN_CREATE);
	EXPECT_STREQ(e[0].name, "a");
	EXPECT_EQ(e[1].wd, wd);
	EXPECT_EQ(e[1].mask, IN_IGNORED);
	EXPECT_ERRNO(inotify_rm_watch(fd, wd), EINVAL);
}

TEST(inotify, same_inode_returns_same_wd_and_mask_flags_combine)
{
	int fd = ASSERT_SYSCALL_OK(inotify_init1(0));
	int wd = ASSERT_SYSCALL_OK(inotify_add_watch(fd, test_tmpdir(), IN_CREATE));
	EXPECT_EQ(inotify_add_watch(fd, test_tmpdir(), IN_DELETE | IN_MASK_ADD), wd);
	EXPECT_ERRNO(inotify_add_watch(fd, test_tmpdir(), IN_DELETE | IN_MASK_CREATE), EEXIST);
	EXPECT_ERRNO(inotify_add_watch(fd, test_tmpdir(), IN_DELETE | IN_MASK_CREATE | IN_MASK_ADD), EINVAL);
	ASSERT_EQ(touch(test_path("a")), 0);
	ASSERT_SYSCALL_OK(unlink(test_path("a")));
	struct ev e[8];
	ASSERT_EQ(drain(fd, e, 8), 2);
	EXPECT_EQ(e[0].mask, IN_CREATE);
	EXPECT_EQ(e[1].mask, IN_DELETE);
	/* Without IN_MASK_ADD the mask is replaced. */
	EXPECT_EQ(inotify_add_watch(fd, test_tmpdir(), IN_DELETE), wd);
	ASSERT_EQ(touch(test_path("b")), 0);
	EXPECT_EQ(drain(fd, e, 8), 0);
}

TEST(inotify, add_watch_errors)
{
	int fd = ASSERT_SYSCALL_OK(inotify_init1(0));
	ASSERT_EQ(touch(test_path("f")), 0);
	EXPECT_ERRNO(inotify_add_watch(fd, test_path("f"), IN_CREATE | IN_ONLYDIR), ENOTDIR);
	EXPECT_ERRNO(inotify_add_watch(fd, test_path("missing"), IN_CREATE), ENOENT);
	EXPECT_ERRNO(inotify_add_watch(fd, test_tmpdir(), 0), EINVAL);
	EXPECT_ERRNO(inotify_add_watch(-1, test_tmpdir(), IN_CREATE), EBADF);
	int p[2];
	ASSERT_SYSCALL_OK(pipe(p));
	EXPECT_ERRNO(inotify_add_watch(p[0], test_tmpdir(), IN_CREATE), EINVAL);
	EXPECT_ERRNO(inotify_rm_watch(p[0], 1), EINVAL);
	EXPECT_ERRNO(inotify_rm_watch(fd, 12345), EINVAL);
}

TEST(inotify, IN_DONT_FOLLOW_watches_the_symlink_itself)
{
	ASSERT_EQ(touch(test_path("t")), 0);
	ASSERT_SYSCALL_OK(symlink("t", test_path("l")));
	int fd = ASSERT_SYSCALL_OK(inotify_init1(0));
	int wt = ASSERT_SYSCALL_OK(inotify_add_watch(fd, test_path("t"), IN_ATTRIB));
	EXPECT_EQ(inotify_add_watch(fd, test_path("l"), IN_ATTRIB), wt);
	int wl = ASSERT_SYSCALL_OK(inotify_add_watch(fd, test_path("l"), IN_ATTRIB | IN_DONT_FOLLOW));
	EXPECT_NE(wl, wt);
}

TEST(inotify, rm_watch_queues_IN_IGNORED)
{
	int fd = ASSERT_SYSCALL_OK(inotify_init1(0));
	int wd = ASSERT_SYSCALL_OK(inotify_add_watch(fd, test_tmpdir(), IN_CREATE));
	ASSERT_SYSCALL_OK(inotify_rm_watch(fd, wd));
	struct ev e[8];
	ASSERT_EQ(drain(fd, e, 8), 1);
	EXPECT_EQ(e[0].wd, wd);
	EXPECT_EQ(e[0].mask, IN_IGNORED);
	ASSERT_EQ(touch(test_path("a")), 0);
	EXPECT_EQ(drain(fd, e, 8), 0);
}

TEST(inotify, read_with_too_small_buffer_fails_with_EINVAL)
{
	int fd = ASSERT_SYSCALL_OK(inotify_init1(0));
	ASSERT_SYSCALL_OK(inotify_add_watch(fd, test_tmpdir(), IN_CREATE));
	ASSERT_EQ(touch(test_path("a")), 0);
	char buf[64] __attribute__((aligned(8)));
	EXPECT_ERRNO(read(fd, buf, 16), EINVAL);
	EXPECT_EQ(read(fd, buf, sizeof(buf)), 32);
}

TEST(inotify, FIONREAD_poll_and_epoll_see_queued_events)
{
	int fd = ASSERT_SYSCALL_OK(inotify_init1(0));
	ASSERT_SYSCALL_OK(inotify_add_watch(fd, test_tmpdir(), IN_CREATE));
	int n = -1;
	ASSERT_SYSCALL_OK(ioctl(fd, FIONREAD, &n));
	EXPECT_EQ(n, 0);
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	EXPECT_EQ(poll(&pfd, 1, 0), 0);
	int ep = ASSERT_SYSCALL_OK(epoll_create1(0));
	struct epoll_event ee = {.events = EPOLLIN};
	ASSERT_SYSCALL_OK(epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ee));
	ASSERT_EQ(touch(test_path("abcdefghijklmnopq")), 0);
	ASSERT_SYSCALL_OK(ioctl(fd, FIONREAD, &n));
	EXPECT_EQ(n, 16 + 32);
	EXPECT_EQ(poll(&pfd, 1, 0), 1);
	EXPECT_EQ(pfd.revents, POLLIN);
	EXPECT_EQ(epoll_wait(ep, &ee, 1, 1000), 1);
}

static void *creator(void *arg)
{
	usleep(100 * 1000);
	touch((const char *)arg);
	return NULL;
}

TEST(inotify, blocking_read_waits_for_an_event)
{
	int fd = ASSERT_SYSCALL_OK(inotify_init1(0));
	ASSERT_SYSCALL_OK(inotify_add_watch(fd, test_tmpdir(), IN_CREATE));
	pthread_t th;
	ASSERT_EQ(pthread_create(&th, NULL, creator, (void *)test_path("late")), 0);
	char buf[256] __attribute__((aligned(8)));
	ssize_t r = read(fd, buf, sizeof(buf));
	ASSERT_GT(r, 16);
	EXPECT_STREQ(((struct inotify_event *)buf)->name, "late");
	pthread_join(th, NULL);
}

TEST(inotify, IN_EXCL_UNLINK_drops_events_of_unlinked_children)
{
	int f = ASSERT_SYSCALL_OK(open(test_path("f"), O_CREAT | O_RDWR, 0644));
	int fd = ASSERT_SYSCALL_OK(inotify_init1(0));
	ASSERT_SYSCALL_OK(inotify_add_watch(fd, test_tmpdir(), IN_MODIFY | IN_EXCL_UNLINK));
	ASSERT_EQ(write(f, "a", 1), 1);
	ASSERT_SYSCALL_OK(unlink(test_path("f")));
	ASSERT_EQ(write(f, "b", 1), 1);
	struct ev e[8];
	ASSERT_EQ(drain(fd, e, 8), 1);
	EXPECT_EQ(e[0].mask, IN_MODIFY);
	EXPECT_STREQ(e[0].name, "f");
	close(f);
}

TEST(inotify, full_queue_ends_with_one_IN_Q_OVERFLOW)
{
	int max = 16384;
	FILE *mf = fopen("/proc/sys/fs/inotify/max_queued_events", "r");
	if (mf) {
		if (fscanf(mf, "%d", &max) != 1)
			max = 16384;
		fclose(mf);
	}
	int f = ASSERT_SYSCALL_OK(open(test_path("f"), O_CREAT | O_RDWR, 0644));
	int fd = ASSERT_SYSCALL_OK(inotify_init1(0));
	ASSERT_SYSCALL_OK(inotify_add_watch(fd, test_path("f"), IN_MODIFY | IN_ACCESS));
	char c = 'x';
	for (int i = 0; i < max / 2 + 10; i++) {
		ASSERT_EQ(pwrite(f, &c, 1, 0), 1);
		ASSERT_EQ(pread(f, &c, 1, 0), 1);
	}
	static struct ev e[40000];
	int n = drain(fd, e, 40000);
	ASSERT_EQ(n, max + 1);
	EXPECT_EQ(e[n - 1].wd, -1);
	EXPECT_EQ(e[n - 1].mask, IN_Q_OVERFLOW);
	EXPECT_EQ(e[n - 2].mask, (max % 2) ? IN_MODIFY : IN_ACCESS);
	close(f);
}
