// SPDX-License-Identifier: GPL-2.0
/*
 * memviewctl: JSON builders, one per object, in ndctl's style: snake_case
 * keys, sizes and addresses as numbers unless -H asks for "256 MiB" and hex.
 */
#include <inttypes.h>
#include <string.h>

#include "memviewctl.h"

const char *region_kind_str(uint32_t kind)
{
	switch (kind) {
	case MEMVIEW_REGION_RAW:
		return "raw";
	case MEMVIEW_REGION_CXL:
		return "cxl";
	case MEMVIEW_REGION_PMEM:
		return "pmem";
	default:
		return "unknown";
	}
}

const char *slice_state_str(uint32_t state)
{
	switch (state) {
	case MEMVIEW_SLICE_ONLINE:
		return "online";
	case MEMVIEW_SLICE_DEGRADED:
		return "degraded";
	case MEMVIEW_SLICE_FENCING:
		return "fencing";
	case MEMVIEW_SLICE_FENCED:
		return "fenced";
	case MEMVIEW_SLICE_RETIRED:
		return "retired";
	case MEMVIEW_SLICE_REMOVING:
		return "removing";
	default:
		return "unknown";
	}
}

const char *fence_reason_str(uint32_t reason)
{
	switch (reason) {
	case MEMVIEW_FENCE_NONE:
		return "none";
	case MEMVIEW_FENCE_ADMIN:
		return "admin";
	case MEMVIEW_FENCE_UNCORRECTABLE:
		return "uncorrectable";
	case MEMVIEW_FENCE_CE_THRESHOLD:
		return "ce_threshold";
	default:
		return "unknown";
	}
}

const char *error_source_str(uint32_t source)
{
	switch (source) {
	case MEMVIEW_SRC_INJECT:
		return "inject";
	case MEMVIEW_SRC_MEMORY_FAILURE:
		return "memory_failure";
	case MEMVIEW_SRC_CXL_POISON:
		return "cxl_poison";
	case MEMVIEW_SRC_CXL_GENERAL_MEDIA:
		return "cxl_general_media";
	case MEMVIEW_SRC_CXL_DRAM:
		return "cxl_dram";
	case MEMVIEW_SRC_OTHER:
		return "other";
	default:
		return "unknown";
	}
}

const char *severity_str(uint32_t severity)
{
	switch (severity) {
	case MEMVIEW_ERROR_CORRECTED:
		return "corrected";
	case MEMVIEW_ERROR_UNCORRECTABLE:
		return "uncorrectable";
	default:
		return "unknown";
	}
}

const char *event_type_str(uint32_t type)
{
	switch (type) {
	case MEMVIEW_EVENT_STATE:
		return "state";
	case MEMVIEW_EVENT_ERROR:
		return "error";
	case MEMVIEW_EVENT_EVACUATION:
		return "evacuation";
	case MEMVIEW_EVENT_LOST:
		return "lost";
	default:
		return "unknown";
	}
}

struct json_object *event_to_json(const struct memview_event *ev,
				  unsigned long flags)
{
	struct json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	json_add_str(o, "event", event_type_str(ev->type));
	json_add_u64(o, "seq", ev->seq);
	json_add_u64(o, "time_ns", ev->time_ns);
	switch (ev->type) {
	case MEMVIEW_EVENT_LOST:
		json_add_u64(o, "lost", ev->count);
		return o;
	case MEMVIEW_EVENT_STATE:
		json_add_u64(o, "slice_id", ev->slice_id);
		json_add_u64(o, "region_id", ev->region_id);
		json_add_str(o, "old_state", slice_state_str(ev->old_state));
		json_add_str(o, "new_state", slice_state_str(ev->new_state));
		json_add_str(o, "reason", fence_reason_str(ev->reason));
		return o;
	case MEMVIEW_EVENT_ERROR:
		json_add_u64(o, "slice_id", ev->slice_id);
		json_add_u64(o, "region_id", ev->region_id);
		json_add_str(o, "state", slice_state_str(ev->new_state));
		json_add_str(o, "severity", severity_str(ev->reason));
		json_add_str(o, "source", error_source_str(ev->source));
		json_add_addr(o, "phys_addr", ev->phys_addr, flags);
		json_add_u64(o, "count", ev->count);
		return o;
	case MEMVIEW_EVENT_EVACUATION:
		json_add_u64(o, "slice_id", ev->slice_id);
		json_add_u64(o, "region_id", ev->region_id);
		json_add_str(o, "state", slice_state_str(ev->new_state));
		json_add_u64(o, "moved", ev->count);
		json_add_u64(o, "pending", ev->pending);
		return o;
	default:
		json_add_u64(o, "type", ev->type);
		json_add_u64(o, "slice_id", ev->slice_id);
		return o;
	}
}

void json_add_u64(struct json_object *o, const char *key, uint64_t v)
{
	json_object_object_add(o, key, json_object_new_uint64(v));
}

void json_add_int(struct json_object *o, const char *key, int64_t v)
{
	json_object_object_add(o, key, json_object_new_int64(v));
}

void json_add_str(struct json_object *o, const char *key, const char *v)
{
	json_object_object_add(o, key, json_object_new_string(v));
}

void json_add_size(struct json_object *o, const char *key, uint64_t v,
		   unsigned long flags)
{
	char buf[SIZE_STR_LEN];

	if (flags & MV_JSON_HUMAN)
		json_add_str(o, key, size_str(v, buf, sizeof(buf)));
	else
		json_add_u64(o, key, v);
}

void json_add_addr(struct json_object *o, const char *key, uint64_t v,
		   unsigned long flags)
{
	char buf[24];

	if (flags & MV_JSON_HUMAN) {
		snprintf(buf, sizeof(buf), "0x%" PRIx64, v);
		json_add_str(o, key, buf);
	} else {
		json_add_u64(o, key, v);
	}
}

/* A fixed-size char array from the module, NUL-terminated or not. */
static void json_add_fixed_str(struct json_object *o, const char *key,
			       const char *s, size_t len)
{
	json_object_object_add(o, key,
			       json_object_new_string_len(s, (int)strnlen(s, len)));
}

void json_print(struct json_object *o)
{
	fputs(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
					     JSON_C_TO_STRING_NOSLASHESCAPE),
	      stdout);
	fputc('\n', stdout);
	json_object_put(o);
}

struct json_object *region_to_json(const struct memview_region_entry *r,
				   unsigned long flags)
{
	struct json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	json_add_u64(o, "id", r->id);
	json_add_fixed_str(o, "label", r->label, sizeof(r->label));
	json_add_str(o, "kind", region_kind_str(r->kind));
	json_add_int(o, "numa_node", r->nid);
	json_add_addr(o, "resource", r->phys_addr, flags);
	json_add_size(o, "size", r->length, flags);
	json_add_u64(o, "nr_slices", r->nr_slices);
	json_add_size(o, "unusable_size", r->unusable_bytes, flags);
	if (flags & MV_JSON_VERBOSE)
		json_add_u64(o, "used_pages", r->used_pages);
	return o;
}

struct json_object *slice_to_json(const struct memview_slice_entry *s,
				  uint64_t page_size, unsigned long flags)
{
	struct json_object *o = json_object_new_object(), *e;

	if (!o)
		return NULL;
	json_add_u64(o, "id", s->id);
	json_add_u64(o, "region_id", s->region_id);
	json_add_u64(o, "index", s->index);
	json_add_str(o, "state", slice_state_str(s->state));
	json_add_addr(o, "resource", s->phys_addr, flags);
	json_add_size(o, "size", s->total_pages * page_size, flags);
	if (flags & MV_JSON_VERBOSE) {
		json_add_u64(o, "total_pages", s->total_pages);
		json_add_u64(o, "used_pages", s->used_pages);
		json_add_u64(o, "free_pages", s->free_pages);
		json_add_u64(o, "poisoned_pages", s->poisoned_pages);
		json_add_u64(o, "migrations_in", s->migrations_in);
		json_add_u64(o, "migrations_out", s->migrations_out);
		json_add_u64(o, "errors", s->errors);
	}
	if (!(flags & MV_JSON_RAS))
		return o;
	json_add_u64(o, "corrected_errors", s->corrected_errors);
	json_add_u64(o, "uncorrectable_errors", s->uncorrectable_errors);
	if (flags & MV_JSON_VERBOSE)
		json_add_u64(o, "window_corrected", s->window_corrected);
	if (s->fence_reason || (flags & MV_JSON_VERBOSE))
		json_add_str(o, "fence_reason", fence_reason_str(s->fence_reason));
	/* progress of the last evacuation, once there was one */
	if (s->evac_passes || s->evac_total || s->state == MEMVIEW_SLICE_FENCING ||
	    (flags & MV_JSON_VERBOSE)) {
		e = json_object_new_object();
		if (!e)
			return o;
		json_add_u64(e, "total", s->evac_total);
		json_add_u64(e, "moved", s->evac_moved);
		json_add_u64(e, "poisoned", s->evac_poisoned);
		json_add_u64(e, "pending", s->evac_pending);
		json_add_u64(e, "passes", s->evac_passes);
		json_add_u64(e, "ns", s->evac_ns);
		json_object_object_add(o, "evacuation", e);
	}
	return o;
}

static struct json_object *
residency_to_json(const struct memview_residency *res,
		  const struct memview_residency_entry *rs, uint32_t nr_rs)
{
	struct json_object *o = json_object_new_object(), *a, *e;
	uint32_t i;

	if (!o)
		return NULL;
	json_add_u64(o, "dram_pages", res->out_dram_pages);
	json_add_u64(o, "slice_pages", res->out_slice_pages);
	json_add_u64(o, "other_pages", res->out_other_pages);
	json_add_u64(o, "not_present_pages", res->out_not_present);
	a = json_object_new_array();
	for (i = 0; a && i < nr_rs; i++) {
		e = json_object_new_object();
		if (!e)
			break;
		json_add_u64(e, "slice_id", rs[i].slice_id);
		json_add_u64(e, "pages", rs[i].pages);
		json_object_array_add(a, e);
	}
	if (a)
		json_object_object_add(o, "slices", a);
	return o;
}

const char *proc_mode_str(uint32_t flags)
{
	if (!(flags & MEMVIEW_ATTACH_AUTO))
		return "manual";
	if (flags & MEMVIEW_ATTACH_FOLLOW_CHILDREN)
		return "auto+children";
	return "auto";
}

const char *samplers_str(uint32_t samplers)
{
	switch (samplers) {
	case 0:
		return "none";
	case MEMVIEW_SAMPLE_ACCESS_BIT:
		return "access";
	case MEMVIEW_SAMPLE_FAULTS:
		return "faults";
	case MEMVIEW_SAMPLE_ACCESS_BIT | MEMVIEW_SAMPLE_FAULTS:
		return "access,faults";
	default:
		return "unknown";
	}
}

const char *fault_sampler_str(uint32_t fault_sampler)
{
	switch (fault_sampler) {
	case MEMVIEW_FAULT_SAMPLER_NONE:
		return "none";
	case MEMVIEW_FAULT_SAMPLER_SW:
		return "sw-page-fault";
	default:
		return "unknown";
	}
}

struct json_object *stats_to_json(const struct memview_stats *s,
				  unsigned long flags)
{
	struct json_object *o = json_object_new_object();

	(void)flags;
	if (!o)
		return NULL;
	json_add_int(o, "pid", s->pid);
	json_add_u64(o, "rounds", s->out_rounds);
	json_add_u64(o, "pages_scanned", s->out_pages_scanned);
	json_add_u64(o, "scan_ns", s->out_scan_ns);
	json_add_u64(o, "access_samples", s->out_access_samples);
	json_add_u64(o, "fault_samples", s->out_fault_samples);
	json_add_u64(o, "promotions", s->out_promotions);
	json_add_u64(o, "demotions", s->out_demotions);
	json_add_u64(o, "pingpongs", s->out_pingpongs);
	json_add_u64(o, "skipped_hysteresis", s->out_skipped_hysteresis);
	json_add_u64(o, "skipped_rate", s->out_skipped_rate);
	json_add_u64(o, "skipped_busy", s->out_skipped_busy);
	json_add_u64(o, "skipped_no_space", s->out_skipped_no_space);
	if (s->pid) {
		json_add_u64(o, "dram_pages", s->out_dram_pages);
		json_add_u64(o, "slice_pages", s->out_slice_pages);
		json_add_u64(o, "dram_budget_pages", s->out_dram_budget_pages);
		json_add_u64(o, "hot_pages", s->out_hot_pages);
	}
	return o;
}

struct json_object *policy_to_json(const struct memview_policy *pol,
				   unsigned long flags)
{
	struct json_object *o = json_object_new_object(), *a;

	if (!o)
		return NULL;
	json_add_u64(o, "scan_interval_ms", pol->scan_interval_ms);
	json_add_u64(o, "pages_per_round", pol->pages_per_round);
	json_add_u64(o, "max_scan_us", pol->max_scan_us);
	json_add_u64(o, "hot_rounds", pol->hot_rounds);
	json_add_u64(o, "cold_rounds", pol->cold_rounds);
	json_add_u64(o, "hysteresis_rounds", pol->hysteresis_rounds);
	json_add_u64(o, "pingpong_rounds", pol->pingpong_rounds);
	json_add_u64(o, "promote_rate_mbps", pol->promote_rate_mbps);
	json_add_u64(o, "demote_rate_mbps", pol->demote_rate_mbps);
	json_add_u64(o, "sample_period", pol->sample_period);
	a = json_object_new_array();
	if (a) {
		if (pol->samplers & MEMVIEW_SAMPLE_ACCESS_BIT)
			json_object_array_add(a, json_object_new_string("access"));
		if (pol->samplers & MEMVIEW_SAMPLE_FAULTS)
			json_object_array_add(a, json_object_new_string("faults"));
		json_object_object_add(o, "samplers", a);
	}
	json_add_str(o, "fault_sampler", fault_sampler_str(pol->out_fault_sampler));
	if (flags & MV_JSON_RAS) {
		json_add_u64(o, "ce_threshold", pol->ce_threshold);
		json_add_u64(o, "ce_window_ms", pol->ce_window_ms);
		json_object_object_add(o, "fence_on_ue",
			json_object_new_boolean(pol->ras_flags & MEMVIEW_RAS_FENCE_ON_UE));
		json_object_object_add(o, "fence_on_ce",
			json_object_new_boolean(pol->ras_flags & MEMVIEW_RAS_FENCE_ON_CE));
	}
	return o;
}

struct json_object *proc_to_json(const struct memview_proc_entry *p,
				 const struct memview_residency *res,
				 const struct memview_residency_entry *rs,
				 uint32_t nr_rs, const struct memview_stats *st,
				 unsigned long flags)
{
	struct json_object *o = json_object_new_object(), *r;

	if (!o)
		return NULL;
	json_add_int(o, "pid", p->pid);
	json_add_fixed_str(o, "comm", p->comm, sizeof(p->comm));
	if ((flags & MV_JSON_HUMAN) && !p->dram_budget)
		json_add_str(o, "dram_budget", "unlimited");
	else
		json_add_size(o, "dram_budget", p->dram_budget, flags);
	json_add_str(o, "mode", p->flags & MEMVIEW_ATTACH_AUTO ? "auto" : "manual");
	json_object_object_add(o, "follow_children",
			       json_object_new_boolean(p->flags &
						       MEMVIEW_ATTACH_FOLLOW_CHILDREN));
	if (flags & MV_JSON_VERBOSE) {
		json_add_u64(o, "pages_demoted", p->pages_demoted);
		json_add_u64(o, "pages_promoted", p->pages_promoted);
		if (res) {
			r = residency_to_json(res, rs, nr_rs);
			if (r)
				json_object_object_add(o, "residency", r);
		}
		if (st) {
			r = stats_to_json(st, flags);
			if (r) {
				/* the pid is the process's own */
				json_object_object_del(r, "pid");
				json_object_object_add(o, "stats", r);
			}
		}
	}
	return o;
}

struct json_object *info_to_json(const struct memview_info *info,
				 unsigned long flags)
{
	static const char *const features[] = {
		"region_evacuate", "promote_node", "residency", "auto", "ras",
		"pidfd", "bad_ranges",
	};
	struct json_object *o = json_object_new_object(), *a;
	char name[32];
	unsigned int bit;

	if (!o)
		return NULL;
	json_add_u64(o, "api_version", info->out_api_version);
	json_add_u64(o, "nr_regions", info->out_nr_regions);
	json_add_u64(o, "nr_slices", info->out_nr_slices);
	json_add_size(o, "slice_size", info->out_slice_size, flags);
	json_add_size(o, "page_size", info->out_page_size, flags);
	if (info->out_features & MEMVIEW_FEATURE_RAS)
		json_add_u64(o, "poisoned_pages", info->out_poisoned_pages);
	a = json_object_new_array();
	for (bit = 0; a && bit < 64; bit++) {
		if (!(info->out_features & (1ULL << bit)))
			continue;
		if (bit < ARRAY_SIZE(features)) {
			json_object_array_add(a,
					      json_object_new_string(features[bit]));
		} else {
			snprintf(name, sizeof(name), "feature_%u", bit);
			json_object_array_add(a, json_object_new_string(name));
		}
	}
	if (a)
		json_object_object_add(o, "features", a);
	return o;
}

struct json_object *migrate_to_json(const struct memview_migrate *m,
				    unsigned long flags)
{
	struct json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	json_add_int(o, "pid", m->pid);
	json_add_addr(o, "addr", m->addr, flags);
	json_add_size(o, "length", m->length, flags);
	if (m->flags & MEMVIEW_MIGRATE_NODE)
		json_add_int(o, "node", m->node);
	json_add_u64(o, "moved", m->out_moved);
	json_add_u64(o, "not_present", m->out_not_present);
	json_add_u64(o, "already", m->out_already);
	json_add_u64(o, "busy", m->out_busy);
	json_add_u64(o, "no_space", m->out_no_space);
	json_add_u64(o, "unsupported", m->out_unsupported);
	json_add_u64(o, "thp_split_failed", m->out_thp_split_failed);
	json_add_u64(o, "shared", m->out_shared);
	return o;
}

bool mv_output_opt(struct mv_output *out, int c)
{
	switch (c) {
	case 'j':
		out->json = 1;
		return true;
	case 't':
		out->table = 1;
		return true;
	case 'H':
		out->human = 1;
		return true;
	default:
		return false;
	}
}

bool mv_output_resolve(struct mv_output *out)
{
	if (out->json && out->table) {
		mv_usage_err("--json and --table exclude each other");
		return false;
	}
	if (!out->json && !out->table) {
		if (stdout_is_tty())
			out->table = 1;
		else
			out->json = 1;
	}
	return true;
}

unsigned long mv_output_flags(const struct mv_output *out)
{
	unsigned long flags = 0;

	if (out->human)
		flags |= MV_JSON_HUMAN;
	if (out->verbose)
		flags |= MV_JSON_VERBOSE;
	return flags;
}
