// SPDX-License-Identifier: GPL-2.0
/*
 * Managed processes.
 *
 * A managed process is kept by its struct pid (the thread group's), not by
 * its mm: the attachment follows the process across execve(), which is what
 * "memviewctl run" needs, and holds nothing but the struct pid.  Entries of
 * processes that have exited are dropped the next time the list is looked at.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/file.h>
#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/kref.h>
#include <linux/pid.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "memview-private.h"


/* protects memview_procs, memview_nr_procs, memview_refused, memview_nr_refused */
static DEFINE_MUTEX(memview_procs_lock);
static LIST_HEAD(memview_procs);
static unsigned int memview_nr_procs;

/*
 * Processes memview let go of (PROC_DETACH, or an exec their attacher may
 * not follow) while they live: the placer does not adopt them again as the
 * children of a process that follows its children; only PROC_ATTACH does.
 * At most MEMVIEW_MAX_PROCS, the oldest forgotten first.
 */
struct memview_refused {
	struct list_head node;
	struct pid *pid;
};
static LIST_HEAD(memview_refused);
static unsigned int memview_nr_refused;

static void memview_proc_release(struct kref *ref)
{
	struct memview_proc *p = container_of(ref, struct memview_proc, ref);
	u32 i;

	/* No sample handler runs on @p after this. */
	memview_sampler_stop(p);
	memview_proc_heat_destroy(p);
	for (i = 0; i < p->nr_children; i++)
		put_pid(p->children[i]);
	put_pid(p->pid);
	put_cred(p->cred);
	kfree(p);
}

void memview_proc_put(struct memview_proc *proc)
{
	if (proc)
		kref_put(&proc->ref, memview_proc_release);
}

static void memview_proc_unlink(struct memview_proc *p)
{
	lockdep_assert_held(&memview_procs_lock);
	list_del(&p->node);
	memview_nr_procs--;
	memview_proc_put(p);
}

static void memview_refused_del(struct memview_refused *r)
{
	lockdep_assert_held(&memview_procs_lock);
	list_del(&r->node);
	memview_nr_refused--;
	put_pid(r->pid);
	kfree(r);
}

static struct memview_refused *memview_refused_find(struct pid *pid)
{
	struct memview_refused *r;

	lockdep_assert_held(&memview_procs_lock);
	list_for_each_entry(r, &memview_refused, node)
		if (r->pid == pid)
			return r;
	return NULL;
}

/*
 * Remember that @pid was let go.  Without memory for the record the detach
 * still happens; the process may then be adopted again.
 */
static void memview_refuse(struct pid *pid)
{
	struct memview_refused *r;

	lockdep_assert_held(&memview_procs_lock);
	if (memview_refused_find(pid))
		return;
	r = kmalloc(sizeof(*r), GFP_KERNEL_ACCOUNT);
	if (!r)
		return;
	if (memview_nr_refused >= MEMVIEW_MAX_PROCS)
		memview_refused_del(list_first_entry(&memview_refused,
						     struct memview_refused,
						     node));
	r->pid = get_pid(pid);
	list_add_tail(&r->node, &memview_refused);
	memview_nr_refused++;
}

/* Drop the entries of processes that are gone. */
static void memview_procs_reap(void)
{
	struct memview_refused *r, *rtmp;
	struct memview_proc *p, *tmp;

	lockdep_assert_held(&memview_procs_lock);
	list_for_each_entry_safe(p, tmp, &memview_procs, node)
		if (!pid_has_task(p->pid, PIDTYPE_TGID))
			memview_proc_unlink(p);
	list_for_each_entry_safe(r, rtmp, &memview_refused, node)
		if (!pid_has_task(r->pid, PIDTYPE_TGID))
			memview_refused_del(r);
}

static struct memview_proc *memview_proc_find(struct pid *pid)
{
	struct memview_proc *p;

	lockdep_assert_held(&memview_procs_lock);
	list_for_each_entry(p, &memview_procs, node)
		if (p->pid == pid)
			return p;
	return NULL;
}

/*
 * May the caller manage @task?  The check move_pages(2) makes,
 * ptrace_may_access(task, PTRACE_MODE_READ_REALCREDS), which modules cannot
 * call: the same thread group, or the caller's real uid/gid match all of
 * the target's uids/gids, or CAP_SYS_PTRACE in the target's user namespace;
 * and a non-dumpable target needs CAP_SYS_PTRACE in its mm's namespace.
 * The LSM hooks (ptrace_access_check, task_movememory) are not exported and
 * cannot be consulted.
 */
static bool memview_may_access(struct task_struct *task)
{
	const struct cred *cred = current_cred(), *tcred;
	bool ok;

	if (same_thread_group(task, current))
		return true;
	rcu_read_lock();
	tcred = __task_cred(task);
	ok = uid_eq(cred->uid, tcred->euid) && uid_eq(cred->uid, tcred->suid) &&
	     uid_eq(cred->uid, tcred->uid) && gid_eq(cred->gid, tcred->egid) &&
	     gid_eq(cred->gid, tcred->sgid) && gid_eq(cred->gid, tcred->gid);
	if (!ok)
		ok = ns_capable(tcred->user_ns, CAP_SYS_PTRACE);
	rcu_read_unlock();
	if (!ok)
		return false;

	return memview_task_dumpable_ok(task);
}

/*
 * The thread-group pid of pidfd @fd, with a reference: a pidfd names one
 * process for its whole life, so a pid reused after the process exited
 * cannot be taken for it.  -EBADF if @fd is not a pidfd, -ESRCH if the
 * process has exited.
 */
static struct pid *memview_pidfd_get_tgid(int fd)
{
	struct task_struct *task;
	struct file *file;
	struct pid *pid;

	if (fd < 0)
		return ERR_PTR(-EBADF);
	file = fget(fd);
	if (!file)
		return ERR_PTR(-EBADF);
	pid = memview_pidfd_pid(file);
	if (!IS_ERR(pid)) {
		/* A thread's pidfd (PIDFD_THREAD) stands for its process. */
		task = get_pid_task(pid, PIDTYPE_PID);
		pid = task ? get_pid(task_tgid(task)) : ERR_PTR(-ESRCH);
		if (task)
			put_task_struct(task);
	}
	fput(file);
	return pid;
}

/*
 * Look up process @nr (a pid in the caller's pid namespace, or a pidfd if
 * @flags has MEMVIEW_PIDFD) and check access.  Returns a task reference or
 * an ERR_PTR: -EINVAL for a bad pid, -EBADF for a bad pidfd, -ESRCH if
 * there is no such process, -EPERM if the caller may not manage it.
 */
static struct task_struct *memview_get_task(pid_t nr, u32 flags,
					    struct pid **pidp)
{
	struct task_struct *task;
	struct pid *pid;

	if (flags & MEMVIEW_PIDFD) {
		pid = memview_pidfd_get_tgid(nr);
		if (IS_ERR(pid))
			return ERR_CAST(pid);
	} else {
		if (nr <= 0)
			return ERR_PTR(-EINVAL);
		pid = find_get_pid(nr);
		if (!pid)
			return ERR_PTR(-ESRCH);
	}
	task = get_pid_task(pid, PIDTYPE_TGID);
	if (!task) {
		put_pid(pid);
		return ERR_PTR(-ESRCH);
	}
	if (!memview_may_access(task)) {
		put_task_struct(task);
		put_pid(pid);
		return ERR_PTR(-EPERM);
	}
	*pidp = pid;
	return task;
}

/*
 * May whoever attached @p manage @task (the check of memview_may_access(),
 * made with @p's credentials)?
 */
static bool memview_cred_may_access(const struct cred *cred,
				    struct task_struct *task)
{
	const struct cred *old = override_creds(cred);
	bool ok = memview_may_access(task);

	revert_creds(old);
	return ok;
}

bool memview_proc_may_keep(struct memview_proc *p, struct task_struct *task)
{
	return memview_cred_may_access(p->cred, task);
}

/*
 * The exec id of @task, read under its exec_update_lock with a check that
 * @cred may manage it: an exec between a check and a later read would
 * leave the process attached under credentials it no longer has, with an
 * exec id the placer would never see change.  0, -EPERM or -EINTR.
 */
static int memview_exec_id_checked(struct task_struct *task,
				   const struct cred *cred, u64 *exec_id)
{
	bool ok;

	if (down_read_killable(&task->signal->exec_update_lock))
		return -EINTR;
	*exec_id = READ_ONCE(task->self_exec_id);
	ok = memview_cred_may_access(cred, task);
	up_read(&task->signal->exec_update_lock);
	return ok ? 0 : -EPERM;
}

/* Stop managing @p (the placer found it may not keep it). */
void memview_proc_let_go(struct memview_proc *p)
{
	mutex_lock(&memview_procs_lock);
	if (memview_proc_find(p->pid) == p) {
		memview_refuse(p->pid);
		memview_proc_unlink(p);
		pr_info_ratelimited("pid %d: exec'd a program its attacher may not manage: detached\n",
				    pid_vnr(p->pid));
	}
	mutex_unlock(&memview_procs_lock);
}

/*
 * The entry is charged to the caller's memcg: PROC_ATTACH's caller, or the
 * placer's (none) for an adopted child.
 */
static struct memview_proc *memview_proc_alloc(struct pid *pid, u32 flags,
					       u64 budget,
					       const struct cred *cred,
					       u64 exec_id)
{
	struct memview_proc *p = kzalloc(sizeof(*p), GFP_KERNEL_ACCOUNT);

	if (!p)
		return NULL;
	kref_init(&p->ref);
	p->pid = get_pid(pid);
	p->flags = flags;
	p->dram_budget = budget;
	p->cred = get_cred(cred);
	p->exec_id = exec_id;
	xa_init_flags(&p->heat, XA_FLAGS_ACCOUNT);
	spin_lock_init(&p->sample_lock);
	return p;
}

/*
 * May @pid get a new entry?  -EEXIST if it has one, -EPERM if it is to be
 * adopted (@adopt) but was let go, -ENOSPC if the list is full.  A
 * PROC_ATTACH (not @adopt) clears the refusal.
 */
static int memview_proc_may_insert(struct pid *pid, bool adopt)
{
	struct memview_refused *r;

	lockdep_assert_held(&memview_procs_lock);
	memview_procs_reap();
	if (memview_proc_find(pid))
		return -EEXIST;
	r = memview_refused_find(pid);
	if (r && adopt)
		return -EPERM;
	if (memview_nr_procs >= MEMVIEW_MAX_PROCS)
		return -ENOSPC;
	if (r)
		memview_refused_del(r);
	return 0;
}

/*
 * Attach @pid with @flags for whoever has @cred, if @cred may manage it
 * (checked with its exec id: memview_exec_id_checked()).  The cheap checks
 * come first: an adoption the placer retries at every fault of an
 * unwanted child starts no sampler.  The fault sampler starts before the
 * entry is listed, so the placer never sees a half-made entry.
 */
static int memview_proc_attach_pid(struct pid *pid, u32 flags, u64 budget,
				   const struct cred *cred, bool adopt)
{
	struct task_struct *task;
	struct memview_proc *p;
	u64 exec_id;
	int ret;

	task = get_pid_task(pid, PIDTYPE_TGID);
	if (!task)
		return -ESRCH;
	ret = memview_exec_id_checked(task, cred, &exec_id);
	put_task_struct(task);
	if (ret)
		return ret;

	mutex_lock(&memview_procs_lock);
	ret = memview_proc_may_insert(pid, adopt);
	mutex_unlock(&memview_procs_lock);
	if (ret)
		return ret;

	p = memview_proc_alloc(pid, flags, budget, cred, exec_id);
	if (!p)
		return -ENOMEM;
	if (flags & MEMVIEW_ATTACH_AUTO)
		memview_sampler_start(p);
	mutex_lock(&memview_procs_lock);
	ret = memview_proc_may_insert(pid, adopt);
	if (!ret) {
		list_add_tail(&p->node, &memview_procs);
		memview_nr_procs++;
	}
	mutex_unlock(&memview_procs_lock);
	if (ret)
		memview_proc_put(p);
	return ret;
}

/*
 * Attach child @pid of @parent (FOLLOW_CHILDREN): with the parent's flags,
 * budget and attacher, if that attacher may manage the child.
 */
int memview_proc_adopt(struct memview_proc *parent, struct pid *pid)
{
	return memview_proc_attach_pid(pid, parent->flags, parent->dram_budget,
				       parent->cred, true);
}

/*
 * The placer moves pages the process shares with others only for a caller
 * that could move them with move_pages(2) (MPOL_MF_MOVE_ALL).
 */
static u32 memview_attach_move_all(void)
{
	return capable(CAP_SYS_NICE) ? MEMVIEW_PROC_MOVE_ALL : 0;
}

int memview_proc_attach(struct memview_proc_attach *cmd)
{
	struct task_struct *task;
	struct pid *pid;
	int ret;

	if (cmd->flags & ~(MEMVIEW_ATTACH_AUTO | MEMVIEW_ATTACH_FOLLOW_CHILDREN |
			   MEMVIEW_PIDFD) ||
	    cmd->__reserved)
		return -EINVAL;
	if ((cmd->flags & MEMVIEW_ATTACH_FOLLOW_CHILDREN) &&
	    !(cmd->flags & MEMVIEW_ATTACH_AUTO))
		return -EINVAL;
	task = memview_get_task(cmd->pid, cmd->flags, &pid);
	if (IS_ERR(task))
		return PTR_ERR(task);
	/* Kernel threads have no memory to manage. */
	if (task->flags & PF_KTHREAD)
		ret = -EINVAL;
	else
		ret = memview_proc_attach_pid(pid, cmd->flags |
					      memview_attach_move_all(),
					      cmd->dram_budget, current_cred(),
					      false);
	put_task_struct(task);
	put_pid(pid);
	return ret;
}

/*
 * The processes the placer tiers: an array of references (put each with
 * memview_proc_put() and kfree() the array).  Returns how many, or -ENOMEM.
 */
int memview_procs_get_auto(struct memview_proc ***procsp)
{
	struct memview_proc **procs, *p;
	int n = 0;

	mutex_lock(&memview_procs_lock);
	memview_procs_reap();
	procs = kcalloc(max(memview_nr_procs, 1U), sizeof(*procs), GFP_KERNEL);
	if (!procs) {
		mutex_unlock(&memview_procs_lock);
		return -ENOMEM;
	}
	list_for_each_entry(p, &memview_procs, node) {
		if (!(p->flags & MEMVIEW_ATTACH_AUTO))
			continue;
		kref_get(&p->ref);
		procs[n++] = p;
	}
	mutex_unlock(&memview_procs_lock);
	*procsp = procs;
	return n;
}

int memview_proc_detach(struct memview_proc_detach *cmd)
{
	struct task_struct *task;
	struct memview_proc *p;
	struct pid *pid;
	int ret = 0;

	if (cmd->flags & ~MEMVIEW_PIDFD || cmd->__reserved)
		return -EINVAL;
	task = memview_get_task(cmd->pid, cmd->flags, &pid);
	if (IS_ERR(task))
		return PTR_ERR(task);
	put_task_struct(task);

	mutex_lock(&memview_procs_lock);
	p = memview_proc_find(pid);
	if (p) {
		/* A child of a process that follows its children stays out. */
		memview_refuse(pid);
		memview_proc_unlink(p);
	} else {
		ret = -ENOENT;
	}
	mutex_unlock(&memview_procs_lock);
	put_pid(pid);
	return ret;
}

int memview_proc_list(struct memview_proc_list *cmd)
{
	struct memview_proc_entry *buf;
	struct memview_proc *p;
	u32 n = 0;
	int ret = 0;

	if (cmd->flags || cmd->__reserved)
		return -EINVAL;

	mutex_lock(&memview_procs_lock);
	memview_procs_reap();
	if (memview_nr_procs > cmd->num_procs) {
		cmd->num_procs = memview_nr_procs;
		mutex_unlock(&memview_procs_lock);
		return -EMSGSIZE;
	}
	buf = kvcalloc(max(memview_nr_procs, 1U), sizeof(*buf), GFP_KERNEL);
	if (!buf) {
		mutex_unlock(&memview_procs_lock);
		return -ENOMEM;
	}
	list_for_each_entry(p, &memview_procs, node) {
		struct memview_proc_entry *e = &buf[n++];
		struct task_struct *task;

		e->pid = pid_vnr(p->pid);
		e->flags = p->flags & ~MEMVIEW_PROC_MOVE_ALL;
		task = get_pid_task(p->pid, PIDTYPE_TGID);
		if (task) {
			get_task_comm(e->comm, task);
			put_task_struct(task);
		}
		e->dram_budget = p->dram_budget;
		e->pages_demoted = atomic64_read(&p->demoted);
		e->pages_promoted = atomic64_read(&p->promoted);
	}
	mutex_unlock(&memview_procs_lock);

	cmd->num_procs = n;
	if (n && copy_to_user(u64_to_user_ptr(cmd->procs), buf,
			      n * sizeof(*buf)))
		ret = -EFAULT;
	kvfree(buf);
	return ret;
}

/**
 * memview_proc_get_mm - the mm of process @nr, for a migration or a query
 * @nr: pid in the caller's namespace, or a pidfd
 * @flags: the command's flags: MEMVIEW_PIDFD says @nr is a pidfd
 * @need_attached: fail with -ENOENT unless the process is managed
 * @procp: if not NULL, gets a reference to the managed entry (or NULL)
 *
 * Checks the caller's access every time: the check made at attach time was
 * for whoever attached.  Returns an mm with a user reference (mmput() it)
 * or an ERR_PTR.
 */
struct mm_struct *memview_proc_get_mm(pid_t nr, u32 flags, bool need_attached,
				      struct memview_proc **procp)
{
	struct memview_proc *p = NULL;
	struct task_struct *task;
	struct mm_struct *mm;
	struct pid *pid;

	task = memview_get_task(nr, flags, &pid);
	if (IS_ERR(task))
		return ERR_CAST(task);

	mutex_lock(&memview_procs_lock);
	p = memview_proc_find(pid);
	if (p)
		kref_get(&p->ref);
	mutex_unlock(&memview_procs_lock);
	put_pid(pid);

	if (need_attached && !p) {
		mm = ERR_PTR(-ENOENT);
		goto out;
	}
	mm = get_task_mm(task);
	if (!mm)
		mm = ERR_PTR(-ESRCH);
out:
	put_task_struct(task);
	if (IS_ERR(mm) || !procp)
		memview_proc_put(p);
	else
		*procp = p;
	return mm;
}

void memview_proc_account(struct memview_proc *proc, u64 demoted, u64 promoted)
{
	if (!proc)
		return;
	atomic64_add(demoted, &proc->demoted);
	atomic64_add(promoted, &proc->promoted);
}

void memview_procs_exit(void)
{
	struct memview_refused *r, *rtmp;
	struct memview_proc *p, *tmp;

	mutex_lock(&memview_procs_lock);
	list_for_each_entry_safe(p, tmp, &memview_procs, node)
		memview_proc_unlink(p);
	list_for_each_entry_safe(r, rtmp, &memview_refused, node)
		memview_refused_del(r);
	mutex_unlock(&memview_procs_lock);
}
