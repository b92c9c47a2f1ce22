// SPDX-License-Identifier: GPL-2.0
/*
 * memview: the /dev/memview character device and its ioctl dispatch.
 *
 * The dispatch follows iommufd: every command has one struct that starts
 * with its size; the kernel copies min(user size, kernel size) with
 * copy_struct_from_user(), which rejects a larger struct whose unknown tail
 * is not zero, runs the command and copies the struct back.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/uaccess.h>

#include "memview-private.h"

unsigned long memview_slice_size = 256UL << 20;
module_param_named(slice_size, memview_slice_size, ulong, 0444);
MODULE_PARM_DESC(slice_size,
		 "Bytes per slice: a multiple of the memory section size (default 256 MiB)");

static int memview_get_info(void *arg)
{
	int idx;
	struct memview_info *cmd = arg;

	if (cmd->flags || cmd->__reserved)
		return -EINVAL;
	cmd->out_api_version = MEMVIEW_API_VERSION;
	cmd->out_features = MEMVIEW_FEATURE_REGION_EVACUATE |
			    MEMVIEW_FEATURE_PROMOTE_NODE |
			    MEMVIEW_FEATURE_RESIDENCY |
			    MEMVIEW_FEATURE_AUTO |
			    MEMVIEW_FEATURE_RAS |
			    MEMVIEW_FEATURE_PIDFD |
			    MEMVIEW_FEATURE_BAD_RANGES;
	cmd->out_slice_size = memview_slice_size;
	cmd->out_page_size = PAGE_SIZE;
	idx = srcu_read_lock(&memview_srcu);
	cmd->out_nr_regions = memview_nr_regions();
	cmd->out_nr_slices = memview_nr_slices();
	cmd->out_poisoned_pages = memview_poisoned_pages();
	srcu_read_unlock(&memview_srcu, idx);
	return 0;
}

#define MEMVIEW_WRAP(name, type)					\
static int memview_do_##name(void *arg)					\
{									\
	return memview_##name((type *)arg);				\
}
MEMVIEW_WRAP(region_add, struct memview_region_add)
MEMVIEW_WRAP(region_remove, struct memview_region_remove)
MEMVIEW_WRAP(region_list, struct memview_region_list)
MEMVIEW_WRAP(slice_list, struct memview_slice_list)
MEMVIEW_WRAP(proc_attach, struct memview_proc_attach)
MEMVIEW_WRAP(proc_detach, struct memview_proc_detach)
MEMVIEW_WRAP(proc_list, struct memview_proc_list)
MEMVIEW_WRAP(demote, struct memview_migrate)
MEMVIEW_WRAP(promote, struct memview_migrate)
MEMVIEW_WRAP(residency, struct memview_residency)
MEMVIEW_WRAP(set_policy, struct memview_policy)
MEMVIEW_WRAP(get_policy, struct memview_policy)
MEMVIEW_WRAP(stats, struct memview_stats)
MEMVIEW_WRAP(slice_fence, struct memview_slice_fence)
MEMVIEW_WRAP(slice_unfence, struct memview_slice_fence)
MEMVIEW_WRAP(error_report, struct memview_error)
MEMVIEW_WRAP(error_inject, struct memview_error)

union memview_ucmd_buffer {
	struct memview_info info;
	struct memview_region_add region_add;
	struct memview_region_remove region_remove;
	struct memview_region_list region_list;
	struct memview_slice_list slice_list;
	struct memview_proc_attach proc_attach;
	struct memview_proc_detach proc_detach;
	struct memview_proc_list proc_list;
	struct memview_migrate migrate;
	struct memview_residency residency;
	struct memview_policy policy;
	struct memview_stats stats;
	struct memview_slice_fence fence;
	struct memview_error error;
};

/**
 * struct memview_ioctl_op - one command of the dispatch table
 * @size: sizeof the struct this module knows
 * @min_size: size of the first version of the struct: smaller is -EINVAL
 * @ioctl_num: the full command number
 * @execute: the handler
 * @undo: if not NULL, undoes a successful @execute whose result could not be
 *	written back (the caller would not know what it created)
 */
struct memview_ioctl_op {
	unsigned int size;
	unsigned int min_size;
	unsigned int ioctl_num;
	int (*execute)(void *cmd);
	void (*undo)(void *cmd);
};

#define MEMVIEW_OP(_ioctl, _fn, _struct, _last)				\
	[_IOC_NR(_ioctl) - MEMVIEW_CMD_BASE] = {			\
		.size = sizeof(_struct),				\
		.min_size = offsetofend(_struct, _last),		\
		.ioctl_num = _ioctl,					\
		.execute = _fn,						\
	}

#define MEMVIEW_OP_UNDO(_ioctl, _fn, _undo, _struct, _last)		\
	[_IOC_NR(_ioctl) - MEMVIEW_CMD_BASE] = {			\
		.size = sizeof(_struct),				\
		.min_size = offsetofend(_struct, _last),		\
		.ioctl_num = _ioctl,					\
		.execute = _fn,						\
		.undo = _undo,						\
	}

/* A region the caller cannot learn the id of is given back at once. */
static void memview_undo_region_add(void *cmd)
{
	struct memview_region_add *add = cmd;
	struct memview_region_remove rm = {
		.flags = MEMVIEW_REGION_REMOVE_EVACUATE,
		.region_id = add->out_region_id,
	};

	if (memview_region_remove(&rm))
		pr_warn("region %u: added, not reported to the caller, and could not be removed\n",
			add->out_region_id);
}

static const struct memview_ioctl_op memview_ops[] = {
	MEMVIEW_OP(MEMVIEW_IOCTL_GET_INFO, memview_get_info,
		   struct memview_info, __reserved),
	MEMVIEW_OP_UNDO(MEMVIEW_IOCTL_REGION_ADD, memview_do_region_add,
			memview_undo_region_add, struct memview_region_add,
			out_unusable_bytes),
	MEMVIEW_OP(MEMVIEW_IOCTL_REGION_REMOVE, memview_do_region_remove,
		   struct memview_region_remove, out_pages_evacuated),
	MEMVIEW_OP(MEMVIEW_IOCTL_REGION_LIST, memview_do_region_list,
		   struct memview_region_list, regions),
	MEMVIEW_OP(MEMVIEW_IOCTL_SLICE_LIST, memview_do_slice_list,
		   struct memview_slice_list, slices),
	MEMVIEW_OP(MEMVIEW_IOCTL_PROC_ATTACH, memview_do_proc_attach,
		   struct memview_proc_attach, dram_budget),
	MEMVIEW_OP(MEMVIEW_IOCTL_PROC_DETACH, memview_do_proc_detach,
		   struct memview_proc_detach, __reserved),
	MEMVIEW_OP(MEMVIEW_IOCTL_PROC_LIST, memview_do_proc_list,
		   struct memview_proc_list, procs),
	MEMVIEW_OP(MEMVIEW_IOCTL_DEMOTE, memview_do_demote,
		   struct memview_migrate, out_thp_split_failed),
	MEMVIEW_OP(MEMVIEW_IOCTL_PROMOTE, memview_do_promote,
		   struct memview_migrate, out_thp_split_failed),
	MEMVIEW_OP(MEMVIEW_IOCTL_RESIDENCY, memview_do_residency,
		   struct memview_residency, slices),
	MEMVIEW_OP(MEMVIEW_IOCTL_SET_POLICY, memview_do_set_policy,
		   struct memview_policy, __reserved),
	MEMVIEW_OP(MEMVIEW_IOCTL_GET_POLICY, memview_do_get_policy,
		   struct memview_policy, __reserved),
	MEMVIEW_OP(MEMVIEW_IOCTL_STATS, memview_do_stats,
		   struct memview_stats, out_hot_pages),
	MEMVIEW_OP(MEMVIEW_IOCTL_SLICE_FENCE, memview_do_slice_fence,
		   struct memview_slice_fence, out_evac_pending),
	MEMVIEW_OP(MEMVIEW_IOCTL_SLICE_UNFENCE, memview_do_slice_unfence,
		   struct memview_slice_fence, out_evac_pending),
	MEMVIEW_OP(MEMVIEW_IOCTL_ERROR_REPORT, memview_do_error_report,
		   struct memview_error, out_pages_poisoned),
	MEMVIEW_OP(MEMVIEW_IOCTL_ERROR_INJECT, memview_do_error_inject,
		   struct memview_error, out_pages_poisoned),
};

static long memview_fops_ioctl(struct file *filp, unsigned int cmd,
			       unsigned long arg)
{
	void __user *uarg = (void __user *)arg;
	const struct memview_ioctl_op *op;
	union memview_ucmd_buffer buf;
	unsigned int nr = _IOC_NR(cmd);
	u32 user_size;
	int ret;

	if (nr < MEMVIEW_CMD_BASE ||
	    nr - MEMVIEW_CMD_BASE >= ARRAY_SIZE(memview_ops))
		return -ENOTTY;
	op = &memview_ops[nr - MEMVIEW_CMD_BASE];
	if (op->ioctl_num != cmd)
		return -ENOTTY;

	if (get_user(user_size, (u32 __user *)uarg))
		return -EFAULT;
	if (user_size < op->min_size)
		return -EINVAL;
	ret = copy_struct_from_user(&buf, op->size, uarg, user_size);
	if (ret)
		return ret;
	ret = op->execute(&buf);
	/*
	 * The struct is written back on success and on the errors that carry
	 * results: -EMSGSIZE (the count needed), -EBUSY and -EINTR (what was
	 * done before the call stopped).
	 */
	if (ret && ret != -EMSGSIZE && ret != -EBUSY && ret != -EINTR)
		return ret;
	if (copy_to_user(uarg, &buf, min(op->size, user_size))) {
		if (!ret && op->undo)
			op->undo(&buf);
		return -EFAULT;
	}
	return ret;
}

static const struct file_operations memview_fops = {
	.owner		= THIS_MODULE,
	.open		= memview_events_open,
	.release	= memview_events_release,
	.read		= memview_events_read,
	.poll		= memview_events_poll,
	.unlocked_ioctl	= memview_fops_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.llseek		= noop_llseek,
};

/* Anyone may open it; each command checks its own privilege. */
static struct miscdevice memview_misc = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= "memview",
	.fops	= &memview_fops,
	.mode	= 0666,
};

static int __init memview_init(void)
{
	unsigned long section = 1UL << SECTION_SIZE_BITS;
	int ret;

	if (!memview_slice_size || memview_slice_size % section ||
	    memview_slice_size > (64UL << 30)) {
		pr_err("slice_size=%lu must be a non-zero multiple of %lu bytes, at most 64 GiB\n",
		       memview_slice_size, section);
		return -EINVAL;
	}
	ret = memview_ras_init();
	if (ret)
		return ret;
	memview_sampler_init();
	ret = memview_placer_start();
	if (ret)
		goto out_ras;
	ret = misc_register(&memview_misc);
	if (ret)
		goto out_placer;
	memview_debugfs_init();
	pr_info("loaded, api %d, slice size %lu MiB\n", MEMVIEW_API_VERSION,
		memview_slice_size >> 20);
	return 0;

out_placer:
	memview_placer_stop();
out_ras:
	memview_sampler_exit();
	memview_ras_exit();
	return ret;
}

/*
 * Every region holds a module reference, so this runs only when no region
 * (and so no slice page) is left.
 */
static void __exit memview_exit(void)
{
	memview_debugfs_exit();
	misc_deregister(&memview_misc);
	memview_placer_stop();
	memview_procs_exit();
	memview_sampler_exit();
	memview_ras_exit();
}

module_init(memview_init);
module_exit(memview_exit);
MODULE_DESCRIPTION("memview: tiered memory manager for CXL and PMEM regions");
MODULE_LICENSE("GPL");
