/* A private scratch directory for the unit tests that read and write files
 * (test_source, test_idtable, test_load, test_rowfilter): made once by
 * tmpdir_make, files named inside it, removed by the test at the end. */
#ifndef OVL_TEST_TMPDIR_H
#define OVL_TEST_TMPDIR_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

static char tmpdir[64];

/* Makes a fresh /tmp/ovl_<test>.* directory; false (with the reason on stderr) if it cannot. */
static inline bool tmpdir_make(const char *test)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/ovl_%s.XXXXXX", test);
    if (mkdtemp(tmpdir) == NULL) {
        perror("mkdtemp");
        return false;
    }
    return true;
}

/* The path of `name` inside the scratch directory (valid until the next call). */
static inline const char *tmp_path(const char *name)
{
    static char path[160];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    return path;
}

/* Writes `text` to `name` in the scratch directory and returns its path. */
static inline const char *write_file(const char *name, const char *text)
{
    const char *path = tmp_path(name);
    FILE *f = fopen(path, "wb");
    if (f != NULL) {
        fputs(text, f);
        fclose(f);
    }
    return path;
}

#endif
