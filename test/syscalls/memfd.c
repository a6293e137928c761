/* memfd_create(2) and file sealing (fcntl(2) F_ADD_SEALS, F_GET_SEALS). */
#include "test.h"

#include <sys/mman.h>

#ifndef MFD_NOEXEC_SEAL
#define MFD_NOEXEC_SEAL 0x0008U
#endif
#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif
#ifndef F_SEAL_FUTURE_WRITE
#define F_SEAL_FUTURE_WRITE 0x0010
#endif
#ifndef F_SEAL_EXEC
#define F_SEAL_EXEC 0x0020
#endif

static int mfd(const char *name, unsigned flags)
{
	return syscall(SYS_memfd_create, name, flags);
}

TEST(memfd, read_write_ftruncate_and_fstat)
{
	int fd = ASSERT_SYSCALL_OK(mfd("rw", 0));
	EXPECT_EQ(fcntl(fd, F_GETFL) & O_ACCMODE, O_RDWR);
	EXPECT_EQ(write(fd, "hello", 5), 5);
	char buf[8] = {0};
	EXPECT_EQ(pread(fd, buf, sizeof(buf), 0), 5);
	EXPECT_STREQ(buf, "hello");
	EXPECT_SYSCALL_OK(ftruncate(fd, 8192));
	struct stat st;
	ASSERT_SYSCALL_OK(fstat(fd, &st));
	EXPECT_TRUE(S_ISREG(st.st_mode));
	EXPECT_EQ(st.st_size, 8192);
	EXPECT_EQ(st.st_mode & 0777, 0777);
}

TEST(memfd, proc_fd_link_shows_memfd_name_deleted)
{
	int fd = ASSERT_SYSCALL_OK(mfd("my name", 0));
	char path[64], target[128] = {0};
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	ASSERT_SYSCALL_OK(readlink(path, target, sizeof(target) - 1));
	EXPECT_STREQ(target, "/memfd:my name (deleted)");
}

TEST(memfd, reopening_through_proc_sees_the_same_data)
{
	int fd = ASSERT_SYSCALL_OK(mfd("reopen", 0));
	ASSERT_EQ(write(fd, "shared", 6), 6);
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	int fd2 = ASSERT_SYSCALL_OK(open(path, O_RDONLY));
	char buf[8] = {0};
	EXPECT_EQ(read(fd2, buf, sizeof(buf)), 6);
	EXPECT_STREQ(buf, "shared");
}

TEST(memfd, cloexec_flag_and_bad_flags)
{
	int fd = ASSERT_SYSCALL_OK(mfd("c", MFD_CLOEXEC));
	EXPECT_EQ(fcntl(fd, F_GETFD), FD_CLOEXEC);
	int fd2 = ASSERT_SYSCALL_OK(mfd("c", 0));
	EXPECT_EQ(fcntl(fd2, F_GETFD), 0);
	EXPECT_ERRNO(mfd("c", 0x1000), EINVAL);
	EXPECT_ERRNO(mfd("c", MFD_EXEC | MFD_NOEXEC_SEAL), EINVAL);
}

TEST(memfd, name_of_249_bytes_is_accepted_250_is_EINVAL)
{
	char name[300];
	memset(name, 'n', sizeof(name));
	name[249] = 0;
	EXPECT_SYSCALL_OK(mfd(name, 0));
	name[249] = 'n';
	name[250] = 0;
	EXPECT_ERRNO(mfd(name, 0), EINVAL);
	EXPECT_ERRNO(mfd((const char *)8, 0), EFAULT);
}

TEST(memfd, map_shared_sees_writes_both_ways)
{
	int fd = ASSERT_SYSCALL_OK(mfd("map", 0));
	ASSERT_SYSCALL_OK(ftruncate(fd, 4096));
	char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_TRUE(p != MAP_FAILED);
	memcpy(p, "via map", 7);
	char buf[8] = {0};
	EXPECT_EQ(pread(fd, buf, 7, 0), 7);
	EXPECT_STREQ(buf, "via map");
	EXPECT_EQ(pwrite(fd, "VIA", 3, 0), 3);
	EXPECT_MEMEQ(p, "VIA map", 7);
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0) {
		memcpy(p, "child", 5);
		_exit(0);
	}
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
	EXPECT_EQ(pread(fd, buf, 5, 0), 5);
	EXPECT_MEMEQ(buf, "child", 5);
	munmap(p, 4096);
}

TEST(memfd, without_allow_sealing_seals_are_F_SEAL_SEAL)
{
	int fd = ASSERT_SYSCALL_OK(mfd("nos", 0));
	EXPECT_EQ(fcntl(fd, F_GET_SEALS), F_SEAL_SEAL);
	EXPECT_ERRNO(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE), EPERM);
}

TEST(memfd, seals_on_a_pipe_are_EINVAL)
{
	int p[2];
	ASSERT_SYSCALL_OK(pipe(p));
	EXPECT_ERRNO(fcntl(p[0], F_GET_SEALS), EINVAL);
	EXPECT_ERRNO(fcntl(p[1], F_ADD_SEALS, F_SEAL_WRITE), EINVAL);
}

TEST(memfd, seals_accumulate_and_unknown_seals_are_EINVAL)
{
	int fd = ASSERT_SYSCALL_OK(mfd("acc", MFD_ALLOW_SEALING));
	EXPECT_EQ(fcntl(fd, F_GET_SEALS), 0);
	EXPECT_SYSCALL_OK(fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK));
	EXPECT_SYSCALL_OK(fcntl(fd, F_ADD_SEALS, F_SEAL_GROW));
	EXPECT_EQ(fcntl(fd, F_GET_SEALS), F_SEAL_SHRINK | F_SEAL_GROW);
	EXPECT_ERRNO(fcntl(fd, F_ADD_SEALS, 0x1000), EINVAL);
	EXPECT_SYSCALL_OK(fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL));
	EXPECT_ERRNO(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE), EPERM);
	EXPECT_EQ(fcntl(fd, F_GET_SEALS), F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL);
}

TEST(memfd, add_seals_needs_a_writable_descriptor)
{
	int fd = ASSERT_SYSCALL_OK(mfd("ro", MFD_ALLOW_SEALING));
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	int ro = ASSERT_SYSCALL_OK(open(path, O_RDONLY));
	EXPECT_ERRNO(fcntl(ro, F_ADD_SEALS, F_SEAL_SHRINK), EPERM);
	EXPECT_EQ(fcntl(ro, F_GET_SEALS), 0);
}

TEST(memfd, F_SEAL_SHRINK_refuses_shrinking_only)
{
	int fd = ASSERT_SYSCALL_OK(mfd("shrink", MFD_ALLOW_SEALING));
	ASSERT_SYSCALL_OK(ftruncate(fd, 100));
	ASSERT_SYSCALL_OK(fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK));
	EXPECT_ERRNO(ftruncate(fd, 50), EPERM);
	EXPECT_SYSCALL_OK(ftruncate(fd, 200));
	EXPECT_EQ(pwrite(fd, "x", 1, 300), 1);
}

TEST(memfd, F_SEAL_GROW_refuses_growing_writes_and_truncates)
{
	int fd = ASSERT_SYSCALL_OK(mfd("grow", MFD_ALLOW_SEALING));
	ASSERT_EQ(write(fd, "0123456789", 10), 10);
	ASSERT_SYSCALL_OK(fcntl(fd, F_ADD_SEALS, F_SEAL_GROW));
	EXPECT_ERRNO(ftruncate(fd, 20), EPERM);
	EXPECT_ERRNO(pwrite(fd, "abc", 3, 9), EPERM);
	EXPECT_ERRNO(pwrite(fd, "abc", 3, 10), EPERM);
	EXPECT_EQ(pwrite(fd, "abc", 3, 2), 3);
	EXPECT_SYSCALL_OK(ftruncate(fd, 5));
	struct stat st;
	ASSERT_SYSCALL_OK(fstat(fd, &st));
	EXPECT_EQ(st.st_size, 5);
}

TEST(memfd, F_SEAL_WRITE_refuses_writes_and_truncation_keeps_reads)
{
	int fd = ASSERT_SYSCALL_OK(mfd("write", MFD_ALLOW_SEALING));
	ASSERT_EQ(write(fd, "data", 4), 4);
	ASSERT_SYSCALL_OK(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW));
	EXPECT_ERRNO(write(fd, "x", 1), EPERM);
	EXPECT_ERRNO(pwrite(fd, "x", 1, 0), EPERM);
	EXPECT_ERRNO(ftruncate(fd, 0), EPERM);
	char buf[8] = {0};
	EXPECT_EQ(pread(fd, buf, sizeof(buf), 0), 4);
	EXPECT_STREQ(buf, "data");
}

TEST(memfd, F_SEAL_WRITE_with_a_writable_shared_mapping_is_EBUSY)
{
	int fd = ASSERT_SYSCALL_OK(mfd("busy", MFD_ALLOW_SEALING));
	ASSERT_SYSCALL_OK(ftruncate(fd, 4096));
	char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_TRUE(p != MAP_FAILED);
	p[0] = 'x'; /* our tracking sees mappings through touched pages */
	EXPECT_ERRNO(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE), EBUSY);
	ASSERT_SYSCALL_OK(munmap(p, 4096));
	EXPECT_SYSCALL_OK(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE));
	char *q = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 0);
	ASSERT_TRUE(q != MAP_FAILED);
	EXPECT_EQ(q[0], 'x');
}

TEST(memfd, F_SEAL_FUTURE_WRITE_refuses_writes_but_not_existing_mappings)
{
	int fd = ASSERT_SYSCALL_OK(mfd("future", MFD_ALLOW_SEALING));
	ASSERT_SYSCALL_OK(ftruncate(fd, 4096));
	char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_TRUE(p != MAP_FAILED);
	p[0] = 'a';
	ASSERT_SYSCALL_OK(fcntl(fd, F_ADD_SEALS, F_SEAL_FUTURE_WRITE));
	EXPECT_ERRNO(pwrite(fd, "b", 1, 0), EPERM);
	p[0] = 'c';
	char c = 0;
	EXPECT_EQ(pread(fd, &c, 1, 0), 1);
	EXPECT_EQ(c, 'c');
}

TEST(memfd, MFD_NOEXEC_SEAL_drops_exec_bits_and_seals_them)
{
	int fd = mfd("noexec", MFD_NOEXEC_SEAL);
	if (fd < 0 && errno == EINVAL)
		return; /* a host kernel older than 6.3 */
	ASSERT_SYSCALL_OK(fd);
	struct stat st;
	ASSERT_SYSCALL_OK(fstat(fd, &st));
	EXPECT_EQ(st.st_mode & 0777, 0666);
	EXPECT_EQ(fcntl(fd, F_GET_SEALS), F_SEAL_EXEC);
	EXPECT_ERRNO(fchmod(fd, 0755), EPERM);
	EXPECT_SYSCALL_OK(fchmod(fd, 0600));
	EXPECT_SYSCALL_OK(fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK));
}

TEST(memfd, O_TRUNC_reopen_of_a_shrink_sealed_file_is_EPERM)
{
	int fd = ASSERT_SYSCALL_OK(mfd("trunc", MFD_ALLOW_SEALING));
	ASSERT_EQ(write(fd, "abc", 3), 3);
	ASSERT_SYSCALL_OK(fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK));
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	EXPECT_ERRNO(open(path, O_RDWR | O_TRUNC), EPERM);
}

TEST(memfd_create, F_SEAL_WRITE_forbids_writable_shared_mappings_now_and_through_mprotect)
{
	int fd = ASSERT_SYSCALL_OK(memfd_create("sealmap", MFD_ALLOW_SEALING));
	ASSERT_SYSCALL_OK(ftruncate(fd, 4096));
	ASSERT_SYSCALL_OK(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE));
	void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	EXPECT_EQ(p, MAP_FAILED);
	EXPECT_EQ(errno, EPERM);
	void *q = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(q, MAP_FAILED);
	EXPECT_ERRNO(mprotect(q, 4096, PROT_READ | PROT_WRITE), EACCES);
}

TEST(memfd, mappings_are_named_memfd_NAME_deleted_in_proc_maps)
{
	int fd = ASSERT_SYSCALL_OK(memfd_create("palisade-maps", 0));
	ASSERT_SYSCALL_OK(ftruncate(fd, 4096));
	char *m = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_TRUE(m != MAP_FAILED);
	FILE *f = fopen("/proc/self/maps", "r");
	ASSERT_TRUE(f != NULL);
	char line[512], want[64];
	snprintf(want, sizeof(want), "%lx-", (unsigned long)m);
	int found = 0;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, want, strlen(want)) != 0)
			continue;
		found = 1;
		EXPECT_TRUE(strstr(line, " /memfd:palisade-maps (deleted)\n") != NULL);
		if (!strstr(line, "/memfd:palisade-maps (deleted)"))
			fprintf(stderr, "line: %s", line);
	}
	fclose(f);
	EXPECT_TRUE(found);
}
