/* Internal guard macros: one cleanup path per function.
 * Functions using them declare `ovl_err rc = OVL_OK;` and end with a `done:` label. */
#ifndef OVL_CORE_GUARD_H
#define OVL_CORE_GUARD_H

#include "core/error.h"

/* Propagate a failing call. */
#define OVL_TRY(expr)                                                                              \
    do {                                                                                           \
        ovl_err ovl_try_e_ = (expr);                                                               \
        if (ovl_try_e_ != OVL_OK) {                                                                \
            rc = ovl_try_e_;                                                                       \
            goto done;                                                                             \
        }                                                                                          \
    } while (0)

/* Fail with a code and a one-line detail when cond is false. */
#define OVL_ENSURE(cond, code, ...)                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            rc = ovl_err_set((code), __VA_ARGS__);                                                 \
            goto done;                                                                             \
        }                                                                                          \
    } while (0)

/* Fail with a code, keeping whatever detail a lower layer recorded. */
#define OVL_FAIL(code)                                                                             \
    do {                                                                                           \
        rc = (code);                                                                               \
        goto done;                                                                                 \
    } while (0)

#endif
