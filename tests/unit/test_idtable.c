#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "io/table.h"
#include "test.h"
#include "tmpdir.h"

static void id_of(uint8_t id[OVL_ID_LEN], const char *normalised)
{
    crypto_hash_sha256(id, (const unsigned char *)normalised, strlen(normalised));
}

static bool ids_sorted_distinct(const ovl_idtable *t)
{
    for (size_t i = 1; i < t->nids; i++)
        if (memcmp(t->ids[i - 1], t->ids[i], OVL_ID_LEN) >= 0)
            return false;
    return true;
}

/* Names in tmpdir other than `keep` (temporary files left behind show up here). */
static size_t dir_entries_except(const char *keep)
{
    size_t n = 0;
    DIR *d = opendir(tmpdir);
    struct dirent *e;
    if (d == NULL)
        return 999;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        n += keep == NULL || strcmp(e->d_name, keep) != 0;
    }
    closedir(d);
    return n;
}

/* ---- idtable ---- */

static void load_small(void)
{
    ovl_idtable t;
    const char *path = write_file("small.csv", "id,email,n\n"
                                               "1,Alice@Example.org,10\n"
                                               "2,bob@example.org,20\n"
                                               "3,,30\n"
                                               "4,  alice@example.ORG ,40\n"
                                               "5,not-an-email,50\n"
                                               "6,carol@example.org,60\n");
    EXPECT_OK(ovl_idtable_load(&t, path, "email", OVL_NORM_EMAIL, false));
    EXPECT_EQ(t.nrows, 6);
    EXPECT_EQ(t.skipped, 2);
    EXPECT_EQ(t.nids, 3);
    EXPECT_TRUE(ids_sorted_distinct(&t));
    static const bool valid[] = {true, true, false, true, false, true};
    for (size_t i = 0; i < 6; i++)
        EXPECT_EQ(t.row_valid[i], valid[i]);
    uint8_t alice[OVL_ID_LEN], bob[OVL_ID_LEN], dave[OVL_ID_LEN];
    id_of(alice, "alice@example.org");
    id_of(bob, "bob@example.org");
    id_of(dave, "dave@example.org");
    EXPECT_BYTES_EQ(t.row_ids[0], alice, OVL_ID_LEN);
    EXPECT_BYTES_EQ(t.row_ids[3], alice, OVL_ID_LEN);
    EXPECT_BYTES_EQ(t.row_ids[1], bob, OVL_ID_LEN);
    size_t i = ovl_idtable_find(&t, alice);
    EXPECT_TRUE(i < t.nids);
    if (i < t.nids)
        EXPECT_BYTES_EQ(t.ids[i], alice, OVL_ID_LEN);
    EXPECT_TRUE(ovl_idtable_find(&t, bob) < t.nids);
    EXPECT_EQ(ovl_idtable_find(&t, dave), SIZE_MAX);
    ovl_idtable_free(&t);
    EXPECT_TRUE(t.ids == NULL && t.row_ids == NULL && t.nids == 0);
    ovl_idtable_free(&t); /* twice is harmless */

    /* The same file by exact bytes: case and spaces now make ids differ. */
    EXPECT_OK(ovl_idtable_load(&t, path, "email", OVL_NORM_NONE, false));
    EXPECT_EQ(t.skipped, 1);
    EXPECT_EQ(t.nids, 5);
    EXPECT_EQ(ovl_idtable_find(&t, alice), SIZE_MAX);
    ovl_idtable_free(&t);
}

static void load_errors(void)
{
    ovl_idtable t;
    const char *path = write_file("purchases.csv", "id,phone\n1,+442079460958\n");
    EXPECT_ERR(OVL_ERR_INPUT, ovl_idtable_load(&t, path, "email", OVL_NORM_EMAIL, false));
    EXPECT_TRUE(strstr(ovl_err_detail(), "purchases.csv: no column \"email\" in the header") !=
                NULL);
    EXPECT_TRUE(t.row_ids == NULL && t.nrows == 0);
    path = write_file("bad.csv", "id,phone\n1,+442079460958\n2\n");
    EXPECT_ERR(OVL_ERR_INPUT, ovl_idtable_load(&t, path, "phone", OVL_NORM_PHONE, false));
    EXPECT_TRUE(strstr(ovl_err_detail(), "bad.csv:3: 1 field, header has 2") != NULL);
    EXPECT_TRUE(t.row_ids == NULL && t.nrows == 0);
    EXPECT_ERR(OVL_ERR_IO, ovl_idtable_load(&t, tmp_path("missing.csv"), "phone",
                                            OVL_NORM_PHONE, false));
    /* Positive counterpart. */
    path = write_file("good.csv", "id,phone\n1,+442079460958\n2,0044 20 7946 0958\n");
    EXPECT_OK(ovl_idtable_load(&t, path, "phone", OVL_NORM_PHONE, false));
    EXPECT_EQ(t.nrows, 2);
    EXPECT_EQ(t.nids, 1);
    ovl_idtable_free(&t);
}

static void load_empty_and_all_invalid(void)
{
    ovl_idtable t;
    uint8_t any[OVL_ID_LEN] = {0};
    const char *path = write_file("header_only.csv", "email\n");
    EXPECT_OK(ovl_idtable_load(&t, path, "email", OVL_NORM_EMAIL, false));
    EXPECT_EQ(t.nrows, 0);
    EXPECT_EQ(t.nids, 0);
    EXPECT_EQ(ovl_idtable_find(&t, any), SIZE_MAX);
    ovl_idtable_free(&t);
    path = write_file("invalid.csv", "email\nx\n\ny\n");
    EXPECT_OK(ovl_idtable_load(&t, path, "email", OVL_NORM_EMAIL, false));
    EXPECT_EQ(t.nrows, 3);
    EXPECT_EQ(t.skipped, 3);
    EXPECT_EQ(t.nids, 0);
    ovl_idtable_free(&t);
}

static void load_prehashed(void)
{
    ovl_idtable t;
    uint8_t a[OVL_ID_LEN];
    char hex[2 * OVL_ID_LEN + 1], text[512];
    id_of(a, "alice@example.org");
    sodium_bin2hex(hex, sizeof hex, a, sizeof a);
    snprintf(text, sizeof text, "hid\n%s\n zz \n%s\n", hex, hex);
    const char *path = write_file("hashed.csv", text);
    EXPECT_OK(ovl_idtable_load(&t, path, "hid", OVL_NORM_EMAIL, true));
    EXPECT_EQ(t.nrows, 3);
    EXPECT_EQ(t.skipped, 1);
    EXPECT_EQ(t.nids, 1);
    EXPECT_EQ(ovl_idtable_find(&t, a), 0);
    ovl_idtable_free(&t);
    /* Negative: the hex text itself hashed is a different id. */
    EXPECT_OK(ovl_idtable_load(&t, path, "hid", OVL_NORM_NONE, false));
    EXPECT_EQ(ovl_idtable_find(&t, a), SIZE_MAX);
    ovl_idtable_free(&t);
}

/* Many rows with duplicates and invalid values, checked against a naive model. */
static void load_generated(void)
{
    enum { ROWS = 200000, DISTINCT = 70000 };
    const char *path = tmp_path("gen.csv");
    FILE *f = fopen(path, "wb");
    uint32_t *which = calloc(ROWS, sizeof *which);
    bool *seen = calloc(DISTINCT, sizeof *seen);
    ovl_idtable t;
    if (f == NULL || which == NULL || seen == NULL)
        goto out;
    fputs("row,Email Address,amount\r\n", f);
    uint32_t s = 99;
    size_t invalid = 0, distinct = 0;
    for (uint32_t r = 0; r < ROWS; r++) {
        s = s * 1664525u + 1013904223u;
        which[r] = (s >> 8) % DISTINCT;
        if (r % 97 == 5) {
            fprintf(f, "%u,\"broken, address\",1\r\n", r);
            which[r] = UINT32_MAX;
            invalid++;
        } else {
            fprintf(f, "%u,%sUser%u@Example.COM,%u\n", r, r % 2 ? " " : "", which[r], r % 10);
            distinct += !seen[which[r]];
            seen[which[r]] = true;
        }
    }
    fclose(f);
    f = NULL;
    EXPECT_OK(ovl_idtable_load(&t, path, "Email Address", OVL_NORM_EMAIL, false));
    EXPECT_EQ(t.nrows, ROWS);
    EXPECT_EQ(t.skipped, invalid);
    EXPECT_EQ(t.nids, distinct);
    EXPECT_TRUE(ids_sorted_distinct(&t));
    size_t wrong = 0;
    for (uint32_t r = 0; r < ROWS; r += 7) {
        char v[64];
        uint8_t id[OVL_ID_LEN];
        if (which[r] == UINT32_MAX) {
            wrong += t.row_valid[r];
            continue;
        }
        snprintf(v, sizeof v, "user%u@example.com", which[r]);
        id_of(id, v);
        wrong += !t.row_valid[r] || memcmp(t.row_ids[r], id, OVL_ID_LEN) != 0;
        size_t k = ovl_idtable_find(&t, id);
        wrong += k >= t.nids || memcmp(t.ids[k < t.nids ? k : 0], id, OVL_ID_LEN) != 0;
    }
    EXPECT_EQ(wrong, 0);
    uint8_t absent[OVL_ID_LEN];
    id_of(absent, "user70000@example.com");
    EXPECT_EQ(ovl_idtable_find(&t, absent), SIZE_MAX);
    ovl_idtable_free(&t);
out:
    free(which);
    free(seen);
    unlink(path);
}

/* ---- outfile ---- */

static void outfile_commit(void)
{
    ovl_outfile *o = NULL;
    const char *path = tmp_path("result.csv");
    struct stat st;
    EXPECT_OK(ovl_outfile_open(&o, path));
    EXPECT_TRUE(stat(path, &st) != 0); /* nothing at the target yet */
    EXPECT_EQ(dir_entries_except(NULL), 1); /* only the temporary file */
    EXPECT_OK(ovl_outfile_write(o, "a,b\n", 4));
    EXPECT_OK(ovl_outfile_write(o, "", 0));
    size_t failed = 0;
    for (int i = 0; i < 20000; i++)
        failed += ovl_outfile_write(o, "1,2\n", 4) != OVL_OK;
    EXPECT_EQ(failed, 0);
    EXPECT_OK(ovl_outfile_commit(o));
    EXPECT_EQ(stat(path, &st), 0);
    EXPECT_EQ(st.st_size, 4 + 20000 * 4);
    EXPECT_EQ(st.st_mode & 0777, 0644);
    EXPECT_EQ(dir_entries_except("result.csv"), 0);
    FILE *f = fopen(path, "rb");
    char head[8] = {0};
    if (f != NULL) {
        EXPECT_EQ(fread(head, 1, 7, f), 7);
        fclose(f);
    }
    EXPECT_STR_EQ(head, "a,b\n1,2");

    /* A second commit replaces the file whole. */
    EXPECT_OK(ovl_outfile_open(&o, path));
    EXPECT_OK(ovl_outfile_write(o, "new\n", 4));
    EXPECT_OK(ovl_outfile_commit(o));
    EXPECT_EQ(stat(path, &st), 0);
    EXPECT_EQ(st.st_size, 4);
    unlink(path);
}

static void outfile_abort(void)
{
    ovl_outfile *o = NULL;
    const char *path = tmp_path("aborted.csv");
    struct stat st;
    EXPECT_OK(ovl_outfile_open(&o, path));
    EXPECT_OK(ovl_outfile_write(o, "partial", 7));
    ovl_outfile_abort(o);
    EXPECT_TRUE(stat(path, &st) != 0);
    EXPECT_EQ(dir_entries_except(NULL), 0);
    ovl_outfile_abort(NULL);

    /* An abort leaves an earlier committed file untouched. */
    EXPECT_OK(ovl_outfile_open(&o, path));
    EXPECT_OK(ovl_outfile_write(o, "kept\n", 5));
    EXPECT_OK(ovl_outfile_commit(o));
    EXPECT_OK(ovl_outfile_open(&o, path));
    EXPECT_OK(ovl_outfile_write(o, "lost", 4));
    ovl_outfile_abort(o);
    EXPECT_EQ(stat(path, &st), 0);
    EXPECT_EQ(st.st_size, 5);
    EXPECT_EQ(dir_entries_except("aborted.csv"), 0);
    unlink(path);
}

static void outfile_errors(void)
{
    ovl_outfile *o = (ovl_outfile *)&o;
    EXPECT_ERR(OVL_ERR_IO, ovl_outfile_open(&o, "/nonexistent-dir/out.csv"));
    EXPECT_TRUE(strstr(ovl_err_detail(), "/nonexistent-dir/out.csv") != NULL);
    EXPECT_TRUE(o == NULL);
    char dirpath[160];
    snprintf(dirpath, sizeof dirpath, "%s/", tmpdir);
    EXPECT_ERR(OVL_ERR_USAGE, ovl_outfile_open(&o, dirpath));

    /* Renaming over a directory fails at commit; the temporary file goes. */
    const char *sub = tmp_path("subdir");
    EXPECT_EQ(mkdir(sub, 0700), 0);
    char inner[200];
    snprintf(inner, sizeof inner, "%s/x", sub);
    FILE *f = fopen(inner, "wb");
    if (f != NULL)
        fclose(f);
    EXPECT_OK(ovl_outfile_open(&o, sub));
    if (o != NULL) {
        EXPECT_OK(ovl_outfile_write(o, "x", 1));
        EXPECT_ERR(OVL_ERR_IO, ovl_outfile_commit(o));
        EXPECT_TRUE(strstr(ovl_err_detail(), "subdir: cannot rename") != NULL);
    }
    EXPECT_EQ(dir_entries_except("subdir"), 0);
    unlink(inner);
    rmdir(sub);

    /* Relative paths put the temporary file in the current directory. */
    char cwd[512];
    if (getcwd(cwd, sizeof cwd) != NULL && chdir(tmpdir) == 0) {
        EXPECT_OK(ovl_outfile_open(&o, "rel.csv"));
        EXPECT_EQ(dir_entries_except(NULL), 1);
        ovl_outfile_abort(o);
        EXPECT_EQ(dir_entries_except(NULL), 0);
        EXPECT_EQ(chdir(cwd), 0);
    }
}

static void cleanup(void)
{
    static const char *const names[] = {"small.csv",   "purchases.csv",   "bad.csv",
                                        "good.csv",    "header_only.csv", "invalid.csv",
                                        "hashed.csv"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        unlink(tmp_path(names[i]));
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    if (!tmpdir_make("test_idtable"))
        return 1;
    RUN(load_small);
    RUN(load_errors);
    RUN(load_empty_and_all_invalid);
    RUN(load_prehashed);
    RUN(load_generated);
    cleanup();
    RUN(outfile_commit);
    RUN(outfile_abort);
    RUN(outfile_errors);
    EXPECT_EQ(dir_entries_except(NULL), 0);
    rmdir(tmpdir);
    return ovl_t_summary("test_idtable");
}
