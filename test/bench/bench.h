/* Small helpers shared by the benchmark programs. */
#ifndef BENCH_H
#define BENCH_H

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static inline long long now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* parse_count returns argv[i] as a positive count, or def if absent. */
static inline long parse_count(int argc, char **argv, int i, long def)
{
	if (argc <= i)
		return def;
	char *end;
	long n = strtol(argv[i], &end, 10);
	if (*end != '\0' || n <= 0) {
		fprintf(stderr, "%s: bad count %s\n", argv[0], argv[i]);
		exit(2);
	}
	return n;
}

#endif
