// sysfuzz: a small random system call fuzzer for the Palisade Sentry.
//
// Usage: sysfuzz SEED ITERATIONS [WORKERS [VERBOSE [GEN]]]
//
// The parent forks WORKERS workers (default 2). Each worker is a "generation"
// numbered 0,1,2,...; generation g draws every random choice from a PRNG
// seeded with (SEED, g), so a run is reproducible: `sysfuzz SEED N 1 1 G`
// replays only generation G with every call printed to stderr before it is
// made. Each worker makes up to CALLS_PER_WORKER calls and exits; the parent
// respawns workers until ITERATIONS calls have been made in total. A worker
// killed by a signal is normal (it is respawned). A worker that makes no
// progress for HANG_MS is killed with SIGKILL, and the last calls from its
// ring buffer (/tmp/sysfuzz.ring.SLOT, a MAP_SHARED file) are printed.
//
// Half of the workers run the loop in 1-2 extra threads too, so calls race
// on the same files and memory. The parent (usually the sandbox's PID 1)
// catches every signal. A stopped worker (a stop signal sent to itself) is killed at
// once and counted as "stopped"; "hangs" are workers stuck in one call for
// HANG_MS (some legitimately: sigsuspend with SIGALRM blocked, ...).
// prlimit64 never targets init: a lowered RLIMIT_FSIZE there kills every
// worker it spawns later.
//
// Build: make -C test/fuzz. Driver: test/fuzz/run.sh FIRST LAST CALLS (logs
// in test/fuzz/logs, Sentry goroutine dump via SIGABRT when a sandbox stops
// making progress); test/fuzz/triage.sh LOG... summarizes.
//
// Run it only inside the sandbox: it calls everything (mount, sethostname,
// kill of random pids, ...) as root.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/timerfd.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <linux/netlink.h>
#include <time.h>
#include <unistd.h>
#include <pthread.h>

#define MAX_NR 461
#define CALLS_PER_WORKER 1500
#define HANG_MS 3000
#define RING 256
#define PAGE 4096
#define SCRATCH_PAGES 64
#define RW_PAGES 48
#define NONE_PAGES 8

struct rec {
	uint64_t gen, iter, nr, a[6];
	int64_t ret;
	uint64_t pad[5];
};
struct ring {
	volatile uint64_t count; // calls started
	volatile uint64_t gen;
	uint64_t pad[14];
	struct rec r[RING];
};

static __thread uint64_t rs;
static int nthreads_extra; // set per worker: extra threads running the same loop

static uint64_t rnd(void) { // splitmix64
	uint64_t z = (rs += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}
static uint64_t rn(uint64_t n) { return n ? rnd() % n : 0; }

static char *scratch; // RW_PAGES rw, NONE_PAGES PROT_NONE, rest unmapped
static int fds[64];
static int nfds;
static pid_t ppid_, mypid;
static int verbose;
static int logfd = -1;

static const char *paths[] = {
	"/tmp/x", "/tmp/y", "/tmp/dir", "/tmp/dir/f", "/tmp/link", "/tmp/loop",
	"/proc/self/status", "/proc/self/maps", "/proc/self/fd/3", "/proc/self",
	"/proc/self/mem", "/proc/1/status", "/proc/self/task", "/proc/sys/kernel/hostname",
	"", "/", ".", "..", "/dev/null", "/dev/zero", "/dev/ptmx", "/dev/pts/0",
	"/tmp/x/../x", "/tmp/new", "/tmp/dir/..", "/etc/passwd", "/etc", "/sys",
	"/nonexistent", "/tmp/sock", "/dev/shm/s", "/proc/self/cwd", "/proc/self/root",
	"/tmp/fifo", "x", "dir", "/dev/tty", "/proc/self/exe", "/bin",
};
#define NPATHS (sizeof(paths) / sizeof(paths[0]))

// Argument kinds used in hints.
// g generic, f fd, p pointer to buffer, s path, l length, F flags, i small int,
// a address (mm), P pid, S signal, o offset, k count, u uid, c clockid,
// v iovec ptr, A sockaddr ptr
static const char *hint[MAX_NR];
static void init_hints(void) {
#define H(n, s) hint[n] = s
	H(0, "fpl"); H(1, "fpl"); H(2, "sFi"); H(3, "f"); H(4, "sp"); H(5, "fp");
	H(6, "sp"); H(7, "pki"); H(8, "foi"); H(9, "alFFfo"); H(10, "alF");
	H(11, "al"); H(12, "a"); H(13, "Spp"); H(14, "ippl"); H(16, "fIp");
	H(17, "fplo"); H(18, "fplo"); H(19, "fvk"); H(20, "fvk"); H(21, "si");
	H(22, "p"); H(23, "ipppp"); H(25, "allFa"); H(26, "alF"); H(27, "alp");
	H(28, "ali"); H(29, "glF"); H(30, "fpF"); H(31, "fip"); H(32, "f");
	H(33, "ff"); H(35, "pp"); H(36, "ip"); H(37, "i"); H(38, "ipp");
	H(40, "ffpl"); H(41, "iii"); H(42, "fAl"); H(43, "fpp"); H(44, "fplFAl");
	H(45, "fplFpp"); H(46, "fpF"); H(47, "fpF"); H(48, "fi"); H(49, "fAl");
	H(50, "fi"); H(51, "fpp"); H(52, "fpp"); H(53, "iiip"); H(54, "fLipl");
	H(55, "fLipp"); H(56, "Fppgp"); H(61, "PpFp"); H(62, "PS"); H(63, "p");
	H(64, "giF"); H(65, "ppli"); H(66, "giip"); H(67, "p"); H(68, "giF");
	H(69, "fplF"); H(70, "fplgF"); H(71, "fig"); H(72, "fCp"); H(73, "fi");
	H(74, "f"); H(75, "f"); H(76, "sl"); H(77, "fl"); H(78, "fpl"); H(79, "pl");
	H(80, "s"); H(81, "f"); H(82, "ss"); H(83, "si"); H(84, "s"); H(85, "si");
	H(86, "ss"); H(87, "s"); H(88, "ss"); H(89, "spl"); H(90, "si"); H(91, "fi");
	H(92, "suu"); H(93, "fuu"); H(94, "suu"); H(95, "i"); H(96, "pp");
	H(97, "ip"); H(98, "ip"); H(99, "p"); H(100, "p"); H(101, "gPpp");
	H(102, ""); H(105, "u"); H(106, "u"); H(109, "PP"); H(112, "");
	H(115, "kp"); H(116, "kp"); H(117, "uuu"); H(119, "uuu"); H(121, "P");
	H(122, "u"); H(123, "u"); H(124, "P"); H(125, "pp"); H(126, "pp");
	H(127, "pl"); H(128, "pppl"); H(129, "PSp"); H(130, "pl"); H(131, "pp");
	H(132, "sp"); H(133, "sig"); H(135, "g"); H(136, "gp"); H(137, "sp");
	H(138, "fp"); H(139, "gpp"); H(140, "iP"); H(141, "iPi"); H(142, "Pp");
	H(143, "Pp"); H(144, "Pip"); H(145, "P"); H(146, "i"); H(147, "i");
	H(148, "Pp"); H(149, "al"); H(150, "al"); H(151, "F"); H(152, ""); H(153, "");
	H(155, "ss"); H(157, "Oppgg"); H(158, "ip"); H(159, "p"); H(160, "ip");
	H(161, "s"); H(162, ""); H(163, "s"); H(164, "pp"); H(165, "sssFp");
	H(166, "sF"); H(170, "pl"); H(171, "pl"); H(186, ""); H(187, "fol");
	H(188, "sppli"); H(189, "sppli"); H(190, "fppli"); H(191, "sppl");
	H(192, "sppl"); H(193, "fppl"); H(194, "spl"); H(195, "spl"); H(196, "fpl");
	H(197, "sp"); H(198, "sp"); H(199, "fp"); H(200, "PS"); H(201, "p");
	H(202, "pigpgi"); H(203, "Plp"); H(204, "Plp"); H(205, "p"); H(206, "kp");
	H(207, "g"); H(208, "gkkpp"); H(209, "gkp"); H(210, "gp"); H(211, "p");
	H(212, "Ppl"); H(213, "k"); H(216, "alFoF"); H(217, "fpl"); H(218, "p");
	H(219, ""); H(220, "pppkF"); H(221, "foli"); H(222, "cpp"); H(223, "gFpp");
	H(224, "gp"); H(225, "g"); H(226, "g"); H(227, "cp"); H(228, "cp");
	H(229, "cp"); H(230, "cFpp"); H(232, "fpki"); H(233, "fifp"); H(234, "PPS");
	H(235, "sp"); H(237, "allpkF"); H(238, "ipk"); H(239, "ipkpkF"); H(240, "sFip");
	H(241, "s"); H(242, "gpli"); H(243, "gpli"); H(244, "gp"); H(245, "gpp");
	H(246, "gkpF"); H(247, "iPpFp"); H(248, "sspl"); H(249, "sspl"); H(250, "ig");
	H(251, "iPi"); H(252, "iP"); H(253, ""); H(254, "fsF"); H(255, "fi");
	H(256, "PkggF"); H(257, "fsFi"); H(258, "fsi"); H(259, "fsig"); H(260, "fsuuF");
	H(261, "fspF"); H(262, "fspF"); H(263, "fsF"); H(264, "fsfs"); H(265, "fsfsF");
	H(266, "sfs"); H(267, "fspl"); H(268, "fsi"); H(269, "fsiF"); H(270, "kpppp");
	H(271, "pkppl"); H(272, "F"); H(273, "pl"); H(274, "Ppp"); H(275, "fofolF");
	H(276, "ffklF"); H(277, "foll"); H(278, "fvkF"); H(279, "Pkpppp"); H(280, "fspF");
	H(281, "fpkippl"); H(282, "fpl"); H(283, "ci"); H(284, "i"); H(285, "fFoo");
	H(286, "fFpp"); H(287, "fp"); H(288, "fAlF"); H(289, "fplF"); H(290, "iF");
	H(291, "F"); H(292, "ffF"); H(293, "pF"); H(294, "F"); H(295, "fvko");
	H(296, "fvko"); H(297, "PPSp"); H(298, "pPigF"); H(299, "fpkFp"); H(300, "FF");
	H(301, "fF"); H(302, "Pipp"); H(303, "fsppF"); H(304, "fpF"); H(305, "cp");
	H(306, "f"); H(307, "fpkF"); H(308, "fi"); H(309, "ppp"); H(310, "Pvkvkg");
	H(311, "Pvkvkg"); H(312, "PPiii"); H(313, "fsF"); H(314, "Ppli"); H(315, "Pppli");
	H(316, "fsfsF"); H(317, "iFp"); H(318, "plF"); H(319, "sF"); H(320, "ffl");
	H(321, "ipl"); H(323, "F"); H(324, "iFi"); H(325, "ffF"); H(326, "fofolF");
	H(327, "fvkooF"); H(328, "fvkooF"); H(329, "ali"); H(330, "iF"); H(331, "i");
	H(332, "fsFip"); H(333, "Ppko"); H(334, "pkiii"); H(424, "PSpF"); H(425, "kp");
	H(426, "fpkpp"); H(427, "fkpkpl"); H(428, "fsF"); H(429, "pl"); H(430, "sF");
	H(431, "fiFf"); H(432, "fsF"); H(433, "fsp"); H(434, "PF"); H(435, "pl");
	H(436, "ffF"); H(437, "fspl"); H(438, "PfF"); H(439, "fsiF"); H(440, "FpkF");
	H(441, "fFk"); H(442, "fsppl"); H(443, "fsiF"); H(444, "plF"); H(445, "ppF");
	H(446, "fpF"); H(447, "F"); H(448, "PF"); H(449, "pkiF"); H(450, "allFF");
	H(451, "ffpll"); H(452, "fpplF"); H(453, "llplF"); H(454, "pkkgiF");
#undef H
}

static uint64_t gen_int(void) {
	switch (rn(10)) {
	case 0: return 0;
	case 1: return (uint64_t)-1;
	case 2: case 3: return rn(64);
	case 4: return rn(1u << 16);
	case 5: return (uint32_t)rnd();
	case 6: return rnd();
	case 7: return 0x7fffffff + rn(3);
	case 8: return 1ULL << rn(64);
	default: return rn(8);
	}
}
static uint64_t gen_flags(void) {
	uint64_t f = 0;
	int n = rn(4);
	for (int i = 0; i < n; i++) f |= 1ULL << rn(32);
	if (rn(8) == 0) f = rnd();
	if (rn(8) == 0) f = 0;
	return f;
}
static uint64_t gen_len(void) {
	static const uint64_t v[] = {0, 1, 8, 16, 64, 4095, 4096, 4097, 65536,
		0x7fffffff, 0xffffffff, (uint64_t)-1, 1ULL << 40, 0x8000000000000000ULL,
		(uint64_t)-4096, 0x100000000ULL};
	if (rn(3) == 0) return rn(8192);
	return v[rn(sizeof(v) / sizeof(v[0]))];
}

// A path string somewhere in scratch.
static char *put_path(void) {
	char *p = scratch + 40 * PAGE + rn(7) * PAGE;
	int k = rn(20);
	if (k == 0) { // very long
		size_t n = 4000 + rn(4000);
		if (n > 7 * PAGE - 1) n = 7 * PAGE - 1;
		p = scratch + 40 * PAGE;
		memset(p, 'a', n);
		for (size_t i = 0; i < n; i += 1 + rn(300)) p[i] = '/';
		p[n] = 0;
		return p;
	}
	if (k == 1) { // component too long
		strcpy(p, "/tmp/");
		memset(p + 5, 'b', 300);
		p[305] = 0;
		return p;
	}
	if (k == 2) { // unterminated at the rw/none boundary
		char *e = scratch + RW_PAGES * PAGE;
		memset(e - 16, 'c', 16);
		e[-16] = '/';
		return e - 16;
	}
	strcpy(p, paths[rn(NPATHS)]);
	return p;
}

static void fill_random(char *p, size_t n) {
	for (size_t i = 0; i < n; i++) p[i] = rnd();
}

static uint64_t gen_ptr(void);
static uint64_t gen_fd(void);

// Fill scratch at p with something structured.
static void fill_struct(char *p, size_t room) {
	switch (rn(8)) {
	case 0: memset(p, 0, room); break;
	case 1: { // iovec array
		struct iovec *v = (struct iovec *)p;
		int n = room / sizeof(*v);
		if (n > 16) n = 16;
		for (int i = 0; i < n; i++) {
			v[i].iov_base = (void *)gen_ptr();
			v[i].iov_len = rn(3) ? rn(8192) : gen_len();
		}
		break;
	}
	case 2: { // sockaddr
		memset(p, 0, room < 128 ? room : 128);
		int fam = (int[]){AF_UNIX, AF_INET, AF_INET6, AF_NETLINK, AF_PACKET, 0, 255}[rn(7)];
		*(uint16_t *)p = fam;
		if (fam == AF_UNIX && rn(2)) strcpy(p + 2 + rn(2), rn(2) ? "/tmp/sock" : "/tmp/x");
		else if (fam == AF_INET) {
			struct sockaddr_in *s = (void *)p;
			s->sin_port = htons(rn(3) ? 5555 + rn(3) : rnd());
			s->sin_addr.s_addr = rn(2) ? htonl(INADDR_LOOPBACK) : (uint32_t)rnd();
		} else fill_random(p + 2, 14);
		break;
	}
	case 3: { // pointer array (argv-like / struct with pointers)
		uint64_t *a = (uint64_t *)p;
		int n = room / 8;
		if (n > 8) n = 8;
		for (int i = 0; i < n; i++) a[i] = rn(4) ? gen_ptr() : 0;
		break;
	}
	case 4: { // msghdr
		struct msghdr *m = (struct msghdr *)p;
		if (room < sizeof(*m)) break;
		m->msg_name = rn(2) ? (void *)gen_ptr() : 0;
		m->msg_namelen = rn(2) ? rn(130) : gen_len();
		m->msg_iov = (void *)gen_ptr();
		m->msg_iovlen = rn(3) ? rn(4) : gen_len();
		m->msg_control = rn(2) ? (void *)gen_ptr() : 0;
		m->msg_controllen = rn(2) ? rn(128) : gen_len();
		if (rn(2)) { // a control buffer of cmsgs: SCM_RIGHTS / SCM_CREDENTIALS, odd lengths
			char *c = scratch + 28 * PAGE + rn(64) * 8;
			size_t off = 0, room = 2 * PAGE - 512;
			int k = 1 + rn(3);
			for (int j = 0; j < k && off + 64 < room; j++) {
				struct cmsghdr *h = (struct cmsghdr *)(c + off);
				int nf = rn(5);
				h->cmsg_level = rn(5) ? SOL_SOCKET : rn(300);
				h->cmsg_type = rn(4) ? 1 + rn(2) : rn(8);
				h->cmsg_len = rn(3) ? sizeof(*h) + (h->cmsg_type == 2 ? 12 : 4 * nf) : rn(3) ? rn(64) : gen_len();
				int *d = (int *)CMSG_DATA(h);
				if (h->cmsg_type == 2) { d[0] = rn(2) ? mypid : rn(100); d[1] = rn(2) ? 0 : rn(2000); d[2] = rn(2) ? 0 : rn(2000); }
				else for (int q = 0; q < nf; q++) d[q] = gen_fd();
				off += rn(4) ? CMSG_ALIGN(sizeof(*h) + 4 * (nf + 3)) : 8 * rn(4);
			}
			m->msg_control = c;
			m->msg_controllen = rn(3) ? off : rn(2) ? rn(off + 16) : gen_len();
		}
		m->msg_flags = gen_flags();
		break;
	}
	case 5: { // small ints
		int *a = (int *)p;
		int n = room / 4;
		if (n > 32) n = 32;
		for (int i = 0; i < n; i++) a[i] = gen_int();
		break;
	}
	default: fill_random(p, room < 256 ? room : 256); break;
	}
}

static uint64_t gen_ptr(void) {
	char *rw_end = scratch + RW_PAGES * PAGE;
	switch (rn(16)) {
	case 0: return 0;
	case 1: return (uint64_t)(rw_end - rn(64));               // straddles rw/none
	case 2: return (uint64_t)(rw_end + rn(NONE_PAGES * PAGE)); // PROT_NONE
	case 3: return (uint64_t)(scratch + (RW_PAGES + NONE_PAGES) * PAGE + rn(PAGE)); // unmapped
	case 4: {
		static const uint64_t k[] = {0xffffffff81000000ULL, 0xffff800000000000ULL,
			0x00007ffffffff000ULL, 0x0000800000000000ULL, 0x00007fffffffffffULL,
			(uint64_t)-1, (uint64_t)-4096, 1, 4096, 0x10000};
		return k[rn(sizeof(k) / sizeof(k[0]))];
	}
	case 5: return (uint64_t)put_path();
	default: {
		char *p = scratch + rn(30) * PAGE + (rn(2) ? 0 : (rn(PAGE) & ~7));
		return (uint64_t)p;
	}
	}
}
// A pointer that, most of the time, points at freshly filled data.
static uint64_t gen_buf(void) {
	uint64_t p = gen_ptr();
	if (p >= (uint64_t)scratch && p < (uint64_t)scratch + 30 * PAGE && rn(2)) {
		size_t room = (uint64_t)scratch + RW_PAGES * PAGE - p;
		fill_struct((char *)p, room < 512 ? room : 512);
	}
	return p;
}
static uint64_t gen_fd(void) {
	int k = rn(12);
	if (k == 0) return (uint64_t)(int64_t)(int)(rn(2) ? -1 : -100); // AT_FDCWD
	if (k == 1) return rn(3) ? rn(1100) : gen_int();
	if (nfds == 0) return rn(64);
	return fds[rn(nfds)];
}
// Addresses for memory-management calls: mostly the play area (pages 30..39
// of scratch, which the fuzzer itself never writes), so that mm calls do not
// pull the worker's own code, stack or data from under it too often.
static uint64_t gen_addr(void) {
	char *play = scratch + 30 * PAGE;
	switch (rn(12)) {
	case 0: return 0;
	case 1: return (uint64_t)(scratch + (RW_PAGES + rn(SCRATCH_PAGES - RW_PAGES)) * PAGE);
	case 2: return gen_ptr() & ~(uint64_t)(rn(2) ? 0 : PAGE - 1);
	case 3: return (uint64_t)(play + rn(10) * PAGE + rn(PAGE));
	default: return (uint64_t)(play + rn(10) * PAGE);
	}
}
static uint64_t gen_pid(void) {
	switch (rn(5)) {
	case 0: return mypid;
	case 1: return rn(20);
	case 2: return gen_int();
	default: return mypid + rn(4);
	}
}
static uint64_t gen_arg(char kind) {
	if (rn(16) == 0) kind = 'g';
	switch (kind) {
	case 'f': return gen_fd();
	case 'p': case 'v': case 'A': return gen_buf();
	case 's': return (uint64_t)put_path();
	case 'l': return gen_len();
	case 'F': return gen_flags();
	case 'i': case 'k': return rn(3) ? rn(16) : gen_int();
	case 'a': return gen_addr();
	case 'P': return gen_pid();
	case 'S': return rn(4) ? rn(65) : gen_int();
	case 'o': return rn(2) ? rn(65536) : gen_len();
	case 'u': return rn(2) ? rn(2000) : gen_int();
	case 'c': return rn(4) ? rn(12) : gen_int();
	case 'I': { // ioctl requests: tty, pty, fs, socket
		static const uint32_t v[] = {0x5401, 0x5402, 0x5403, 0x5404, 0x5405, 0x5406, 0x5407,
			0x5408, 0x5409, 0x540A, 0x540B, 0x540C, 0x540D, 0x540E, 0x540F, 0x5410, 0x5411,
			0x5412, 0x5413, 0x5414, 0x5415, 0x541B, 0x541C, 0x541D, 0x5420, 0x5421, 0x5422,
			0x5423, 0x5424, 0x5425, 0x5427, 0x5428, 0x5429, 0x802c542a, 0x402c542b, 0x5432,
			0x5441, 0x80045430, 0x40045431, 0x80045432, 0x5450, 0x5451, 0x5452, 0x5460,
			0x80086601, 0x40086602, 0x8912, 0x8913, 0x8915, 0x8927, 0x8933, 0x894c,
			0xc0189436, 0x40049409, 0xc020660b, 0x4004667d, 0x541e, 0x5456, 0x5457};
		return rn(8) ? v[rn(sizeof(v) / sizeof(v[0]))] : gen_int();
	}
	case 'C': { // fcntl commands
		static const uint32_t v[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 15, 16, 36, 37, 38,
			1024, 1025, 1026, 1030, 1031, 1032, 1033, 1034, 1035, 1036, 1037, 1038};
		return rn(8) ? v[rn(sizeof(v) / sizeof(v[0]))] : gen_int();
	}
	case 'O': return rn(8) ? rn(72) : gen_int(); // prctl option
	case 'L': { // socket option level
		static const uint32_t v[] = {1, 0, 6, 17, 41, 263, 270, 255};
		return rn(8) ? v[rn(8)] : gen_int();
	}
	default:
		switch (rn(5)) {
		case 0: return gen_fd();
		case 1: return gen_buf();
		case 2: return gen_len();
		case 3: return gen_flags();
		default: return gen_int();
		}
	}
}

// Raw syscall. If a clone-like call returns 0 in the child, the child exits
// at once without touching memory (its stack may be garbage or shared).
static long raw_syscall(long nr, long a1, long a2, long a3, long a4, long a5, long a6) {
	register long r10 asm("r10") = a4;
	register long r8 asm("r8") = a5;
	register long r9 asm("r9") = a6;
	register long rnr asm("r12") = nr;
	long ret;
	asm volatile(
		"syscall\n\t"
		"test %%rax, %%rax\n\t"
		"jnz 1f\n\t"
		"cmp $56, %%r12\n\t"
		"je 2f\n\t"
		"cmp $57, %%r12\n\t"
		"je 2f\n\t"
		"cmp $435, %%r12\n\t"
		"je 2f\n\t"
		"jmp 1f\n\t"
		"2:\n\t"
		"mov $60, %%eax\n\t"
		"xor %%edi, %%edi\n\t"
		"syscall\n\t"
		"hlt\n\t"
		"1:\n\t"
		: "=a"(ret)
		: "a"(nr), "D"(a1), "S"(a2), "d"(a3), "r"(r10), "r"(r8), "r"(r9), "r"(rnr)
		: "rcx", "r11", "memory");
	return ret;
}

static void add_fd(int fd) {
	if (fd >= 0 && nfds < 64) fds[nfds++] = fd;
}

static void setup_fds(void) {
	int p[2];
	mkdir("/tmp/dir", 0755);
	close(open("/tmp/dir/f", O_CREAT | O_RDWR, 0644));
	symlink("/tmp/x", "/tmp/link");
	symlink("/tmp/loop", "/tmp/loop");
	mkfifo("/tmp/fifo", 0644);
	// Other workers may have renamed anything (a FIFO, a socket) to /tmp/x:
	// never block in setup.
	int x = open("/tmp/x", O_CREAT | O_RDWR | O_NONBLOCK, 0644);
	struct stat st;
	if (x >= 0 && fstat(x, &st) == 0 && S_ISREG(st.st_mode)) {
		fcntl(x, F_SETFL, 0);
		char b[8192];
		memset(b, 'x', sizeof(b));
		write(x, b, sizeof(b));
	}
	add_fd(x);
	add_fd(open("/tmp/y", O_CREAT | O_RDWR | O_APPEND | O_NONBLOCK, 0600));
	add_fd(open("/tmp/dir", O_RDONLY | O_DIRECTORY));
	add_fd(open("/", O_PATH));
	add_fd(open("/proc/self/status", O_RDONLY));
	add_fd(open("/proc/self/maps", O_RDONLY));
	add_fd(open("/proc/self", O_RDONLY | O_DIRECTORY));
	add_fd(open("/proc/self/mem", O_RDWR));
	add_fd(open("/dev/null", O_RDWR));
	add_fd(open("/dev/zero", O_RDWR));
	add_fd(open("/dev/urandom", O_RDONLY));
	add_fd(open("/etc/passwd", O_RDONLY));
	if (pipe2(p, O_NONBLOCK) == 0) { add_fd(p[0]); add_fd(p[1]); }
	if (pipe(p) == 0) { add_fd(p[0]); add_fd(p[1]); }
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, p) == 0) { add_fd(p[0]); add_fd(p[1]); }
	if (socketpair(AF_UNIX, SOCK_DGRAM, 0, p) == 0) { add_fd(p[0]); add_fd(p[1]); }
	if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, p) == 0) { add_fd(p[0]); add_fd(p[1]); }
	add_fd(socket(AF_INET, SOCK_STREAM, 0));
	add_fd(socket(AF_INET, SOCK_DGRAM, 0));
	add_fd(socket(AF_INET6, SOCK_STREAM, 0));
	add_fd(socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE));
	add_fd(socket(AF_UNIX, SOCK_STREAM, 0));
	{
		int l = socket(AF_INET, SOCK_STREAM, 0);
		struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(5555 + rn(3)),
			.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
		if (l >= 0) {
			int one = 1;
			setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
			bind(l, (void *)&a, sizeof(a));
			listen(l, 4);
			add_fd(l);
			int c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
			connect(c, (void *)&a, sizeof(a));
			add_fd(c);
		}
	}
	{
		int l = socket(AF_UNIX, SOCK_STREAM, 0);
		struct sockaddr_un a = {.sun_family = AF_UNIX};
		strcpy(a.sun_path, "/tmp/sock");
		if (bind(l, (void *)&a, sizeof(a)) == 0) listen(l, 4);
		add_fd(l);
	}
	add_fd(eventfd(rn(3), rn(2) ? EFD_NONBLOCK : 0));
	int ep = epoll_create1(0);
	add_fd(ep);
	for (int i = 0; i < nfds && ep >= 0; i++) {
		struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.u64 = i};
		epoll_ctl(ep, EPOLL_CTL_ADD, fds[i], &ev);
	}
	int tfd = timerfd_create(CLOCK_MONOTONIC, 0);
	if (tfd >= 0) {
		struct itimerspec its = {{0, 1000000}, {0, 1000000}};
		timerfd_settime(tfd, 0, &its, 0);
	}
	add_fd(tfd);
	sigset_t ss;
	sigemptyset(&ss);
	sigaddset(&ss, SIGUSR1);
	add_fd(signalfd(-1, &ss, 0));
	int in = inotify_init1(0);
	if (in >= 0) inotify_add_watch(in, "/tmp", IN_ALL_EVENTS);
	add_fd(in);
	int mfd = syscall(SYS_memfd_create, "fz", 3);
	if (mfd >= 0) ftruncate(mfd, 3 * PAGE);
	add_fd(mfd);
	int ptm = open("/dev/ptmx", O_RDWR | O_NOCTTY);
	add_fd(ptm);
	if (ptm >= 0) {
		int unl = 0;
		char name[64];
		ioctl(ptm, 0x40045431 /* TIOCSPTLCK */, &unl);
		unsigned int n;
		if (ioctl(ptm, 0x80045430 /* TIOCGPTN */, &n) == 0) {
			snprintf(name, sizeof(name), "/dev/pts/%u", n);
			add_fd(open(name, O_RDWR | O_NOCTTY));
		}
	}
	add_fd(syscall(SYS_pidfd_open, mypid, 0));
	add_fd(open("/tmp", O_RDONLY | O_DIRECTORY));
}

static int is_clone(long nr) { return nr == 56 || nr == 57 || nr == 435; }

static void on_alarm(int s) { (void)s; }
static void fuzz_loop(uint64_t gen, struct ring *ring, long ncalls);
static void fuzz_threads(uint64_t seed, uint64_t gen, struct ring *ring, long ncalls);
void my_restore_rt(void);
asm(".text\n.globl my_restore_rt\nmy_restore_rt:\n\tmov $15, %eax\n\tsyscall\n\thlt\n");

#include <ucontext.h>
static void on_fault(int s, siginfo_t *si, void *uc) {
	ucontext_t *u = uc;
	char b[160];
	int n = snprintf(b, sizeof(b), "worker: signal %d code %d addr %p rip %llx rsp %llx\n", s,
		si->si_code, si->si_addr, (unsigned long long)u->uc_mcontext.gregs[REG_RIP],
		(unsigned long long)u->uc_mcontext.gregs[REG_RSP]);
	write(logfd, b, n);
	signal(s, SIG_DFL);
}

static void worker(uint64_t seed, uint64_t gen, struct ring *ring, long ncalls) {
	rs = seed ^ (gen * 0xd1342543de82ef95ULL) ^ 0x1234567;
	rnd();
	mypid = getpid();
	ring->gen = gen;
	for (int s = 1; s < 65; s++) // the parent's catch-all handlers are not for us
		if (s != SIGKILL && s != SIGSTOP) signal(s, SIG_DFL);
	{
		struct { void *h; unsigned long flags; void *restorer; uint64_t mask; } ks = {0};
		syscall(SYS_rt_sigaction, 32, &ks, 0, 8);
		syscall(SYS_rt_sigaction, 33, &ks, 0, 8);
	}
	scratch = mmap(0, SCRATCH_PAGES * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (scratch == MAP_FAILED) _exit(2);
	fill_random(scratch, RW_PAGES * PAGE);
	mprotect(scratch + RW_PAGES * PAGE, NONE_PAGES * PAGE, PROT_NONE);
	munmap(scratch + (RW_PAGES + NONE_PAGES) * PAGE, (SCRATCH_PAGES - RW_PAGES - NONE_PAGES) * PAGE);
	if (verbose) logfd = dup2(2, 999);
	int dn = open("/dev/null", O_RDWR); // another worker may have removed it
	if (dn < 0) dn = open("/", O_PATH);
	dup2(dn, 0); dup2(dn, 1); dup2(dn, 2);
	if (dn < 0) { close(0); close(1); close(2); }
	if (dn > 2) close(dn);
	setup_fds();
	fuzz_threads(seed, gen, ring, ncalls);
	fuzz_loop(gen, ring, ncalls);
	_exit(0);
}

struct targ { uint64_t seed, gen; struct ring *ring; long ncalls; int idx; };
static void *thread_main(void *p) {
	struct targ *a = p;
	rs = a->seed ^ (a->gen * 0xd1342543de82ef95ULL) ^ (0x9999ULL * (a->idx + 1));
	rnd();
	fuzz_loop(a->gen, a->ring, a->ncalls);
	return 0;
}

// With probability 1/2, run the loop in 1-2 more threads of the worker, so
// that calls race with each other on the same files and memory.
static void fuzz_threads(uint64_t seed, uint64_t gen, struct ring *ring, long ncalls) {
	static struct targ args[2];
	static pthread_t th[2];
	nthreads_extra = rn(2) ? 0 : 1 + rn(2);
	for (int i = 0; i < nthreads_extra; i++) {
		args[i] = (struct targ){seed, gen, ring, ncalls, i};
		pthread_create(&th[i], 0, thread_main, &args[i]);
	}
}

static void fuzz_loop(uint64_t gen, struct ring *ring, long ncalls) {
	struct sigaction sa = {.sa_handler = on_alarm};
	if (verbose >= 2) {
		struct sigaction sf = {.sa_sigaction = on_fault, .sa_flags = SA_SIGINFO | SA_RESETHAND};
		sigaction(SIGSEGV, &sf, 0);
		sigaction(SIGBUS, &sf, 0);
	}
	for (long i = 0; i < ncalls; i++) {
		if ((i & 15) == 0) {
			sigaction(SIGALRM, &sa, 0);
			sigset_t s;
			sigemptyset(&s);
			sigaddset(&s, SIGALRM);
			sigprocmask(SIG_UNBLOCK, &s, 0);
		}
		struct itimerval it = {{0, 0}, {0, 50000}};
		setitimer(ITIMER_REAL, &it, 0);

		long nr;
		int r = rn(100);
		if (r < 2) nr = (long[]){-1, 461, 462, 512, 1000, 0x40000000 + 1, 0x7fffffff, -100}[rn(8)];
		else nr = rn(MAX_NR);
		if (nr >= 0 && nr < MAX_NR && !hint[nr] && rn(3)) nr = rn(MAX_NR); // favour hinted
		if (nr == 60 || nr == 231 || nr == 15 || nr == 58) continue;
		uint64_t a[6];
		const char *h = (nr >= 0 && nr < MAX_NR && hint[nr]) ? hint[nr] : "gggggg";
		size_t hl = strlen(h);
		for (int j = 0; j < 6; j++) a[j] = gen_arg(j < (int)hl ? h[j] : 'g');
		switch (nr) {
		case 59: // execve: never a runnable file
			a[0] = (uint64_t)(rn(2) ? "/tmp/x" : rn(2) ? "/nonexistent" : "/tmp/dir");
			break;
		case 322: // execveat: never a runnable file
			a[0] = rn(2) ? fds[0] : (uint64_t)-100;
			a[1] = (uint64_t)(rn(2) ? "/tmp/x" : rn(2) ? "/nonexistent" : "");
			a[4] &= ~0x1000ULL; // AT_EMPTY_PATH
			break;
		case 62: case 200: case 129: case 101: case 310: case 311: case 434:
			// kill, tkill, rt_sigqueueinfo, ptrace, process_vm_*, pidfd_open
			if ((int64_t)(int)a[nr == 101 ? 1 : 0] <= 0 || (pid_t)a[nr == 101 ? 1 : 0] == ppid_ ||
			    (pid_t)a[nr == 101 ? 1 : 0] == 1)
				a[nr == 101 ? 1 : 0] = mypid;
			break;
		case 234: case 297: // tgkill, rt_tgsigqueueinfo
			if ((int)a[0] <= 1 || (pid_t)a[0] == ppid_) a[0] = mypid;
			break;
		case 302: // prlimit64: not on init (lowering its RLIMIT_FSIZE starves every later worker)
			if ((pid_t)a[0] == 1 || (pid_t)a[0] == ppid_)
				a[0] = 0;
			break;
		case 424: // pidfd_send_signal: only our own pidfds (we never open the parent's)
			break;
		case 56: case 435: // clone, clone3: no CLONE_VFORK hangs on stopped children is fine
			break;
		}
		struct rec *rc = &ring->r[ring->count % RING];
		rc->gen = gen; rc->iter = i; rc->nr = nr;
		memcpy(rc->a, a, sizeof(a));
		rc->ret = -9999;
		ring->count++;
		if (verbose) {
			char b[256];
			int n = snprintf(b, sizeof(b), "g%llu i%ld nr=%ld %llx %llx %llx %llx %llx %llx\n",
				(unsigned long long)gen, i, nr,
				(unsigned long long)a[0], (unsigned long long)a[1], (unsigned long long)a[2],
				(unsigned long long)a[3], (unsigned long long)a[4], (unsigned long long)a[5]);
			write(logfd, b, n);
		}
		long ret = raw_syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
		rc->ret = ret;
		if (verbose) {
			char b[64];
			int n = snprintf(b, sizeof(b), "  = %ld\n", ret);
			write(logfd, b, n);
		}
		if (is_clone(nr) && ret > 0) waitpid(ret, 0, __WALL | WNOHANG);
		if ((i & 63) == 0) while (waitpid(-1, 0, __WALL | WNOHANG) > 0) {}
	}
	return;
}

static uint64_t now_ms(void) {
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000ULL + t.tv_nsec / 1000000;
}

static void dump_ring(struct ring *r, const char *why, int slot) {
	fprintf(stderr, "sysfuzz: slot %d gen %llu %s; last calls:\n", slot,
		(unsigned long long)r->gen, why);
	uint64_t c = r->count;
	for (uint64_t k = c > 12 ? c - 12 : 0; k < c; k++) {
		struct rec *x = &r->r[k % RING];
		fprintf(stderr, "  g%llu i%llu nr=%lld %llx %llx %llx %llx %llx %llx = %lld\n",
			(unsigned long long)x->gen, (unsigned long long)x->iter, (long long)x->nr,
			(unsigned long long)x->a[0], (unsigned long long)x->a[1], (unsigned long long)x->a[2],
			(unsigned long long)x->a[3], (unsigned long long)x->a[4], (unsigned long long)x->a[5],
			(long long)x->ret);
	}
}

int main(int argc, char **argv) {
	if (argc < 3) {
		fprintf(stderr, "usage: sysfuzz SEED ITERATIONS [WORKERS [VERBOSE [GEN]]]\n");
		return 2;
	}
	uint64_t seed = strtoull(argv[1], 0, 0);
	long total = strtol(argv[2], 0, 0);
	int nw = argc > 3 ? atoi(argv[3]) : 2;
	verbose = argc > 4 ? atoi(argv[4]) : 0;
	long only_gen = argc > 5 ? atol(argv[5]) : -1;
	if (nw < 1) nw = 1;
	if (nw > 16) nw = 16;
	init_hints();
	// The parent is usually PID 1 of the sandbox. Linux never delivers a
	// SIG_DFL signal to a namespace's init from inside; the Sentry does, so
	// catch everything (workers may signal us through F_SETOWN, CLONE_PARENT
	// exit signals, ...).
	for (int s = 1; s < 65; s++) {
		struct sigaction sa = {.sa_handler = on_alarm, .sa_flags = SA_RESTART};
		struct { void *h; unsigned long flags; void *restorer; uint64_t mask; } ks = {
			(void *)on_alarm, 0x04000000 | SA_RESTART /* SA_RESTORER */, 0, 0};
		ks.restorer = (void *)my_restore_rt;
		(void)sa;
		if (s != SIGKILL && s != SIGSTOP && s != SIGCHLD) syscall(SYS_rt_sigaction, s, &ks, 0, 8);
	}
	ppid_ = getpid();

	struct ring *rings[16];
	pid_t pids[16] = {0};
	uint64_t last_count[16], last_prog[16];
	int killed[16] = {0};
	long assigned[16] = {0};
	for (int s = 0; s < nw; s++) {
		char name[64];
		snprintf(name, sizeof(name), "/tmp/sysfuzz.ring.%d", s);
		int fd = open(name, O_CREAT | O_RDWR | O_TRUNC, 0600);
		if (fd < 0 || ftruncate(fd, sizeof(struct ring)) < 0) { perror(name); return 1; }
		rings[s] = mmap(0, sizeof(struct ring), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (rings[s] == MAP_FAILED) { perror("mmap"); return 1; }
		close(fd);
	}
	uint64_t gen = only_gen >= 0 ? only_gen : 0;
	long done = 0, started = 0;
	long per = only_gen >= 0 ? total : CALLS_PER_WORKER;
	long nsig[65] = {0}, nexit = 0, nhang = 0, nstopped = 0;
	uint64_t t0 = now_ms();
	int running = 0;
	for (;;) {
		for (int s = 0; s < nw; s++) {
			if (pids[s] == 0 && started < total && !(only_gen >= 0 && gen > (uint64_t)only_gen)) {
				rings[s]->count = 0;
				pid_t p = fork();
				if (p == 0) worker(seed, gen, rings[s], per < total - started ? per : total - started);
				if (p < 0) { usleep(10000); continue; }
				pids[s] = p;
				gen++;
				assigned[s] = per < total - started ? per : total - started;
				started += assigned[s];
				running++;
				last_count[s] = 0;
				last_prog[s] = now_ms();
				killed[s] = 0;
			}
		}
		if (running == 0) break;
		usleep(20000);
		int st;
		pid_t p;
		while ((p = waitpid(-1, &st, WNOHANG | __WALL | WUNTRACED)) > 0) {
			for (int s = 0; s < nw; s++) {
				if (pids[s] != p) continue;
				if (WIFSTOPPED(st)) { // a stop signal: normal; don't wait for it
					nstopped++;
					killed[s] = 1;
					kill(p, SIGKILL);
					continue;
				}
				pids[s] = 0;
				running--;
				done += rings[s]->count;
				started -= assigned[s] - (long)rings[s]->count;
				if (WIFSIGNALED(st)) nsig[WTERMSIG(st) & 63]++;
				else nexit++;
				if (verbose && WIFSIGNALED(st)) {
					char why[64];
					snprintf(why, sizeof(why), "killed by signal %d", WTERMSIG(st));
					dump_ring(rings[s], why, s);
				}
			}
		}
		uint64_t t = now_ms();
		for (int s = 0; s < nw; s++) {
			if (!pids[s]) continue;
			if (rings[s]->count != last_count[s]) {
				last_count[s] = rings[s]->count;
				last_prog[s] = t;
			} else if (!killed[s] && t - last_prog[s] > HANG_MS) {
				char sp[64], sb[512] = {0};
				snprintf(sp, sizeof(sp), "/proc/%d/stat", pids[s]);
				int sf = open(sp, O_RDONLY);
				if (sf >= 0) { read(sf, sb, sizeof(sb) - 1); close(sf); }
				char *rp = strrchr(sb, ')');
				if (rp && (rp[2] == 'T' || rp[2] == 't')) nstopped++; // SIGSTOP etc.: normal
				else {
					nhang++;
					dump_ring(rings[s], "made no progress (hang?), SIGKILL", s);
				}
				kill(pids[s], SIGKILL);
				killed[s] = 1;
			}
		}
	}
	fprintf(stderr, "sysfuzz: seed %llu: %ld calls in %llu workers, %.1fs; exits %ld, hangs %ld, stopped %ld, signals:",
		(unsigned long long)seed, done, (unsigned long long)gen,
		(now_ms() - t0) / 1000.0, nexit, nhang, nstopped);
	for (int i = 0; i < 65; i++)
		if (nsig[i]) fprintf(stderr, " %d:%ld", i, nsig[i]);
	fprintf(stderr, "\n");
	return 0;
}
