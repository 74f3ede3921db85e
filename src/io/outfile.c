/* overlap: output files that appear whole or not at all.
 *
 * Results are written to a temporary file in the target's directory (so the
 * final rename stays on one file system and is atomic) and renamed over the
 * target only once everything is on disk. A reader never sees half a result.
 * A database target (dbout.h) gets the same temporary file, in $TMPDIR, and
 * its contents are copied into the table in one transaction at commit. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/guard.h"
#include "core/mem.h"
#include "io/dbout.h"
#include "io/table.h"

enum {
    OUT_BUFFER = 64 * 1024,
    OUT_RANDOM = 6, /* mkstemp replaces the template's last six 'X' characters */
};

struct ovl_outfile {
    char *path; /* for a database, the spec without its password */
    char *tmp;
    char *dir;
    FILE *fp;
    bool failed; /* a write failed: commit must not publish the file */
    bool is_db;
    bool replace; /* a database table that exists is dropped */
    ovl_dbspec db;
};

static void outfile_free(ovl_outfile *f)
{
    if (f->fp != NULL)
        fclose(f->fp);
    free(f->path);
    free(f->tmp);
    free(f->dir);
    ovl_dbspec_free(&f->db);
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

/* A database target: checked now (reachable, table absent unless replace),
 * the rows collected in a temporary file of the temporary directory. */
static ovl_err outfile_db_names(ovl_outfile *f, const char *spec)
{
    ovl_err rc = OVL_OK;
    const char *tmpdir = getenv("TMPDIR");
    size_t tlen;
    OVL_TRY(ovl_dbspec_parse(&f->db, spec, false));
    OVL_TRY(ovl_dbout_check(&f->db, f->replace));
    f->path = strdup(f->db.shown);
    f->dir = strdup(tmpdir != NULL && *tmpdir != '\0' ? tmpdir : "/tmp");
    OVL_ENSURE(f->path != NULL && f->dir != NULL, OVL_ERR_NOMEM, "out of memory");
    tlen = strlen(f->dir) + sizeof "/.overlap-out.tmp." + OUT_RANDOM;
    OVL_TRY(ovl_calloc((void **)&f->tmp, tlen, 1));
    size_t n = (size_t)snprintf(f->tmp, tlen, "%s/.overlap-out.tmp.", f->dir);
    memset(f->tmp + n, 'X', OUT_RANDOM);
done:
    return rc;
}

ovl_err ovl_output_open(ovl_outfile **out, const char *target, bool replace)
{
    ovl_err rc = OVL_OK;
    ovl_outfile *f = NULL;
    int fd = -1;
    *out = NULL;
    OVL_TRY(ovl_calloc((void **)&f, 1, sizeof *f));
    f->replace = replace;
    f->is_db = ovl_dbspec_kind(target) != OVL_DB_NONE;
    if (f->is_db) {
        OVL_TRY(outfile_db_names(f, target));
    } else {
        f->path = strdup(target);
        OVL_ENSURE(f->path != NULL, OVL_ERR_NOMEM, "%s: out of memory", target);
        OVL_TRY(outfile_names(f));
    }
    fd = mkstemp(f->tmp); /* mode 0600 until commit */
    OVL_ENSURE(fd >= 0, OVL_ERR_IO, "%s: cannot create a temporary file in %s: %s", f->path,
               f->dir, strerror(errno));
    f->fp = fdopen(fd, "wb");
    if (f->fp == NULL) {
        rc = ovl_err_set(OVL_ERR_IO, "%s: %s", f->path, strerror(errno));
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

ovl_err ovl_outfile_open(ovl_outfile **out, const char *path)
{
    return ovl_output_open(out, path, false);
}

ovl_err ovl_output_write_with(const char *target, bool replace,
                              void (*writing)(const char *temp_path),
                              ovl_err (*body)(ovl_outfile *out, void *arg), void *arg)
{
    ovl_err rc = OVL_OK;
    ovl_outfile *out = NULL;
    OVL_TRY(ovl_output_open(&out, target, replace));
    if (writing)
        writing(ovl_outfile_temp_path(out));
    OVL_TRY(body(out, arg));
    rc = ovl_outfile_commit(out);
    out = NULL;
done:
    ovl_outfile_abort(out);
    if (writing)
        writing(NULL);
    return rc;
}

bool ovl_outfile_is_db(const ovl_outfile *f) { return f->is_db; }

const char *ovl_outfile_temp_path(const ovl_outfile *f) { return f->tmp; }

FILE *ovl_outfile_stream(ovl_outfile *f) { return f->fp; }

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

/* The collected rows go into the table; the temporary file goes either way. */
static ovl_err outfile_commit_db(ovl_outfile *f)
{
    ovl_err rc = OVL_OK;
    OVL_ENSURE(!f->failed, OVL_ERR_IO, "%s: not written, an earlier write failed", f->path);
    int closed = fclose(f->fp);
    f->fp = NULL;
    OVL_ENSURE(closed == 0, OVL_ERR_IO, "%s: writing the temporary file failed: %s", f->path,
               strerror(errno));
    OVL_TRY(ovl_dbout_load(&f->db, f->replace, f->tmp));
done:
    unlink(f->tmp);
    outfile_free(f);
    return rc;
}

ovl_err ovl_outfile_commit(ovl_outfile *f)
{
    ovl_err rc = OVL_OK;
    if (f->is_db)
        return outfile_commit_db(f);
    int fd = fileno(f->fp);
    OVL_ENSURE(!f->failed && !ferror(f->fp), OVL_ERR_IO, "%s: not written, an earlier write "
               "failed", f->path);
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
