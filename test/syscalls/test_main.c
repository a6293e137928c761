/*
 * test_main.c — the runner half of test.h, linked into every test binary.
 *
 * Usage: BINARY [--list] [suite.name | suite ...]
 *        BINARY --helper NAME [ARGS...]
 * Env:   SKIP_TESTS="suite.name suite.name2"   cases to report as SKIP.
 *
 * Each selected case runs in a forked child: the child becomes the leader of
 * a new process group, arms alarm(10) and runs the case. The parent waits,
 * then SIGKILLs whatever is left of the group and removes the case's
 * test_tmpdir(). Failures are recorded in a MAP_SHARED page, so assertions in
 * processes the case forked count too.
 */
#include "test.h"

#include <ftw.h>
#include <limits.h>
#include <sched.h>
#include <stdarg.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/utsname.h>

#define TEST_TIMEOUT_SECONDS 10

struct test_case {
	const char *suite;
	const char *name;
	test_fn fn;
	struct test_case *next;
	int selected;
};

struct test_helper {
	const char *name;
	test_helper_fn fn;
	struct test_helper *next;
};

/* Lives in a MAP_SHARED page: written by the case's processes. */
struct test_shared {
	int failures;
	int skipped;
	char skip_reason[256];
	char first_failure[1024];
	char tmpdir[256];
};

static struct test_case *cases_head, **cases_tail = &cases_head;
static struct test_helper *helpers;
static struct test_shared *shared;
static struct test_shared fallback_shared; /* for --helper runs */
static char self_exe[PATH_MAX];

void test_register(const char *suite, const char *name, test_fn fn)
{
	struct test_case *c = calloc(1, sizeof(*c));
	if (!c)
		abort();
	c->suite = suite;
	c->name = name;
	c->fn = fn;
	*cases_tail = c;
	cases_tail = &c->next;
}

void test_register_helper(const char *name, test_helper_fn fn)
{
	struct test_helper *h = calloc(1, sizeof(*h));
	if (!h)
		abort();
	h->name = name;
	h->fn = fn;
	h->next = helpers;
	helpers = h;
}

void test_fail(const char *file, int line, int fatal, const char *fmt, ...)
{
	char msg[900], out[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	int n = snprintf(out, sizeof(out), "  %s:%d: %s\n", file, line, msg);
	if (n > (int)sizeof(out) - 1)
		n = sizeof(out) - 1;
	fflush(stdout);
	/* One write so lines from several processes do not interleave. */
	if (write(STDOUT_FILENO, out, n) < 0) {
		/* Nothing better to do: the shared record still holds it. */
	}
	if (__atomic_fetch_add(&shared->failures, 1, __ATOMIC_SEQ_CST) == 0) {
		snprintf(shared->first_failure, sizeof(shared->first_failure),
			 "%s:%d: %s", file, line, msg);
	}
	if (fatal)
		_exit(1);
}

const char *test_tmpdir(void)
{
	if (shared->tmpdir[0] == '\0') {
		char tmpl[] = "/tmp/palisade-test-XXXXXX";
		if (!mkdtemp(tmpl))
			test_fail(__FILE__, __LINE__, 1,
				  "mkdtemp under /tmp failed: %s",
				  strerror(errno));
		chmod(tmpl, 0700); /* whatever umask the case has set */
		snprintf(shared->tmpdir, sizeof(shared->tmpdir), "%s", tmpl);
	}
	return shared->tmpdir;
}

const char *test_path(const char *name)
{
	static char ring[8][PATH_MAX];
	static int next;
	char *buf = ring[next++ % 8];
	snprintf(buf, PATH_MAX, "%s/%s", test_tmpdir(), name);
	return buf;
}

const char *test_self_exe(void)
{
	return self_exe;
}

int test_wait_exit(pid_t pid)
{
	int ws = 0;
	pid_t r;
	do {
		r = waitpid(pid, &ws, 0);
	} while (r == -1 && errno == EINTR);
	if (r != pid)
		test_fail(__FILE__, __LINE__, 1, "waitpid(%d) returned %d: %s",
			  (int)pid, (int)r, strerror(errno));
	return ws;
}

int test_renameat2(const char *oldpath, const char *newpath,
		   unsigned int flags)
{
	return syscall(SYS_renameat2, AT_FDCWD, oldpath, AT_FDCWD, newpath,
		       flags);
}

int test_enter_private_mount_ns(void)
{
	if (geteuid() != 0)
		return 0;
	if (unshare(CLONE_NEWNS) != 0) {
		EXPECT_EQ(errno, EPERM);
		return 0;
	}
	ASSERT_SYSCALL_OK(mount("", "/", NULL, MS_REC | MS_PRIVATE, NULL));
	return 1;
}

int test_in_sandbox(void)
{
	struct utsname u;
	return uname(&u) == 0 && strstr(u.version, "Palisade") != NULL;
}

void test_skip(const char *reason)
{
	if (__atomic_exchange_n(&shared->skipped, 1, __ATOMIC_SEQ_CST) == 0)
		snprintf(shared->skip_reason, sizeof(shared->skip_reason),
			 "%s", reason);
	fflush(stdout);
	_exit(0);
}

const char *test_errno_name(int e)
{
	const char *n = strerrorname_np(e);
	return n ? n : "E?";
}

const char *test_signal_name(int sig)
{
	const char *n = sigabbrev_np(sig);
	static char buf[32];
	snprintf(buf, sizeof(buf), "SIG%s", n ? n : "?");
	return buf;
}

static int remove_entry(const char *path, const struct stat *st, int flag,
			struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP || flag == FTW_D || flag == FTW_DNR)
		rmdir(path);
	else
		unlink(path);
	return 0;
}

/* Makes every directory searchable and writable so it can be emptied even
 * when a case left it with mode 0 and we are not privileged. */
static int open_up_dir(const char *path, const struct stat *st, int flag,
		       struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_D || flag == FTW_DNR)
		chmod(path, 0700);
	return 0;
}

static void remove_tmpdir(void)
{
	if (shared->tmpdir[0] == '\0')
		return;
	nftw(shared->tmpdir, open_up_dir, 16, FTW_PHYS);
	nftw(shared->tmpdir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	shared->tmpdir[0] = '\0';
}

static int name_in_list(const char *list, const char *full)
{
	size_t n = strlen(full);
	const char *p = list;
	while (p && *p) {
		while (*p == ' ' || *p == '\t' || *p == '\n' || *p == ',')
			p++;
		const char *e = p;
		while (*e && *e != ' ' && *e != '\t' && *e != '\n' && *e != ',')
			e++;
		if ((size_t)(e - p) == n && strncmp(p, full, n) == 0)
			return 1;
		p = e;
	}
	return 0;
}

/* Runs one case in a child; returns 1 if it passed. */
static int run_case(struct test_case *c, char *reason, size_t reason_len)
{
	memset(shared, 0, sizeof(*shared));
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	if (pid < 0) {
		snprintf(reason, reason_len, "fork failed: %s",
			 strerror(errno));
		return 0;
	}
	if (pid == 0) {
		setpgid(0, 0);
		for (int s = 1; s < NSIG; s++)
			signal(s, SIG_DFL);
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		alarm(TEST_TIMEOUT_SECONDS);
		c->fn();
		fflush(stdout);
		fflush(stderr);
		_exit(__atomic_load_n(&shared->failures, __ATOMIC_SEQ_CST) ? 1
									   : 0);
	}
	setpgid(pid, pid); /* close the race with the child's own setpgid */
	int ws = 0;
	pid_t r;
	do {
		r = waitpid(pid, &ws, 0);
	} while (r == -1 && errno == EINTR);
	kill(-pid, SIGKILL); /* stragglers the case forked */
	remove_tmpdir();

	if (r != pid) {
		snprintf(reason, reason_len, "waitpid failed: %s",
			 strerror(errno));
		return 0;
	}
	int failures = __atomic_load_n(&shared->failures, __ATOMIC_SEQ_CST);
	if (WIFSIGNALED(ws)) {
		if (WTERMSIG(ws) == SIGALRM)
			snprintf(reason, reason_len, "timed out after %ds%s%s",
				 TEST_TIMEOUT_SECONDS,
				 failures ? "; first failure: " : "",
				 failures ? shared->first_failure : "");
		else
			snprintf(reason, reason_len, "killed by %s%s%s",
				 test_signal_name(WTERMSIG(ws)),
				 failures ? "; first failure: " : "",
				 failures ? shared->first_failure : "");
		return 0;
	}
	if (failures) {
		snprintf(reason, reason_len, "%s%s", shared->first_failure,
			 failures > 1 ? " (and more)" : "");
		return 0;
	}
	if (!WIFEXITED(ws) || WEXITSTATUS(ws) != 0) {
		snprintf(reason, reason_len, "case exited with status %d",
			 WEXITSTATUS(ws));
		return 0;
	}
	return 1;
}

int main(int argc, char **argv)
{
	if (argv[0] && strchr(argv[0], '/') && realpath(argv[0], self_exe)) {
		/* resolved */
	} else {
		ssize_t n = readlink("/proc/self/exe", self_exe,
				     sizeof(self_exe) - 1);
		self_exe[n > 0 ? n : 0] = '\0';
	}

	if (argc >= 3 && strcmp(argv[1], "--helper") == 0) {
		shared = &fallback_shared;
		for (struct test_helper *h = helpers; h; h = h->next)
			if (strcmp(h->name, argv[2]) == 0)
				return h->fn(argc - 2, argv + 2);
		fprintf(stderr, "unknown helper %s\n", argv[2]);
		return 127;
	}

	int list = 0, any_selected = 0;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--list") == 0) {
			list = 1;
			continue;
		}
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			printf("usage: %s [--list] [suite.name | suite ...]\n"
			       "env SKIP_TESTS=\"suite.name ...\" skips "
			       "cases\n",
			       argv[0]);
			return 0;
		}
		int matched = 0;
		for (struct test_case *c = cases_head; c; c = c->next) {
			char full[512];
			snprintf(full, sizeof(full), "%s.%s", c->suite, c->name);
			if (strcmp(argv[i], full) == 0 ||
			    strcmp(argv[i], c->suite) == 0) {
				c->selected = 1;
				matched = 1;
			}
		}
		if (!matched) {
			fprintf(stderr, "no test case named %s\n", argv[i]);
			return 2;
		}
		any_selected = 1;
	}

	if (list) {
		for (struct test_case *c = cases_head; c; c = c->next)
			if (!any_selected || c->selected)
				printf("%s.%s\n", c->suite, c->name);
		return 0;
	}

	shared = mmap(NULL, sizeof(*shared), PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (shared == MAP_FAILED) {
		perror("mmap shared page");
		return 2;
	}

	const char *skips = getenv("SKIP_TESTS");
	int passed = 0, failed = 0, skipped = 0;
	for (struct test_case *c = cases_head; c; c = c->next) {
		if (any_selected && !c->selected)
			continue;
		char full[512], reason[1200];
		snprintf(full, sizeof(full), "%s.%s", c->suite, c->name);
		if (skips && name_in_list(skips, full)) {
			printf("SKIP %s\n", full);
			skipped++;
			continue;
		}
		reason[0] = '\0';
		int ok = run_case(c, reason, sizeof(reason));
		if (ok && shared->skipped) {
			printf("SKIP %s: %s\n", full, shared->skip_reason);
			skipped++;
		} else if (ok) {
			printf("PASS %s\n", full);
			passed++;
		} else {
			printf("FAIL %s: %s\n", full, reason);
			failed++;
		}
		fflush(stdout);
	}
	if (skipped)
		printf("(%d skipped)\n", skipped);
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
