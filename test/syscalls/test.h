/*
 * test.h — the single-header test framework of Palisade's syscall suite.
 *
 * Each test file is one static binary. A case is declared with
 *
 *     TEST(pipe, write_to_closed_read_end_raises_SIGPIPE_and_returns_EPIPE) {
 *         ...
 *     }
 *
 * and registered before main by a constructor. test_main.c (linked into every
 * binary) runs each case in a forked child that is the leader of its own
 * process group, with alarm(10) as a timeout, so a crash, a hang or a stray
 * signal fails only that case. Cases must therefore not use alarm(2) or
 * change SIGALRM's disposition.
 *
 * Assertions:
 *   EXPECT_EQ/NE/LT/LE/GT/GE(a, b)   integer (or pointer) comparison
 *   EXPECT_TRUE(c) / EXPECT_FALSE(c)
 *   EXPECT_STREQ(a, b) / EXPECT_STRNE(a, b)
 *   EXPECT_MEMEQ(a, b, n)
 *   EXPECT_SYSCALL_OK(expr)           expr != -1; evaluates to expr's value
 *   EXPECT_ERRNO(expr, E)             expr == -1 and errno == E
 *   EXPECT_EXIT_STATUS(wstatus, n)    WIFEXITED and WEXITSTATUS == n
 *   EXPECT_KILLED_BY(wstatus, sig)    WIFSIGNALED and WTERMSIG == sig
 * Each EXPECT_x has an ASSERT_x twin that ends the current process (the case,
 * or a child it forked) on failure. A failure anywhere in the case's process
 * tree — including children it forked — fails the case: failures are
 * recorded in memory shared with the runner.
 *
 * Helpers:
 *   test_tmpdir()          a fresh directory under /tmp for this case,
 *                          removed by the runner after the case ends.
 *   test_path(name)        test_tmpdir() + "/" + name (static buffer ring).
 *   test_self_exe()        the path of the test binary (for exec tests).
 *   TEST_HELPER(name)      int fn(int argc, char **argv) run instead of the
 *                          cases when the binary is started as
 *                          `BINARY --helper name ARGS...` (for exec tests).
 *   test_wait_exit(pid)    waitpid and return the raw wait status.
 *   test_renameat2(old, new, flags)
 *                          renameat2(2) on two paths (AT_FDCWD), by its
 *                          syscall number; RENAME_NOREPLACE, _EXCHANGE and
 *                          _WHITEOUT are defined even where libc lacks them.
 *   test_in_sandbox()      1 when running inside Palisade's sandbox (its
 *                          uname version names it), else 0.
 *   TEST_SKIP(reason)      ends the case (and the process calling it),
 *                          reported as SKIP with reason, not as a pass.
 *   SKIP_UNLESS_IN_SANDBOX()
 *                          TEST_SKIP for cases that must never run on the
 *                          host (resource bombs the sandbox bounds).
 *   test_enter_private_mount_ns()
 *                          unshare(CLONE_NEWNS) and make every mount private,
 *                          so what the case mounts is not seen outside it;
 *                          returns 1, or 0 if the case may not (not root, or
 *                          EPERM: an unprivileged run) and should return.
 */
#ifndef PALISADE_TEST_H
#define PALISADE_TEST_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

typedef void (*test_fn)(void);
typedef int (*test_helper_fn)(int argc, char **argv);

void test_register(const char *suite, const char *name, test_fn fn);
void test_register_helper(const char *name, test_helper_fn fn);

/* Records a failure; if fatal, ends the calling process with status 1. */
void test_fail(const char *file, int line, int fatal, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

const char *test_tmpdir(void);
const char *test_path(const char *name);
const char *test_self_exe(void);
int test_wait_exit(pid_t pid);
int test_renameat2(const char *oldpath, const char *newpath,
		   unsigned int flags);
int test_enter_private_mount_ns(void);
int test_in_sandbox(void);
void test_skip(const char *reason) __attribute__((noreturn));

#define TEST_SKIP(reason) test_skip(reason)
#define SKIP_UNLESS_IN_SANDBOX()                                            \
	do {                                                                \
		if (!test_in_sandbox())                                     \
			test_skip("runs only in the sandbox");              \
	} while (0)

/* Flags of renameat2(2), for test_renameat2, where libc lacks them. */
#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1 << 0)
#endif
#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif
#ifndef RENAME_WHITEOUT
#define RENAME_WHITEOUT (1 << 2)
#endif

const char *test_errno_name(int e);
const char *test_signal_name(int sig);

#define TEST(suite, name)                                                  \
	static void test_##suite##__##name(void);                          \
	__attribute__((constructor)) static void test_reg_##suite##__##name( \
		void)                                                      \
	{                                                                  \
		test_register(#suite, #name, test_##suite##__##name);      \
	}                                                                  \
	static void test_##suite##__##name(void)

#define TEST_HELPER(name)                                                  \
	static int test_helper_##name(int argc, char **argv);              \
	__attribute__((constructor)) static void test_hreg_##name(void)    \
	{                                                                  \
		test_register_helper(#name, test_helper_##name);           \
	}                                                                  \
	static int test_helper_##name(int argc, char **argv)

/* ---- comparisons ---- */

#define TEST_CMP_(fatal, a, op, b)                                            \
	do {                                                                  \
		long long test_a_ = (long long)(a);                           \
		long long test_b_ = (long long)(b);                           \
		if (!(test_a_ op test_b_))                                    \
			test_fail(__FILE__, __LINE__, fatal,                  \
				  "expected %s %s %s, got %lld (0x%llx) vs "  \
				  "%lld (0x%llx)",                            \
				  #a, #op, #b, test_a_,                       \
				  (unsigned long long)test_a_, test_b_,       \
				  (unsigned long long)test_b_);               \
	} while (0)

#define EXPECT_EQ(a, b) TEST_CMP_(0, a, ==, b)
#define EXPECT_NE(a, b) TEST_CMP_(0, a, !=, b)
#define EXPECT_LT(a, b) TEST_CMP_(0, a, <, b)
#define EXPECT_LE(a, b) TEST_CMP_(0, a, <=, b)
#define EXPECT_GT(a, b) TEST_CMP_(0, a, >, b)
#define EXPECT_GE(a, b) TEST_CMP_(0, a, >=, b)
#define ASSERT_EQ(a, b) TEST_CMP_(1, a, ==, b)
#define ASSERT_NE(a, b) TEST_CMP_(1, a, !=, b)
#define ASSERT_LT(a, b) TEST_CMP_(1, a, <, b)
#define ASSERT_LE(a, b) TEST_CMP_(1, a, <=, b)
#define ASSERT_GT(a, b) TEST_CMP_(1, a, >, b)
#define ASSERT_GE(a, b) TEST_CMP_(1, a, >=, b)

#define TEST_BOOL_(fatal, c, want)                                            \
	do {                                                                  \
		if (((c) ? 1 : 0) != (want))                                          \
			test_fail(__FILE__, __LINE__, fatal,                  \
				  "expected %s to be %s", #c,                 \
				  (want) ? "true" : "false");                 \
	} while (0)

#define EXPECT_TRUE(c) TEST_BOOL_(0, c, 1)
#define EXPECT_FALSE(c) TEST_BOOL_(0, c, 0)
#define ASSERT_TRUE(c) TEST_BOOL_(1, c, 1)
#define ASSERT_FALSE(c) TEST_BOOL_(1, c, 0)

#define TEST_STR_(fatal, a, b, want_eq)                                       \
	do {                                                                  \
		const char *test_sa_ = (a);                                   \
		const char *test_sb_ = (b);                                   \
		int test_eq_ = test_sa_ && test_sb_ &&                        \
			       strcmp(test_sa_, test_sb_) == 0;               \
		if (test_eq_ != (want_eq))                                    \
			test_fail(__FILE__, __LINE__, fatal,                  \
				  "expected %s %s %s, got \"%s\" vs \"%s\"",  \
				  #a, (want_eq) ? "==" : "!=", #b,            \
				  test_sa_ ? test_sa_ : "(null)",             \
				  test_sb_ ? test_sb_ : "(null)");            \
	} while (0)

#define EXPECT_STREQ(a, b) TEST_STR_(0, a, b, 1)
#define EXPECT_STRNE(a, b) TEST_STR_(0, a, b, 0)
#define ASSERT_STREQ(a, b) TEST_STR_(1, a, b, 1)
#define ASSERT_STRNE(a, b) TEST_STR_(1, a, b, 0)

#define TEST_MEM_(fatal, a, b, n)                                             \
	do {                                                                  \
		if (memcmp((a), (b), (n)) != 0)                               \
			test_fail(__FILE__, __LINE__, fatal,                  \
				  "expected %zu bytes at %s and %s to be "    \
				  "equal",                                    \
				  (size_t)(n), #a, #b);                       \
	} while (0)

#define EXPECT_MEMEQ(a, b, n) TEST_MEM_(0, a, b, n)
#define ASSERT_MEMEQ(a, b, n) TEST_MEM_(1, a, b, n)

/* ---- system calls ---- */

#define TEST_SYSOK_(fatal, expr)                                              \
	({                                                                    \
		errno = 0;                                                    \
		long long test_r_ = (long long)(expr);                        \
		int test_e_ = errno;                                          \
		if (test_r_ == -1)                                            \
			test_fail(__FILE__, __LINE__, fatal,                  \
				  "expected %s to succeed, got -1 errno %s "  \
				  "(%s)",                                     \
				  #expr, test_errno_name(test_e_),            \
				  strerror(test_e_));                         \
		errno = test_e_;                                              \
		test_r_;                                                      \
	})

#define EXPECT_SYSCALL_OK(expr) TEST_SYSOK_(0, expr)
#define ASSERT_SYSCALL_OK(expr) TEST_SYSOK_(1, expr)

#define TEST_ERRNO_(fatal, expr, want)                                        \
	do {                                                                  \
		errno = 0;                                                    \
		long long test_r_ = (long long)(expr);                        \
		int test_e_ = errno;                                          \
		int test_w_ = (want);                                         \
		if (test_r_ != -1)                                            \
			test_fail(__FILE__, __LINE__, fatal,                  \
				  "expected %s to fail with %s (%s), got "    \
				  "%lld (0x%llx)",                            \
				  #expr, test_errno_name(test_w_),            \
				  strerror(test_w_), test_r_,                 \
				  (unsigned long long)test_r_);               \
		else if (test_e_ != test_w_)                                  \
			test_fail(__FILE__, __LINE__, fatal,                  \
				  "expected %s to fail with %s (%s), got "    \
				  "errno %s (%s)",                            \
				  #expr, test_errno_name(test_w_),            \
				  strerror(test_w_),                          \
				  test_errno_name(test_e_),                   \
				  strerror(test_e_));                         \
	} while (0)

#define EXPECT_ERRNO(expr, e) TEST_ERRNO_(0, expr, e)
#define ASSERT_ERRNO(expr, e) TEST_ERRNO_(1, expr, e)

/* ---- wait statuses ---- */

#define TEST_EXIT_(fatal, ws, n)                                              \
	do {                                                                  \
		int test_ws_ = (ws);                                          \
		int test_n_ = (n);                                            \
		if (!WIFEXITED(test_ws_) || WEXITSTATUS(test_ws_) != test_n_) \
			test_fail(__FILE__, __LINE__, fatal,                  \
				  "expected %s to be exit(%d), got %s %d "    \
				  "(status 0x%x)",                            \
				  #ws, test_n_,                               \
				  WIFEXITED(test_ws_) ? "exit" : "signal",    \
				  WIFEXITED(test_ws_) ? WEXITSTATUS(test_ws_) \
						      : WTERMSIG(test_ws_),   \
				  test_ws_);                                  \
	} while (0)

#define EXPECT_EXIT_STATUS(ws, n) TEST_EXIT_(0, ws, n)
#define ASSERT_EXIT_STATUS(ws, n) TEST_EXIT_(1, ws, n)

#define TEST_KILLED_(fatal, ws, sig)                                          \
	do {                                                                  \
		int test_ws_ = (ws);                                          \
		int test_s_ = (sig);                                          \
		if (!WIFSIGNALED(test_ws_) || WTERMSIG(test_ws_) != test_s_)  \
			test_fail(__FILE__, __LINE__, fatal,                  \
				  "expected %s to be killed by %s, got "      \
				  "status 0x%x",                              \
				  #ws, test_signal_name(test_s_), test_ws_);  \
	} while (0)

#define EXPECT_KILLED_BY(ws, sig) TEST_KILLED_(0, ws, sig)
#define ASSERT_KILLED_BY(ws, sig) TEST_KILLED_(1, ws, sig)

#endif /* PALISADE_TEST_H */
