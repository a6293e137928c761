/*
 * forkexec_loop N PATH [ARG...]: N times fork, exec PATH with its arguments
 * in the child, and wait for it; each run must exit 0. Prints the mean time
 * of one fork+exec+wait as "<ns> ns/op".
 */
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

static void run_once(char **argv)
{
	pid_t pid = fork();
	if (pid < 0) {
		perror("forkexec_loop: fork");
		exit(1);
	}
	if (pid == 0) {
		execv(argv[0], argv);
		perror("forkexec_loop: execv");
		_exit(127);
	}
	int status;
	if (waitpid(pid, &status, 0) != pid) {
		perror("forkexec_loop: waitpid");
		exit(1);
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "forkexec_loop: %s: wait status 0x%x\n", argv[0], status);
		exit(1);
	}
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: forkexec_loop N PATH [ARG...]\n");
		return 2;
	}
	long n = parse_count(argc, argv, 1, 1);
	char **child = argv + 2;

	run_once(child); /* warm-up; also fails fast if PATH cannot run */
	long long t0 = now_ns();
	for (long i = 0; i < n; i++)
		run_once(child);
	long long t1 = now_ns();
	printf("%.1f ns/op (%ld iterations)\n", (double)(t1 - t0) / n, n);
	return 0;
}
