/*
 * fs_bench MODE ARGS: file-system costs, printed as "<value> <unit> ...".
 *
 *   stat PATH N       N stat(PATH) calls; ns/op
 *   read PATH N       N times open(PATH) + read of up to 4 KiB + close; ns/op
 *   readdir DIR N     N full listings of DIR (open, getdents64 until 0,
 *                     close); ns per listing
 *   seq PATH MIB      writes MIB MiB to PATH in 1 MiB writes, fsyncs and
 *                     closes it, then reads it back; prints
 *                     "<write MB/s> <read MB/s> MB/s". PATH is left for
 *                     the caller to remove (a sandbox drops its tmpfs
 *                     with it)
 *
 * For stat and read, "-c" before PATH creates PATH (4 KiB) first, so a file
 * on the sandbox's private tmpfs exists inside the run that uses it.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "bench.h"

#define SMALL 4096
#define CHUNK (1 << 20)

static void die(const char *what, const char *path)
{
	fprintf(stderr, "fs_bench: %s %s: ", what, path);
	perror(NULL);
	exit(1);
}

static void create_small(const char *path)
{
	char buf[SMALL];
	memset(buf, 'x', sizeof buf);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write(fd, buf, sizeof buf) != sizeof buf || close(fd) != 0)
		die("create", path);
}

static void bench_stat(const char *path, long n)
{
	struct stat st;
	for (long i = 0; i < n / 10 + 1; i++) /* warm-up */
		if (stat(path, &st) != 0)
			die("stat", path);
	long long t0 = now_ns();
	for (long i = 0; i < n; i++)
		if (stat(path, &st) != 0)
			die("stat", path);
	long long t1 = now_ns();
	printf("%.1f ns/op (%ld iterations)\n", (double)(t1 - t0) / n, n);
}

static void read_once(const char *path)
{
	static char buf[SMALL];
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		die("open", path);
	if (read(fd, buf, sizeof buf) <= 0)
		die("read", path);
	close(fd);
}

static void bench_read(const char *path, long n)
{
	for (long i = 0; i < n / 10 + 1; i++)
		read_once(path);
	long long t0 = now_ns();
	for (long i = 0; i < n; i++)
		read_once(path);
	long long t1 = now_ns();
	printf("%.1f ns/op (%ld iterations)\n", (double)(t1 - t0) / n, n);
}

static long list_once(const char *dir)
{
	static char buf[32768];
	long entries = 0;
	int fd = open(dir, O_RDONLY | O_DIRECTORY);
	if (fd < 0)
		die("open", dir);
	for (;;) {
		long nr = syscall(SYS_getdents64, fd, buf, sizeof buf);
		if (nr < 0)
			die("getdents64", dir);
		if (nr == 0)
			break;
		for (long off = 0; off < nr;) {
			struct dirent64 *d = (struct dirent64 *)(buf + off);
			off += d->d_reclen;
			entries++;
		}
	}
	close(fd);
	return entries;
}

static void bench_readdir(const char *dir, long n)
{
	long entries = list_once(dir);
	long long t0 = now_ns();
	for (long i = 0; i < n; i++)
		if (list_once(dir) != entries) {
			fprintf(stderr, "fs_bench: %s changed while listing\n", dir);
			exit(1);
		}
	long long t1 = now_ns();
	printf("%.1f ns/op (%ld listings of %ld entries)\n", (double)(t1 - t0) / n, n, entries);
}

static void bench_seq(const char *path, long mib)
{
	char *buf = malloc(CHUNK);
	if (!buf)
		die("malloc", "");
	memset(buf, 0xa5, CHUNK);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		die("create", path);
	long long t0 = now_ns();
	for (long i = 0; i < mib; i++)
		if (write(fd, buf, CHUNK) != CHUNK)
			die("write", path);
	if (fsync(fd) != 0 || close(fd) != 0)
		die("fsync/close", path);
	long long t1 = now_ns();
	fd = open(path, O_RDONLY);
	if (fd < 0)
		die("open", path);
	long long total = 0;
	for (;;) {
		ssize_t r = read(fd, buf, CHUNK);
		if (r < 0)
			die("read", path);
		if (r == 0)
			break;
		total += r;
	}
	close(fd);
	long long t2 = now_ns();
	if (total != (long long)mib * CHUNK) {
		fprintf(stderr, "fs_bench: read back %lld bytes of %ld MiB\n", total, mib);
		exit(1);
	}
	double bytes = (double)mib * CHUNK;
	printf("%.1f %.1f MB/s (write, read of %ld MiB)\n", bytes / ((t1 - t0) / 1e3),
	       bytes / ((t2 - t1) / 1e3), mib);
}

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: fs_bench stat|read [-c] PATH N | readdir DIR N | seq PATH MIB\n");
		return 2;
	}
	const char *mode = argv[1];
	int i = 2;
	if (strcmp(argv[i], "-c") == 0) {
		create_small(argv[i + 1]);
		i++;
	}
	if (argc <= i + 1) {
		fprintf(stderr, "fs_bench: missing arguments\n");
		return 2;
	}
	const char *path = argv[i];
	long n = parse_count(argc, argv, i + 1, 1);
	if (strcmp(mode, "stat") == 0)
		bench_stat(path, n);
	else if (strcmp(mode, "read") == 0)
		bench_read(path, n);
	else if (strcmp(mode, "readdir") == 0)
		bench_readdir(path, n);
	else if (strcmp(mode, "seq") == 0)
		bench_seq(path, n);
	else {
		fprintf(stderr, "fs_bench: unknown mode %s\n", mode);
		return 2;
	}
	return 0;
}
