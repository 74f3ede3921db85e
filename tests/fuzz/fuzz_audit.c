/* Fuzz target: the audit log parser (policy/audit.h) over arbitrary bytes,
 * every entry's syntax, chain and signature checked; an accepted log is read
 * back field by field, so every parsed field is used. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "policy/audit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ovl_audit_log log;
    if (ovl_audit_parse(&log, "fuzz.audit", (const char *)data, size, NULL, NULL, 0) != OVL_OK)
        return 0;
    for (size_t i = 0; i < log.n; i++) {
        const ovl_audit_entry *e = &log.entries[i];
        /* a verified log is numbered from 1 without gaps */
        if (e->seq != i + 1 || e->outcome < OVL_OUTCOME_OK || e->outcome > OVL_OUTCOME_WITHHELD)
            abort();
        if (e->nmembers > OVL_AUDIT_MAX_MEMBERS || (!e->has_capped && e->capped != 0))
            abort();
        if (e->inconsistent != 0 && e->mode != OVL_MODE_AGGREGATE)
            abort();
        (void)ovl_audit_entry_charged(e);
    }
    ovl_audit_log_free(&log);
    return 0;
}
