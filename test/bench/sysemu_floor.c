/*
 * sysemu_floor N MODE: the cost of one guest system call under the smallest
 * possible PTRACE_SYSEMU tracer, i.e. the floor of any ptrace platform.
 *
 * A child makes N+warm-up raw getpid calls and then exit_group. The parent
 * traces it with PTRACE_SYSEMU: at each syscall stop it reads the registers,
 * sets rax to a fake pid, writes them back and resumes; the host kernel never
 * runs the call. The time from the first measured stop to the exit_group stop,
 * divided by N, is printed as "<ns> ns/op".
 *
 * MODE says where the two threads run:
 *   pinned  tracer and tracee both on one CPU (affinity set before fork)
 *   split   tracer on one CPU, tracee on another
 *   free    no affinity change; the scheduler decides
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

#define FAKE_PID 4242

static void die(const char *what)
{
	fprintf(stderr, "sysemu_floor: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void pin(int cpu)
{
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set) != 0)
		die("sched_setaffinity");
}

/* tracee runs in the child: stop for the tracer, then make only raw
 * getpid calls, exiting with status 3 if one returns the wrong value. */
static void tracee(long total)
{
	if (ptrace(PTRACE_TRACEME, 0, 0, 0) != 0)
		die("PTRACE_TRACEME");
	syscall(SYS_kill, syscall(SYS_getpid), SIGSTOP);
	long bad = 0;
	for (long i = 0; i < total; i++)
		bad |= syscall(SYS_getpid) != FAKE_PID;
	syscall(SYS_exit_group, bad ? 3 : 0);
	_exit(4); /* not reached: exit_group is emulated, the tracer kills us */
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: sysemu_floor N pinned|split|free\n");
		return 2;
	}
	long n = parse_count(argc, argv, 1, 1);
	const char *mode = argv[2];
	long warm = n / 10 < 1000 ? n / 10 : 1000;

	cpu_set_t allowed;
	if (sched_getaffinity(0, sizeof(allowed), &allowed) != 0)
		die("sched_getaffinity");
	int cpus[2] = {-1, -1}, found = 0;
	for (int c = 0; c < CPU_SETSIZE && found < 2; c++)
		if (CPU_ISSET(c, &allowed))
			cpus[found++] = c;

	int child_cpu = -1;
	if (strcmp(mode, "pinned") == 0) {
		pin(cpus[0]); /* inherited by the child */
	} else if (strcmp(mode, "split") == 0) {
		if (found < 2) {
			fprintf(stderr, "sysemu_floor: split needs two CPUs, have %d\n", found);
			return 1;
		}
		pin(cpus[0]);
		child_cpu = cpus[1];
	} else if (strcmp(mode, "free") != 0) {
		fprintf(stderr, "sysemu_floor: unknown mode %s\n", mode);
		return 2;
	}

	pid_t pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		if (child_cpu >= 0)
			pin(child_cpu);
		tracee(warm + n);
	}

	int status;
	if (waitpid(pid, &status, 0) != pid)
		die("waitpid");
	if (!WIFSTOPPED(status) || WSTOPSIG(status) != SIGSTOP) {
		fprintf(stderr, "sysemu_floor: child did not stop: status 0x%x\n", status);
		return 1;
	}
	if (ptrace(PTRACE_SETOPTIONS, pid, 0, PTRACE_O_EXITKILL) != 0)
		die("PTRACE_SETOPTIONS");

	long stops = 0;
	long long t0 = 0, t1 = 0;
	int code = -1;
	for (;;) {
		if (ptrace(PTRACE_SYSEMU, pid, 0, 0) != 0)
			die("PTRACE_SYSEMU");
		if (waitpid(pid, &status, 0) != pid)
			die("waitpid");
		if (!WIFSTOPPED(status) || WSTOPSIG(status) != SIGTRAP) {
			fprintf(stderr, "sysemu_floor: unexpected wait status 0x%x\n", status);
			kill(pid, SIGKILL);
			return 1;
		}
		struct user_regs_struct regs;
		if (ptrace(PTRACE_GETREGS, pid, 0, &regs) != 0)
			die("PTRACE_GETREGS");
		if (stops == warm)
			t0 = now_ns();
		if (regs.orig_rax == SYS_exit_group) {
			t1 = now_ns();
			code = (int)regs.rdi;
			break;
		}
		if (regs.orig_rax != SYS_getpid) {
			fprintf(stderr, "sysemu_floor: unexpected syscall %llu\n", regs.orig_rax);
			kill(pid, SIGKILL);
			return 1;
		}
		stops++;
		regs.rax = FAKE_PID;
		if (ptrace(PTRACE_SETREGS, pid, 0, &regs) != 0)
			die("PTRACE_SETREGS");
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);

	if (code != 0 || stops != warm + n) {
		fprintf(stderr, "sysemu_floor: tracee saw wrong results (exit %d, %ld stops)\n",
			code, stops);
		return 1;
	}
	printf("%.1f ns/op (%ld iterations, %s)\n", (double)(t1 - t0) / n, n, mode);
	return 0;
}
