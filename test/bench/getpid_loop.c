/*
 * getpid_loop N: makes N raw getpid system calls (no libc caching) and
 * prints the mean time of one, as "<ns> ns/op". A short warm-up runs first.
 */
#include <sys/syscall.h>
#include <unistd.h>

#include "bench.h"

int main(int argc, char **argv)
{
	long n = parse_count(argc, argv, 1, 100000);
	long warm = n / 10 < 1000 ? n / 10 : 1000;
	long pid = syscall(SYS_getpid);

	for (long i = 0; i < warm; i++)
		syscall(SYS_getpid);
	long long t0 = now_ns();
	for (long i = 0; i < n; i++) {
		if (syscall(SYS_getpid) != pid) {
			fprintf(stderr, "getpid_loop: getpid changed\n");
			return 1;
		}
	}
	long long t1 = now_ns();
	printf("%.1f ns/op (%ld iterations)\n", (double)(t1 - t0) / n, n);
	return 0;
}
