/*
 * A SIGALRM handler installed with SA_ONSTACK by a process that never
 * called sigaltstack must run on the normal stack (CPython installs all
 * its handlers with SA_ONSTACK).
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

static volatile sig_atomic_t fired;

static void handler(int sig) { fired = sig; }

int main(void) {
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = handler;
	sa.sa_flags = SA_ONSTACK;
	if (sigaction(SIGALRM, &sa, NULL) != 0) {
		perror("sigaction");
		return 1;
	}
	struct itimerval it = {{0, 0}, {0, 50000}};
	if (setitimer(ITIMER_REAL, &it, NULL) != 0) {
		perror("setitimer");
		return 1;
	}
	while (!fired)
		pause();
	printf("fired %d\n", fired);
	return 0;
}
