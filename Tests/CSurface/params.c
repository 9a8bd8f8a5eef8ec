/* params.c — a module built with the harness (pkg-config vmalloc-module): module_param of each
 * type the harness parses (int, uint, long, ulong, bool, charp) with MODULE_PARM_DESC. Init prints
 * every value on one pr_info line, which scripts/c-test compares with what it passed, and returns
 * -EINVAL when fail=1, so the runner can check the harness's exit status and message. The refusals
 * (unknown key, unparsable value) are the harness's: init must not run, so "params: init" must be
 * absent from their output. */
#include <linux/errno.h>
#include <linux/init.h>
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/printk.h>

static int n = 1;
module_param(n, int, 0444);
MODULE_PARM_DESC(n, "a signed int");

static unsigned int u = 2;
module_param(u, uint, 0444);
MODULE_PARM_DESC(u, "an unsigned int");

static long l = -3;
module_param(l, long, 0444);
MODULE_PARM_DESC(l, "a long");

static unsigned long ul = 4;
module_param(ul, ulong, 0444);
MODULE_PARM_DESC(ul, "an unsigned long");

static bool b;
module_param(b, bool, 0444);
MODULE_PARM_DESC(b, "a bool (y/n/1/0)");

static char *s = "default";
module_param(s, charp, 0444);
MODULE_PARM_DESC(s, "a string");

static bool fail;
module_param(fail, bool, 0444);
MODULE_PARM_DESC(fail, "init returns -EINVAL");

static int __init params_init(void)
{
    pr_info("params: init n=%d u=%u l=%ld ul=%lu b=%c s=%s\n", n, u, l, ul, b ? 'Y' : 'N', s);
    if (fail) {
        pr_err("params: failing on request\n");
        return -EINVAL;
    }
    return 0;
}

static void __exit params_exit(void)
{
    pr_info("params: exit\n");
}

module_init(params_init);
module_exit(params_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("module_param parsing check for the vmalloc module harness");
