/* Differencing defences computed from the owner's audit log: a per-peer run
 * budget, and refusal of runs whose input barely differs from an earlier one. */
#include <string.h>

#include "core/guard.h"
#include "policy/audit.h"
#include "core/mem.h"

#define DAY_SECONDS 86400u

static bool counts(const ovl_audit_entry *e, const char *peer, uint64_t now)
{
    /* Refused runs released nothing, so they do not use up the budget (and a
     * peer cannot exhaust it for others by sending refused requests). A run
     * is charged once, when agreed, whatever its end. */
    return ovl_audit_entry_charged(e) && ovl_audit_entry_involves(e, peer) &&
           e->time <= now && now - e->time < DAY_SECONDS;
}

ovl_err ovl_budget_check(const ovl_policy *pol, const ovl_audit_log *log, const char *peer_fpr,
                         const uint8_t analysis[OVL_HASH_LEN], uint64_t now)
{
    uint64_t all = 0, same = 0;
    if (!pol->has_budget)
        return OVL_OK;
    for (size_t i = 0; i < log->n; i++) {
        const ovl_audit_entry *e = &log->entries[i];
        if (!counts(e, peer_fpr, now))
            continue;
        all++;
        same += memcmp(e->analysis, analysis, OVL_HASH_LEN) == 0;
    }
    if (all >= pol->runs_per_day)
        return ovl_err_set(OVL_ERR_POLICY, "%s: budget.runs_per_day: %s already ran %llu analyses "
                           "in the last 24 hours (limit %llu)", pol->label, peer_fpr,
                           (unsigned long long)all, (unsigned long long)pol->runs_per_day);
    if (same >= pol->runs_per_template_per_day) {
        char hex[2 * OVL_HASH_LEN + 1];
        ovl_hex_encode(hex, analysis, OVL_HASH_LEN);
        return ovl_err_set(OVL_ERR_POLICY, "%s: budget.runs_per_template_per_day: %s already ran "
                           "analysis %.16s... %llu times in the last 24 hours (limit %llu)",
                           pol->label, peer_fpr, hex, (unsigned long long)same,
                           (unsigned long long)pol->runs_per_template_per_day);
    }
    return OVL_OK;
}

static uint64_t absdiff(uint64_t a, uint64_t b) { return a > b ? a - b : b - a; }

ovl_err ovl_differencing_check(const ovl_policy *pol, const ovl_audit_log *log,
                               const char *peer_fpr, const uint8_t analysis[OVL_HASH_LEN],
                               uint64_t local_set, uint64_t peer_set)
{
    if (!pol->refuse_small_differences)
        return OVL_OK;
    uint64_t k = pol->aggregation.min_rows;
    for (size_t i = 0; i < log->n; i++) {
        const ovl_audit_entry *e = &log->entries[i];
        /* Every charged run, not only completed ones: a peer that fails a
         * run on purpose (or withholds its co-signature) still saw its output. */
        if (!ovl_audit_entry_charged(e) || strcmp(e->peer, peer_fpr) != 0 ||
            memcmp(e->analysis, analysis, OVL_HASH_LEN) != 0)
            continue;
        uint64_t dl = absdiff(e->local_set, local_set), dp = absdiff(e->peer_set, peer_set);
        if ((dl > 0 && dl < k) || (dp > 0 && dp < k))
            return ovl_err_set(OVL_ERR_POLICY, "%s: differencing: this run's %s set differs from "
                               "audit entry %llu of the same analysis by %llu identifiers, fewer "
                               "than min_rows (%llu)", pol->label, dl > 0 && dl < k ? "own" : "peer's",
                               (unsigned long long)e->seq,
                               (unsigned long long)(dl > 0 && dl < k ? dl : dp),
                               (unsigned long long)k);
    }
    return OVL_OK;
}
