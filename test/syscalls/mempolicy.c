/* NUMA memory policies on a machine with one memory node (node 0):
 * set_mempolicy(2), get_mempolicy(2), mbind(2), set_mempolicy_home_node(2),
 * migrate_pages(2), move_pages(2). */
#include "test.h"

#include <linux/capability.h>
#include <sched.h>
#include <sys/mman.h>

#define MPOL_DEFAULT 0
#define MPOL_PREFERRED 1
#define MPOL_BIND 2
#define MPOL_INTERLEAVE 3
#define MPOL_LOCAL 4
#define MPOL_PREFERRED_MANY 5
#define MPOL_F_STATIC_NODES (1 << 15)
#define MPOL_F_RELATIVE_NODES (1 << 14)
#define MPOL_F_NUMA_BALANCING (1 << 13)
#define MPOL_F_NODE 1
#define MPOL_F_ADDR 2
#define MPOL_F_MEMS_ALLOWED 4
#define MPOL_MF_STRICT 1
#define MPOL_MF_MOVE 2
#define MPOL_MF_MOVE_ALL 4

#ifndef SYS_set_mempolicy_home_node
#define SYS_set_mempolicy_home_node 450
#endif

static long set_mempolicy_(int mode, const unsigned long *mask, unsigned long maxnode)
{
	return syscall(SYS_set_mempolicy, mode, mask, maxnode);
}

static long get_mempolicy_(int *mode, unsigned long *mask, unsigned long maxnode, void *addr, unsigned long flags)
{
	return syscall(SYS_get_mempolicy, mode, mask, maxnode, addr, flags);
}

static long mbind_(void *addr, unsigned long len, int mode, const unsigned long *mask, unsigned long maxnode, unsigned flags)
{
	return syscall(SYS_mbind, addr, len, mode, mask, maxnode, flags);
}

/* The cases assume one memory node, as the sandbox has. */
static void need_one_node(void)
{
	if (!test_in_sandbox() && access("/sys/devices/system/node/node1", F_OK) == 0)
		TEST_SKIP("the host has more than one NUMA node");
	errno = 0;
	if (!test_in_sandbox() && get_mempolicy_(NULL, NULL, 0, NULL, 0) == -1 && errno == ENOSYS)
		TEST_SKIP("the host kernel is built without NUMA");
}

static void drop_all_caps(void)
{
	struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct d[2];
	memset(d, 0, sizeof(d));
	ASSERT_SYSCALL_OK(syscall(SYS_capset, &h, d));
}

static void *map_pages(int n)
{
	void *p = mmap(NULL, n * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_TRUE(p != MAP_FAILED);
	return p;
}

TEST(set_mempolicy, default_policy_reads_back_as_MPOL_DEFAULT_with_no_nodes)
{
	need_one_node();
	int mode = -1;
	unsigned long mask = ~0UL;
	ASSERT_SYSCALL_OK(set_mempolicy_(MPOL_DEFAULT, NULL, 0));
	ASSERT_SYSCALL_OK(get_mempolicy_(&mode, &mask, 64, NULL, 0));
	EXPECT_EQ(mode, MPOL_DEFAULT);
	EXPECT_EQ(mask, 0);
}

TEST(set_mempolicy, bind_to_node_0_reads_back)
{
	need_one_node();
	unsigned long mask = 1;
	int mode = -1;
	ASSERT_SYSCALL_OK(set_mempolicy_(MPOL_BIND, &mask, 64));
	mask = 0;
	ASSERT_SYSCALL_OK(get_mempolicy_(&mode, &mask, 64, NULL, 0));
	EXPECT_EQ(mode, MPOL_BIND);
	EXPECT_EQ(mask, 1);
	/* Memory is still usable. */
	char *p = map_pages(1);
	p[0] = 1;
	EXPECT_EQ(p[0], 1);
}

TEST(set_mempolicy, nodes_that_do_not_exist_are_dropped_if_one_does)
{
	need_one_node();
	unsigned long mask = 0x5;
	int mode = -1;
	ASSERT_SYSCALL_OK(set_mempolicy_(MPOL_INTERLEAVE, &mask, 64));
	mask = 0;
	ASSERT_SYSCALL_OK(get_mempolicy_(&mode, &mask, 64, NULL, 0));
	EXPECT_EQ(mode, MPOL_INTERLEAVE);
	EXPECT_EQ(mask, 1);
	/* Interleaving: MPOL_F_NODE gives the next node, node 0. */
	mode = -1;
	ASSERT_SYSCALL_OK(get_mempolicy_(&mode, NULL, 0, NULL, MPOL_F_NODE));
	EXPECT_EQ(mode, 0);
}

TEST(set_mempolicy, static_nodes_read_back_as_given)
{
	need_one_node();
	unsigned long mask = 0x3;
	int mode = -1;
	ASSERT_SYSCALL_OK(set_mempolicy_(MPOL_PREFERRED | MPOL_F_STATIC_NODES, &mask, 64));
	mask = 0;
	ASSERT_SYSCALL_OK(get_mempolicy_(&mode, &mask, 64, NULL, 0));
	EXPECT_EQ(mode, MPOL_PREFERRED | MPOL_F_STATIC_NODES);
	EXPECT_EQ(mask, 0x3);
}

TEST(set_mempolicy, relative_nodes_map_onto_node_0)
{
	need_one_node();
	unsigned long mask = 0x4;
	int mode = -1;
	ASSERT_SYSCALL_OK(set_mempolicy_(MPOL_BIND | MPOL_F_RELATIVE_NODES, &mask, 64));
	mask = 0;
	ASSERT_SYSCALL_OK(get_mempolicy_(&mode, &mask, 64, NULL, 0));
	EXPECT_EQ(mode, MPOL_BIND | MPOL_F_RELATIVE_NODES);
	EXPECT_EQ(mask, 0x4);
	/* With static nodes, node 2 alone is no node at all. */
	EXPECT_ERRNO(set_mempolicy_(MPOL_BIND | MPOL_F_STATIC_NODES, &mask, 64), EINVAL);
}

TEST(set_mempolicy, preferred_with_no_nodes_is_local)
{
	need_one_node();
	int mode = -1;
	unsigned long mask = ~0UL;
	ASSERT_SYSCALL_OK(set_mempolicy_(MPOL_PREFERRED, NULL, 0));
	ASSERT_SYSCALL_OK(get_mempolicy_(&mode, &mask, 64, NULL, 0));
	EXPECT_EQ(mode, MPOL_LOCAL);
	EXPECT_EQ(mask, 0);
	ASSERT_SYSCALL_OK(set_mempolicy_(MPOL_LOCAL, NULL, 0));
	ASSERT_SYSCALL_OK(get_mempolicy_(&mode, NULL, 0, NULL, 0));
	EXPECT_EQ(mode, MPOL_LOCAL);
}

TEST(set_mempolicy, mode_and_flag_errors_are_EINVAL)
{
	need_one_node();
	unsigned long one = 1, none = 0, two = 2;
	EXPECT_ERRNO(set_mempolicy_(7, &one, 64), EINVAL);
	EXPECT_ERRNO(set_mempolicy_(-1, &one, 64), EINVAL);
	EXPECT_ERRNO(set_mempolicy_(MPOL_BIND | MPOL_F_STATIC_NODES | MPOL_F_RELATIVE_NODES, &one, 64), EINVAL);
	EXPECT_ERRNO(set_mempolicy_(MPOL_INTERLEAVE | MPOL_F_NUMA_BALANCING, &one, 64), EINVAL);
	/* Nodes for the default or local policy; none for the others. */
	EXPECT_ERRNO(set_mempolicy_(MPOL_DEFAULT, &one, 64), EINVAL);
	EXPECT_ERRNO(set_mempolicy_(MPOL_LOCAL, &one, 64), EINVAL);
	EXPECT_ERRNO(set_mempolicy_(MPOL_LOCAL | MPOL_F_STATIC_NODES, NULL, 0), EINVAL);
	EXPECT_ERRNO(set_mempolicy_(MPOL_PREFERRED | MPOL_F_STATIC_NODES, NULL, 0), EINVAL);
	EXPECT_ERRNO(set_mempolicy_(MPOL_BIND, &none, 64), EINVAL);
	EXPECT_ERRNO(set_mempolicy_(MPOL_BIND, NULL, 64), EINVAL);
	/* Only a node that does not exist. */
	EXPECT_ERRNO(set_mempolicy_(MPOL_BIND, &two, 64), EINVAL);
	/* maxnode counts one more than the bits read: 1 reads none. */
	EXPECT_ERRNO(set_mempolicy_(MPOL_BIND, &one, 1), EINVAL);
	/* A failed call leaves the policy as it was. */
	int mode = -1;
	ASSERT_SYSCALL_OK(get_mempolicy_(&mode, NULL, 0, NULL, 0));
	EXPECT_EQ(mode, MPOL_DEFAULT);
}

TEST(set_mempolicy, NUMA_balancing_with_MPOL_BIND)
{
	need_one_node();
	unsigned long one = 1;
	int mode = -1;
	ASSERT_SYSCALL_OK(set_mempolicy_(MPOL_BIND | MPOL_F_NUMA_BALANCING, &one, 64));
	ASSERT_SYSCALL_OK(get_mempolicy_(&mode, NULL, 0, NULL, 0));
	EXPECT_EQ(mode, MPOL_BIND | MPOL_F_NUMA_BALANCING);
}

TEST(set_mempolicy, node_mask_size_limits)
{
	need_one_node();
	/* Bits past MAX_NUMNODES (1024 at most) must be clear. */
	unsigned long big[4096 / sizeof(long) + 1];
	memset(big, 0, sizeof(big));
	big[0] = 1;
	EXPECT_SYSCALL_OK(set_mempolicy_(MPOL_BIND, big, 4096 * 8 + 1));
	big[2000 / 64] = 1UL << (2000 % 64);
	EXPECT_ERRNO(set_mempolicy_(MPOL_BIND, big, 4096 * 8 + 1), EINVAL);
	/* Past the word of bit maxnode-2 the mask is not read. */
	EXPECT_SYSCALL_OK(set_mempolicy_(MPOL_BIND, big, 1985));
	/* More than a page of bits is EINVAL before anything is read. */
	EXPECT_ERRNO(set_mempolicy_(MPOL_BIND, (unsigned long *)1, 4096 * 8 + 2), EINVAL);
	/* maxnode 0 with a mask wraps around: too many bits. */
	EXPECT_ERRNO(set_mempolicy_(MPOL_BIND, big, 0), EINVAL);
	EXPECT_ERRNO(set_mempolicy_(MPOL_BIND, (unsigned long *)1, 64), EFAULT);
}

TEST(set_mempolicy, is_inherited_on_fork)
{
	need_one_node();
	unsigned long one = 1;
	ASSERT_SYSCALL_OK(set_mempolicy_(MPOL_PREFERRED, &one, 64));
	pid_t pid = fork();
	ASSERT_SYSCALL_OK(pid);
	if (pid == 0) {
		int mode = -1;
		ASSERT_SYSCALL_OK(get_mempolicy_(&mode, NULL, 0, NULL, 0));
		EXPECT_EQ(mode, MPOL_PREFERRED);
		_exit(0);
	}
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
}

TEST(get_mempolicy, flag_errors_are_EINVAL)
{
	need_one_node();
	int mode;
	unsigned long mask;
	EXPECT_ERRNO(get_mempolicy_(&mode, NULL, 0, NULL, 8), EINVAL);
	EXPECT_ERRNO(get_mempolicy_(&mode, NULL, 0, NULL, MPOL_F_MEMS_ALLOWED | MPOL_F_NODE), EINVAL);
	EXPECT_ERRNO(get_mempolicy_(&mode, NULL, 0, NULL, MPOL_F_MEMS_ALLOWED | MPOL_F_ADDR), EINVAL);
	/* An address without MPOL_F_ADDR. */
	EXPECT_ERRNO(get_mempolicy_(&mode, NULL, 0, &mode, 0), EINVAL);
	/* MPOL_F_NODE without interleaving or an address. */
	EXPECT_ERRNO(get_mempolicy_(&mode, NULL, 0, NULL, MPOL_F_NODE), EINVAL);
	/* A mask too small for the node IDs. */
	EXPECT_ERRNO(get_mempolicy_(&mode, &mask, 0, NULL, 0), EINVAL);
}

TEST(get_mempolicy, MPOL_F_MEMS_ALLOWED_reports_node_0)
{
	need_one_node();
	int mode = -1;
	unsigned long mask[2] = {0, ~0UL};
	ASSERT_SYSCALL_OK(get_mempolicy_(&mode, mask, 128, NULL, MPOL_F_MEMS_ALLOWED));
	EXPECT_EQ(mode, 0);
	EXPECT_EQ(mask[0], 1);
	/* The part of the mask past the node IDs is cleared. */
	EXPECT_EQ(mask[1], 0);
}

TEST(get_mempolicy, mask_copy_sizes)
{
	need_one_node();
	unsigned long mask[3] = {~0UL, ~0UL, ~0UL};
	/* maxnode 1: no bits at all are written. */
	ASSERT_SYSCALL_OK(get_mempolicy_(NULL, mask, 1, NULL, MPOL_F_MEMS_ALLOWED));
	EXPECT_EQ(mask[0], ~0UL);
	/* More than a page of bits: EINVAL. */
	EXPECT_ERRNO(get_mempolicy_(NULL, mask, 4096 * 8 + 2, NULL, MPOL_F_MEMS_ALLOWED), EINVAL);
	EXPECT_ERRNO(get_mempolicy_(NULL, (unsigned long *)1, 64, NULL, MPOL_F_MEMS_ALLOWED), EFAULT);
	int *bad = (int *)1;
	EXPECT_ERRNO(get_mempolicy_(bad, NULL, 0, NULL, 0), EFAULT);
}

TEST(mbind, policy_of_a_range_reads_back_by_address)
{
	need_one_node();
	char *p = map_pages(3);
	unsigned long one = 1;
	ASSERT_SYSCALL_OK(mbind_(p + 4096, 4096, MPOL_BIND, &one, 64, 0));
	int mode = -1;
	unsigned long mask = 0;
	ASSERT_SYSCALL_OK(get_mempolicy_(&mode, &mask, 64, p + 4096 + 10, MPOL_F_ADDR));
	EXPECT_EQ(mode, MPOL_BIND);
	EXPECT_EQ(mask, 1);
	/* Its neighbours keep no policy: not the task's either. */
	unsigned long two = 1;
	ASSERT_SYSCALL_OK(set_mempolicy_(MPOL_INTERLEAVE, &two, 64));
	ASSERT_SYSCALL_OK(get_mempolicy_(&mode, &mask, 64, p, MPOL_F_ADDR));
	EXPECT_EQ(mode, MPOL_DEFAULT);
	ASSERT_SYSCALL_OK(get_mempolicy_(&mode, NULL, 0, p + 2 * 4096, MPOL_F_ADDR));
	EXPECT_EQ(mode, MPOL_DEFAULT);
	/* The node of a page of the range. */
	p[4096] = 1;
	mode = -1;
	ASSERT_SYSCALL_OK(get_mempolicy_(&mode, NULL, 0, p + 4096, MPOL_F_ADDR | MPOL_F_NODE));
	EXPECT_EQ(mode, 0);
	/* MPOL_DEFAULT takes it back. */
	ASSERT_SYSCALL_OK(mbind_(p, 3 * 4096, MPOL_DEFAULT, NULL, 0, MPOL_MF_STRICT));
	ASSERT_SYSCALL_OK(get_mempolicy_(&mode, NULL, 0, p + 4096, MPOL_F_ADDR));
	EXPECT_EQ(mode, MPOL_DEFAULT);
}

TEST(mbind, policy_is_inherited_on_fork)
{
	need_one_node();
	char *p = map_pages(1);
	ASSERT_SYSCALL_OK(mbind_(p, 4096, MPOL_PREFERRED, NULL, 0, 0));
	pid_t pid = fork();
	ASSERT_SYSCALL_OK(pid);
	if (pid == 0) {
		int mode = -1;
		ASSERT_SYSCALL_OK(get_mempolicy_(&mode, NULL, 0, p, MPOL_F_ADDR));
		EXPECT_EQ(mode, MPOL_LOCAL);
		_exit(0);
	}
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
}

TEST(mbind, errors_in_Linux_order)
{
	need_one_node();
	char *p = map_pages(2);
	unsigned long one = 1;
	/* Mode first, then the mask, then the flags and the range. */
	EXPECT_ERRNO(mbind_(p + 1, 4096, 9, (unsigned long *)1, 64, 0x80), EINVAL);
	EXPECT_ERRNO(mbind_(p + 1, 4096, MPOL_BIND, (unsigned long *)1, 64, 0x80), EFAULT);
	EXPECT_ERRNO(mbind_(p, 4096, MPOL_BIND, &one, 64, 0x80), EINVAL);
	EXPECT_ERRNO(mbind_(p + 1, 4096, MPOL_BIND, &one, 64, 0), EINVAL);
	/* An empty range succeeds before the policy is built. */
	EXPECT_SYSCALL_OK(mbind_(p, 0, MPOL_BIND, NULL, 0, 0));
	EXPECT_ERRNO(mbind_(p, 4096, MPOL_BIND, NULL, 0, 0), EINVAL);
	/* A range that wraps. */
	EXPECT_ERRNO(mbind_(p, -8192UL, MPOL_BIND, &one, 64, 0), EINVAL);
	/* A hole in the range: EFAULT, and nothing changed. */
	ASSERT_SYSCALL_OK(munmap(p + 4096, 4096));
	EXPECT_ERRNO(mbind_(p, 8192, MPOL_BIND, &one, 64, 0), EFAULT);
	int mode = -1;
	ASSERT_SYSCALL_OK(get_mempolicy_(&mode, NULL, 0, p, MPOL_F_ADDR));
	EXPECT_EQ(mode, MPOL_DEFAULT);
	EXPECT_ERRNO(get_mempolicy_(&mode, NULL, 0, p + 4096, MPOL_F_ADDR), EFAULT);
}

TEST(mbind, MPOL_MF_MOVE_ALL_without_CAP_SYS_NICE_is_EPERM)
{
	need_one_node();
	char *p = map_pages(1);
	unsigned long one = 1;
	drop_all_caps();
	EXPECT_ERRNO(mbind_(p + 1, 4096, MPOL_BIND, &one, 64, MPOL_MF_MOVE_ALL), EPERM);
	EXPECT_SYSCALL_OK(mbind_(p, 4096, MPOL_BIND, &one, 64, MPOL_MF_MOVE | MPOL_MF_STRICT));
}

TEST(set_mempolicy_home_node, node_0_on_bound_ranges)
{
	need_one_node();
	char *p = map_pages(3);
	unsigned long one = 1;
	long r = syscall(SYS_set_mempolicy_home_node, p, 3 * 4096, 0, 0);
	if (r == -1 && errno == ENOSYS && !test_in_sandbox())
		TEST_SKIP("the host kernel has no set_mempolicy_home_node");
	/* No mapping of the range has a policy: ENOENT. */
	EXPECT_EQ(r, -1);
	EXPECT_EQ(errno, ENOENT);
	ASSERT_SYSCALL_OK(mbind_(p, 4096, MPOL_BIND, &one, 64, 0));
	EXPECT_SYSCALL_OK(syscall(SYS_set_mempolicy_home_node, p, 3 * 4096, 0, 0));
	EXPECT_ERRNO(syscall(SYS_set_mempolicy_home_node, p + 4096, 4096, 0, 0), ENOENT);
	ASSERT_SYSCALL_OK(mbind_(p + 8192, 4096, MPOL_INTERLEAVE, &one, 64, 0));
	EXPECT_ERRNO(syscall(SYS_set_mempolicy_home_node, p, 3 * 4096, 0, 0), EOPNOTSUPP);
	/* Holes are skipped. */
	ASSERT_SYSCALL_OK(munmap(p + 4096, 4096));
	EXPECT_SYSCALL_OK(syscall(SYS_set_mempolicy_home_node, p, 2 * 4096, 0, 0));
}

TEST(set_mempolicy_home_node, argument_errors_are_EINVAL)
{
	need_one_node();
	char *p = map_pages(1);
	long r = syscall(SYS_set_mempolicy_home_node, p + 1, 4096, 0, 0);
	if (r == -1 && errno == ENOSYS && !test_in_sandbox())
		TEST_SKIP("the host kernel has no set_mempolicy_home_node");
	EXPECT_EQ(r, -1);
	EXPECT_EQ(errno, EINVAL);
	EXPECT_ERRNO(syscall(SYS_set_mempolicy_home_node, p, 4096, 0, 1), EINVAL);
	EXPECT_ERRNO(syscall(SYS_set_mempolicy_home_node, p, 4096, 1, 0), EINVAL);
	EXPECT_ERRNO(syscall(SYS_set_mempolicy_home_node, p, 4096, 4096, 0), EINVAL);
	EXPECT_ERRNO(syscall(SYS_set_mempolicy_home_node, p, -8192UL, 0, 0), EINVAL);
	EXPECT_EQ(syscall(SYS_set_mempolicy_home_node, p, 0, 0, 0), 0);
}

TEST(migrate_pages, to_node_0_moves_nothing)
{
	need_one_node();
	unsigned long one = 1;
	EXPECT_EQ(syscall(SYS_migrate_pages, 0, 64, &one, &one), 0);
	EXPECT_EQ(syscall(SYS_migrate_pages, getpid(), 64, &one, &one), 0);
}

TEST(migrate_pages, errors)
{
	need_one_node();
	unsigned long one = 1, none = 0, two = 2;
	EXPECT_ERRNO(syscall(SYS_migrate_pages, 0, 64, (unsigned long *)1, &one), EFAULT);
	EXPECT_ERRNO(syscall(SYS_migrate_pages, 0, 64, &one, (unsigned long *)1), EFAULT);
	EXPECT_ERRNO(syscall(SYS_migrate_pages, 0, 4096 * 8 + 2, &one, &one), EINVAL);
	EXPECT_ERRNO(syscall(SYS_migrate_pages, 0x3ffffff0, 64, &one, &one), ESRCH);
	/* No node to move to. */
	EXPECT_ERRNO(syscall(SYS_migrate_pages, 0, 64, &one, &none), EINVAL);
	/* Nodes outside the allowed ones need CAP_SYS_NICE. */
	drop_all_caps();
	EXPECT_ERRNO(syscall(SYS_migrate_pages, 0, 64, &one, &two), EPERM);
}

TEST(move_pages, status_reports_node_0_or_why_not)
{
	need_one_node();
	char *p = map_pages(3);
	/* The untouched page is a mapping of its own (read-only), so that
	 * no fault-around of the touched one can reach it. */
	ASSERT_SYSCALL_OK(mprotect(p + 4096, 4096, PROT_READ));
	p[0] = 1;
	ASSERT_SYSCALL_OK(munmap(p + 2 * 4096, 4096));
	void *pages[3] = {p, p + 4096, p + 2 * 4096};
	int status[3] = {-1, -1, -1};
	ASSERT_SYSCALL_OK(syscall(SYS_move_pages, 0, 3, pages, NULL, status, 0));
	EXPECT_EQ(status[0], 0);
	EXPECT_EQ(status[1], -ENOENT);
	EXPECT_EQ(status[2], -EFAULT);
	/* With target nodes: node 0, where they are. */
	int nodes[3] = {0, 0, 0};
	memset(status, 0xff, sizeof(status));
	ASSERT_SYSCALL_OK(syscall(SYS_move_pages, getpid(), 3, pages, nodes, status, MPOL_MF_MOVE));
	EXPECT_EQ(status[0], 0);
	EXPECT_EQ(status[1], -ENOENT);
	EXPECT_EQ(status[2], -EFAULT);
}

TEST(move_pages, many_pages_in_chunks)
{
	need_one_node();
	enum { N = 40 };
	char *p = map_pages(N);
	void *pages[N];
	int status[N];
	for (int i = 0; i < N; i++) {
		pages[i] = p + i * 4096;
		/* Untouched pages are mappings of their own (read-only), so
		 * that no fault-around of a touched one can reach them. */
		if (i % 3 != 0)
			ASSERT_SYSCALL_OK(mprotect(p + i * 4096, 4096, PROT_READ));
	}
	for (int i = 0; i < N; i += 3)
		p[i * 4096] = 1;
	ASSERT_SYSCALL_OK(syscall(SYS_move_pages, 0, N, pages, NULL, status, 0));
	for (int i = 0; i < N; i++)
		EXPECT_EQ(status[i], i % 3 == 0 ? 0 : -ENOENT);
}

TEST(move_pages, errors)
{
	need_one_node();
	char *p = map_pages(1);
	p[0] = 1;
	void *pages[1] = {p};
	int status[1], nodes[1] = {1};
	EXPECT_ERRNO(syscall(SYS_move_pages, 0, 1, pages, NULL, status, 8), EINVAL);
	EXPECT_ERRNO(syscall(SYS_move_pages, 0x3ffffff0, 1, pages, NULL, status, 0), ESRCH);
	EXPECT_ERRNO(syscall(SYS_move_pages, 0, 1, (void *)1, NULL, status, 0), EFAULT);
	EXPECT_ERRNO(syscall(SYS_move_pages, 0, 1, pages, NULL, (void *)1, 0), EFAULT);
	/* A node that has no memory. */
	EXPECT_ERRNO(syscall(SYS_move_pages, 0, 1, pages, nodes, status, 0), ENODEV);
	nodes[0] = -1;
	EXPECT_ERRNO(syscall(SYS_move_pages, 0, 1, pages, nodes, status, 0), ENODEV);
	EXPECT_SYSCALL_OK(syscall(SYS_move_pages, 0, 0, NULL, NULL, NULL, 0));
	drop_all_caps();
	EXPECT_ERRNO(syscall(SYS_move_pages, 0, 1, pages, NULL, status, MPOL_MF_MOVE_ALL), EPERM);
}

TEST(move_pages, another_users_process_is_EPERM)
{
	need_one_node();
	if (geteuid() != 0)
		TEST_SKIP("needs root to make a process of another user");
	int p[2], ready[2];
	ASSERT_SYSCALL_OK(pipe(p));
	ASSERT_SYSCALL_OK(pipe(ready));
	pid_t pid = fork();
	ASSERT_SYSCALL_OK(pid);
	if (pid == 0) {
		char c = 0;
		close(p[1]);
		close(ready[0]);
		ASSERT_SYSCALL_OK(setresuid(65534, 65534, 65534));
		ASSERT_EQ(write(ready[1], &c, 1), 1);
		(void)!read(p[0], &c, 1);
		_exit(0);
	}
	close(p[0]);
	close(ready[1]);
	/* Wait until the child runs as the other user. */
	char c;
	ASSERT_EQ(read(ready[0], &c, 1), 1);
	drop_all_caps();
	void *pages[1] = {&p};
	int status[1];
	EXPECT_ERRNO(syscall(SYS_move_pages, pid, 1, pages, NULL, status, 0), EPERM);
	unsigned long one = 1;
	EXPECT_ERRNO(syscall(SYS_migrate_pages, pid, 64, &one, &one), EPERM);
	close(p[1]);
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
}
