/* uname(2). */
#include "test.h"

#include <ctype.h>
#include <sys/utsname.h>

TEST(uname, sysname_is_Linux_and_machine_is_x86_64)
{
	struct utsname u;
	ASSERT_SYSCALL_OK(uname(&u));
	EXPECT_STREQ(u.sysname, "Linux");
	EXPECT_STREQ(u.machine, "x86_64");
}

TEST(uname, release_looks_like_a_kernel_version)
{
	struct utsname u;
	ASSERT_SYSCALL_OK(uname(&u));
	EXPECT_TRUE(isdigit((unsigned char)u.release[0]));
	EXPECT_TRUE(strchr(u.release, '.') != NULL);
	EXPECT_GT(strlen(u.version), 0);
}

TEST(uname, nodename_matches_gethostname)
{
	struct utsname u;
	ASSERT_SYSCALL_OK(uname(&u));
	char host[256] = {0};
	ASSERT_SYSCALL_OK(gethostname(host, sizeof(host) - 1));
	EXPECT_STREQ(u.nodename, host);
	EXPECT_GT(strlen(u.nodename), 0);
}

TEST(uname, fields_are_nul_terminated_within_their_size)
{
	struct utsname u;
	memset(&u, 'X', sizeof(u));
	ASSERT_SYSCALL_OK(uname(&u));
	EXPECT_LT(strnlen(u.sysname, sizeof(u.sysname)), sizeof(u.sysname));
	EXPECT_LT(strnlen(u.release, sizeof(u.release)), sizeof(u.release));
	EXPECT_LT(strnlen(u.machine, sizeof(u.machine)), sizeof(u.machine));
	EXPECT_LT(strnlen(u.domainname, sizeof(u.domainname)), sizeof(u.domainname));
}

TEST(uname, bad_buffer_pointer_fails_with_EFAULT)
{
	EXPECT_ERRNO(syscall(SYS_uname, (void *)8), EFAULT);
}
