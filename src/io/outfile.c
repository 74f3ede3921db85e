/* overlap: output files that appear whole or not at all.
 *
 * Results are written to a temporary file in the target's directory (so the
 * final rename stays on one file system and is atomic) and renamed over the
 * target only once everything is on disk. A reader never sees half a result. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/guard.h"
#include "core/mem.h"
#include "io/table.h"

enum {
    OUT_BUFFER = 64 * 1024,
    OUT_RANDOM = 6, /* mkstemp replaces the template's last six 'X' characters */
};

struct ovl_outfile {
    char *path;
    char *tmp;
    char *dir;
    FILE *fp;
    bool failed; /* a write failed: commit must not publish the file */
};

static void outfile_free(ovl_outfile *f)
{
    if (f->fp != NULL)
        fclose(f->fp);
    free(f->path);
    free(f->tmp);
    free(f->dir);
    free(f);
}

/* Splits path into its directory ("." when none) and base name, and builds
 * the mkstemp template "<dir>/.<base>.tmp." followed by six 'X'. */
static ovl_err outfile_names(ovl_outfile *f)
{
    ovl_err rc = OVL_OK;
    const char *slash = strrchr(f->path, '/');
    const char *base = slash != NULL ? slash + 1 : f->path;
    size_t dlen = slash == NULL ? 1 : slash == f->path ? 1 : (size_t)(slash - f->path);
    size_t tlen, n;
    OVL_ENSURE(*base != '\0', OVL_ERR_USAGE, "%s: output path names a directory", f->path);
    f->dir = slash == NULL ? strdup(".") : strndup(f->path, dlen);
    OVL_ENSURE(f->dir != NULL, OVL_ERR_NOMEM, "%s: out of memory", f->path);
    tlen = strlen(f->dir) + strlen(base) + sizeof "/..tmp." + OUT_RANDOM;
    OVL_TRY(ovl_calloc((void **)&f->tmp, tlen, 1));
    n = (size_t)snprintf(f->tmp, tlen, "%s/.%s.tmp.", f->dir, base);
    memset(f->tmp + n, 'X', OUT_RANDOM);
done:
    return rc;
}

ovl_err ovl_outfile_open(ovl_outfile **out, const char *path)
{
    ovl_err rc = OVL_OK;
    ovl_outfile *f = NULL;
    int fd = -1;
    *out = NULL;
    OVL_TRY(ovl_calloc((void **)&f, 1, sizeof *f));
    f->path = strdup(path);
    OVL_ENSURE(f->path != NULL, OVL_ERR_NOMEM, "%s: out of memory", path);
    OVL_TRY(outfile_names(f));
    fd = mkstemp(f->tmp); /* mode 0600 until commit */
    OVL_ENSURE(fd >= 0, OVL_ERR_IO, "%s: cannot create a temporary file in %s: %s", path, f->dir,
               strerror(errno));
    f->fp = fdopen(fd, "wb");
    if (f->fp == NULL) {
        rc = ovl_err_set(OVL_ERR_IO, "%s: %s", path, strerror(errno));
        close(fd);
        unlink(f->tmp);
        goto done;
    }
    setvbuf(f->fp, NULL, _IOFBF, OUT_BUFFER);
    *out = f;
    f = NULL;
done:
    if (f != NULL)
        outfile_free(f);
    return rc;
}

const char *ovl_outfile_temp_path(const ovl_outfile *f) { return f->tmp; }

ovl_err ovl_outfile_write(ovl_outfile *f, const void *p, size_t n)
{
    if (f->failed)
        return ovl_err_set(OVL_ERR_IO, "%s: an earlier write failed", f->path);
    if (n > 0 && fwrite(p, 1, n, f->fp) != n) {
        f->failed = true;
        return ovl_err_set(OVL_ERR_IO, "%s: write failed: %s", f->path, strerror(errno));
    }
    return OVL_OK;
}

/* Makes the rename itself durable. Best effort: some file systems refuse to
 * fsync a directory, and the data is already safe in the renamed file. */
static void outfile_sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd < 0)
        return;
    (void)fsync(fd);
    close(fd);
}

ovl_err ovl_outfile_commit(ovl_outfile *f)
{
    ovl_err rc = OVL_OK;
    int fd = fileno(f->fp);
    OVL_ENSURE(!f->failed, OVL_ERR_IO, "%s: not written, an earlier write failed", f->path);
    OVL_ENSURE(fflush(f->fp) == 0, OVL_ERR_IO, "%s: write failed: %s", f->path, strerror(errno));
    OVL_ENSURE(fsync(fd) == 0, OVL_ERR_IO, "%s: fsync failed: %s", f->path, strerror(errno));
    OVL_ENSURE(fchmod(fd, 0644) == 0, OVL_ERR_IO, "%s: chmod failed: %s", f->path,
               strerror(errno));
    int closed = fclose(f->fp);
    f->fp = NULL;
    OVL_ENSURE(closed == 0, OVL_ERR_IO, "%s: close failed: %s", f->path, strerror(errno));
    OVL_ENSURE(rename(f->tmp, f->path) == 0, OVL_ERR_IO, "%s: cannot rename the temporary file "
               "over it: %s", f->path, strerror(errno));
    outfile_sync_dir(f->dir);
done:
    if (rc != OVL_OK)
        unlink(f->tmp);
    outfile_free(f);
    return rc;
}

void ovl_outfile_abort(ovl_outfile *f)
{
    if (f == NULL)
        return;
    if (f->fp != NULL) {
        fclose(f->fp);
        f->fp = NULL;
    }
    unlink(f->tmp);
    outfile_free(f);
}
