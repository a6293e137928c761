/*
 * lsm_list_modules(2), lsm_get_self_attr(2), lsm_set_self_attr(2) (Linux
 * 6.8). Whatever modules a kernel has, the capability module is always
 * listed; cases that depend on a module with process attributes (SELinux,
 * AppArmor, Smack) skip where the host has one.
 */
#include "test.h"

#define NR_lsm_get_self_attr 459
#define NR_lsm_set_self_attr 460
#define NR_lsm_list_modules 461

#define LSM_ID_CAPABILITY 100
#define LSM_ATTR_CURRENT 100
#define LSM_FLAG_SINGLE 1

struct lsm_ctx {
	uint64_t id;
	uint64_t flags;
	uint64_t len;
	uint64_t ctx_len;
	uint8_t ctx[32];
};

static void skip_if_missing(void)
{
	if (syscall(NR_lsm_list_modules, NULL, NULL, 1) < 0 && errno == ENOSYS)
		TEST_SKIP("no LSM syscalls (Linux < 6.8 or no CONFIG_SECURITY)");
}

TEST(lsm_list_modules, lists_the_capability_module_and_says_the_size)
{
	skip_if_missing();
	uint64_t ids[64];
	uint32_t size = sizeof(ids);
	long n = syscall(NR_lsm_list_modules, ids, &size, 0);
	ASSERT_GE(n, 1);
	EXPECT_EQ(size, (uint32_t)n * 8);
	int found = 0;
	for (long i = 0; i < n; i++)
		found |= ids[i] == LSM_ID_CAPABILITY;
	EXPECT_TRUE(found);
}

TEST(lsm_list_modules, too_small_a_buffer_is_E2BIG_with_the_size_needed)
{
	skip_if_missing();
	uint64_t ids[64];
	uint32_t size = 0;
	EXPECT_ERRNO(syscall(NR_lsm_list_modules, ids, &size, 0), E2BIG);
	EXPECT_GE(size, 8u);
	EXPECT_EQ(size % 8, 0u);
	uint32_t need = size;
	size = need - 1;
	EXPECT_ERRNO(syscall(NR_lsm_list_modules, ids, &size, 0), E2BIG);
	EXPECT_EQ(size, need);
}

TEST(lsm_list_modules, flags_and_bad_pointers)
{
	skip_if_missing();
	uint64_t ids[64];
	uint32_t size = sizeof(ids);
	EXPECT_ERRNO(syscall(NR_lsm_list_modules, ids, &size, 1), EINVAL);
	EXPECT_ERRNO(syscall(NR_lsm_list_modules, ids, NULL, 0), EFAULT);
	EXPECT_ERRNO(syscall(NR_lsm_list_modules, (void *)8, &size, 0), EFAULT);
}

TEST(lsm_get_self_attr, argument_errors)
{
	skip_if_missing();
	struct lsm_ctx ctx;
	memset(&ctx, 0, sizeof(ctx));
	uint32_t size = sizeof(ctx);
	EXPECT_ERRNO(syscall(NR_lsm_get_self_attr, 0, &ctx, &size, 0), EINVAL);
	EXPECT_ERRNO(syscall(NR_lsm_get_self_attr, LSM_ATTR_CURRENT, &ctx, NULL, 0), EINVAL);
	EXPECT_ERRNO(syscall(NR_lsm_get_self_attr, LSM_ATTR_CURRENT, &ctx, (void *)8, 0), EFAULT);
	EXPECT_ERRNO(syscall(NR_lsm_get_self_attr, LSM_ATTR_CURRENT, &ctx, &size, 2), EINVAL);
	EXPECT_ERRNO(syscall(NR_lsm_get_self_attr, LSM_ATTR_CURRENT, NULL, &size, LSM_FLAG_SINGLE), EINVAL);
	/* LSM_FLAG_SINGLE needs the module's id in ctx. */
	EXPECT_ERRNO(syscall(NR_lsm_get_self_attr, LSM_ATTR_CURRENT, &ctx, &size, LSM_FLAG_SINGLE), EINVAL);
	EXPECT_ERRNO(syscall(NR_lsm_get_self_attr, LSM_ATTR_CURRENT, (void *)8, &size, LSM_FLAG_SINGLE), EFAULT);
}

TEST(lsm_get_self_attr, no_module_with_the_attribute_is_EOPNOTSUPP_and_size_0)
{
	skip_if_missing();
	struct lsm_ctx ctx;
	memset(&ctx, 0, sizeof(ctx));
	uint32_t size = sizeof(ctx);
	long r = syscall(NR_lsm_get_self_attr, LSM_ATTR_CURRENT, &ctx, &size, 0);
	if (r >= 0 && !test_in_sandbox())
		TEST_SKIP("the host has a module with process attributes");
	EXPECT_EQ(r, -1);
	EXPECT_EQ(errno, EOPNOTSUPP);
	EXPECT_EQ(size, 0u);
	/* The capability module has no attributes at all. */
	ctx.id = LSM_ID_CAPABILITY;
	size = sizeof(ctx);
	EXPECT_ERRNO(syscall(NR_lsm_get_self_attr, LSM_ATTR_CURRENT, &ctx, &size, LSM_FLAG_SINGLE), EOPNOTSUPP);
	EXPECT_EQ(size, 0u);
}

TEST(lsm_set_self_attr, context_is_checked_then_no_module_takes_it)
{
	skip_if_missing();
	char page[4097];
	memset(page, 0, sizeof(page));
	struct lsm_ctx *ctx = (struct lsm_ctx *)page;
	ctx->id = 999; /* no such module */
	ctx->ctx_len = 4;
	ctx->len = 32 + 4;
	memcpy(ctx->ctx, "abc", 4);
	EXPECT_ERRNO(syscall(NR_lsm_set_self_attr, LSM_ATTR_CURRENT, ctx, 36, 1), EINVAL);
	EXPECT_ERRNO(syscall(NR_lsm_set_self_attr, LSM_ATTR_CURRENT, ctx, 31, 0), EINVAL);
	EXPECT_ERRNO(syscall(NR_lsm_set_self_attr, LSM_ATTR_CURRENT, ctx, 4097, 0), E2BIG);
	EXPECT_ERRNO(syscall(NR_lsm_set_self_attr, LSM_ATTR_CURRENT, (void *)8, 36, 0), EFAULT);
	/* len larger than the size given, or too small for ctx_len. */
	EXPECT_ERRNO(syscall(NR_lsm_set_self_attr, LSM_ATTR_CURRENT, ctx, 35, 0), EINVAL);
	ctx->len = 35;
	EXPECT_ERRNO(syscall(NR_lsm_set_self_attr, LSM_ATTR_CURRENT, ctx, 36, 0), EINVAL);
	ctx->len = 36;
	ctx->ctx_len = ~0ull;
	EXPECT_ERRNO(syscall(NR_lsm_set_self_attr, LSM_ATTR_CURRENT, ctx, 36, 0), EINVAL);
	ctx->ctx_len = 4;
	EXPECT_ERRNO(syscall(NR_lsm_set_self_attr, LSM_ATTR_CURRENT, ctx, 36, 0), EOPNOTSUPP);
	ctx->id = LSM_ID_CAPABILITY;
	EXPECT_ERRNO(syscall(NR_lsm_set_self_attr, LSM_ATTR_CURRENT, ctx, 4096, 0), EOPNOTSUPP);
}
