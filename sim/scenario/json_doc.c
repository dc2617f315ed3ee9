/*
 * json_doc.c - loading JSON documents from files and buffers (syntax errors
 * with their line and column), and the position of any node, key or array
 * element of a loaded document.
 */
#include <errno.h>
#include <float.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scenario/json_internal.h"

/* ---- Loading ---- */

static const char *errno_text(int e, char *buf, size_t size)
{
#if defined(__GLIBC__) && defined(_GNU_SOURCE)
    return strerror_r(e, buf, size);
#else
    if (strerror_r(e, buf, size) != 0)
        snprintf(buf, size, "error %d", e);
    return buf;
#endif
}

static int only_whitespace(const char *text, size_t len)
{
    size_t i;

    for (i = 0; i < len; i++) {
        if (text[i] != ' ' && text[i] != '\t' && text[i] != '\n' && text[i] != '\r')
            return 0;
    }
    return 1;
}

/* Turn jansson's error into ours, with jansson's position and a word on what
 * was expected where jansson does not say. */
static int syntax_error(const struct xsim_json_doc *doc, const json_error_t *je, const char *text,
                        size_t len, struct xsim_error *err)
{
    enum json_error_code code = json_error_code(je);
    int line = je->line > 0 ? je->line : 1;
    int column = je->column > 0 ? je->column : 1;
    const char *expect = "";
    char what[256];

    /* jansson returns without filling the error only when an allocation
     * failed before parsing started. */
    if (code == json_error_out_of_memory || je->text[0] == '\0') {
        xsim_error_set(err, doc->name, 0, 0, "out of memory while parsing");
        return -ENOMEM;
    }
    if (only_whitespace(text, len))
        return xsim_error_set(err, doc->name, line, column,
                              "empty document; expected a JSON value");
    if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
        return xsim_error_set(err, doc->name, 1, 1,
                              "UTF-8 byte order mark; expected JSON text without one");
    xsim__json_sanitize(je->text, sizeof(what), what, sizeof(what));
    switch (code) {
    case json_error_invalid_utf8:
        /* jansson stops at the character before the byte it cannot decode. */
        column = je->column >= 0 ? je->column + 1 : 1;
        expect = "; expected UTF-8 text";
        break;
    case json_error_numeric_overflow:
        if (strncmp(je->text, "real", 4) == 0)
            expect = "; expected a number within the range of a double";
        else
            expect = "; expected an integer in [-9223372036854775808, 9223372036854775807] "
                     "(write larger unsigned values as a string, e.g. \"0xffffffffffffffff\")";
        break;
    case json_error_stack_overflow:
        expect = "; expected at most 2048 nested arrays and objects";
        break;
    case json_error_duplicate_key:
        expect = "; expected each key at most once per object";
        break;
    default:
        break;
    }
    return xsim_error_set(err, doc->name, line, column, "invalid JSON: %s%s", what, expect);
}

static void index_free(struct xsim_json_doc *doc)
{
    xsim__json_resize(doc, doc->slots, 0);
    xsim__json_resize(doc, doc->elems, 0);
    doc->slots = NULL;
    doc->elems = NULL;
    doc->slots_cap = doc->slots_used = 0;
    doc->elems_len = doc->elems_cap = 0;
}

static int load_text(struct xsim_json_doc *doc, const char *text, size_t len,
                     struct xsim_error *err)
{
    const char *nul;
    json_error_t je;
    int rc;

    if (len > XSIM_JSON_MAX_BYTES) {
        xsim_error_set(err, doc->name, 0, 0, "document is %zu bytes; expected at most %u", len,
                       XSIM_JSON_MAX_BYTES);
        return -EFBIG;
    }
    /* jansson silently drops a NUL byte that follows a number or a literal;
     * JSON text never holds one, so refuse it here, where it is. */
    nul = memchr(text, '\0', len);
    if (nul != NULL) {
        struct xsim__json_loc at = xsim__json_loc_at(text, (size_t)(nul - text));

        return xsim_error_set(err, doc->name, at.line, at.column,
                              "NUL byte in the text; expected UTF-8 JSON text");
    }
    /* json_error_code() reads a byte jansson leaves unset when it fails early. */
    memset(&je, 0, sizeof(je));
    doc->root = json_loadb(text, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je);
    if (doc->root == NULL)
        return syntax_error(doc, &je, text, len, err);
    rc = xsim__json_index_doc(doc, text, len);
    if (rc == 0)
        return 0;
    json_decref(doc->root);
    doc->root = NULL;
    index_free(doc);
    if (rc == -ENOMEM)
        xsim_error_set(err, doc->name, 0, 0, "out of memory while indexing positions");
    else
        xsim_error_set(err, doc->name, 0, 0,
                       "jansson's tree does not match the text (was memory short?); expected "
                       "them to agree");
    return rc;
}

void xsim_json_doc_init(struct xsim_json_doc *doc, const struct xsim_json_alloc *alloc)
{
    memset(doc, 0, sizeof(*doc));
    if (alloc != NULL)
        doc->alloc = *alloc;
    snprintf(doc->name, sizeof(doc->name), "<string>");
}

static int begin_load(struct xsim_json_doc *doc, const char *name, struct xsim_error *err)
{
    if (doc->root != NULL) {
        xsim_error_set(err, doc->name, 0, 0, "document already loaded; expected a fresh one");
        return -EBUSY;
    }
    snprintf(doc->name, sizeof(doc->name), "%s", name != NULL ? name : "<string>");
    return 0;
}

int xsim_json_doc_load_buffer(struct xsim_json_doc *doc, const char *name, const char *buf,
                              size_t len, struct xsim_error *err)
{
    int rc;

    if (doc == NULL || (buf == NULL && len != 0))
        return xsim_error_set(err, name, 0, 0, "no document or no text");
    rc = begin_load(doc, name, err);
    if (rc != 0)
        return rc;
    return load_text(doc, buf != NULL ? buf : "", len, err);
}

/* Read all of `path` (which may be a pipe) into memory from the doc's allocator. */
static int read_file(struct xsim_json_doc *doc, const char *path, char **out, size_t *out_len,
                     struct xsim_error *err)
{
    char *buf = NULL, ebuf[128];
    size_t len = 0, cap = 0, got;
    FILE *f = fopen(path, "rb");
    int rc = 0;

    if (f == NULL) {
        rc = errno != 0 ? errno : EIO;
        xsim_error_set(err, path, 0, 0, "cannot open: %s; expected a readable JSON file",
                       errno_text(rc, ebuf, sizeof(ebuf)));
        return -rc;
    }
    for (;;) {
        if (len == cap && xsim__json_grow(doc, (void **)&buf, &cap, len + 4096, 1) != 0) {
            xsim_error_set(err, path, 0, 0, "out of memory while reading");
            rc = ENOMEM;
            break;
        }
        got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (len > XSIM_JSON_MAX_BYTES) {
            xsim_error_set(err, path, 0, 0, "file is larger than %u bytes; expected a smaller one",
                           XSIM_JSON_MAX_BYTES);
            rc = EFBIG;
            break;
        }
        if (got == 0) {
            if (ferror(f)) {
                rc = errno != 0 ? errno : EIO;
                xsim_error_set(err, path, 0, 0, "cannot read: %s; expected a readable JSON file",
                               errno_text(rc, ebuf, sizeof(ebuf)));
            }
            break;
        }
    }
    fclose(f);
    if (rc != 0) {
        xsim__json_resize(doc, buf, 0);
        return -rc;
    }
    *out = buf;
    *out_len = len;
    return 0;
}

int xsim_json_doc_load_file(struct xsim_json_doc *doc, const char *path, struct xsim_error *err)
{
    char *text = NULL;
    size_t len = 0;
    int rc;

    if (doc == NULL || path == NULL)
        return xsim_error_set(err, path, 0, 0, "no document or no file name");
    rc = begin_load(doc, path, err);
    if (rc != 0)
        return rc;
    rc = read_file(doc, path, &text, &len, err);
    if (rc != 0)
        return rc;
    rc = load_text(doc, text != NULL ? text : "", len, err);
    xsim__json_resize(doc, text, 0);
    return rc;
}

void xsim_json_doc_close(struct xsim_json_doc *doc)
{
    if (doc == NULL)
        return;
    json_decref(doc->root);
    doc->root = NULL;
    index_free(doc);
}

/* ---- Lookups ---- */

static int put_loc(struct xsim__json_loc at, int *line, int *column)
{
    if (at.line <= 0)
        return -ENOENT;
    if (line != NULL)
        *line = at.line;
    if (column != NULL)
        *column = at.column;
    return 0;
}

int xsim_json_pos(const struct xsim_json_doc *doc, const json_t *node, int *line, int *column)
{
    const struct xsim__json_slot *s;

    if (doc == NULL || node == NULL)
        return -EINVAL;
    if (node == doc->root)
        return put_loc(doc->root_loc, line, column);
    if (json_is_true(node) || json_is_false(node) || json_is_null(node))
        return -ENOENT;
    s = xsim__json_slot_find(doc, node);
    return s != NULL ? put_loc(s->loc, line, column) : -ENOENT;
}

static const struct xsim__json_slot *key_slot(const struct xsim_json_doc *doc, const json_t *object,
                                              const char *key)
{
    void *iter;

    if (doc == NULL || !json_is_object(object) || key == NULL)
        return NULL;
    iter = json_object_iter_at((json_t *)object, key);
    /* The key string jansson keeps is what the index knows. */
    return iter != NULL ? xsim__json_slot_find(doc, json_object_iter_key(iter)) : NULL;
}

int xsim_json_key_pos(const struct xsim_json_doc *doc, const json_t *object, const char *key,
                      int *line, int *column)
{
    const struct xsim__json_slot *s = key_slot(doc, object, key);

    return s != NULL ? put_loc(s->loc, line, column) : -ENOENT;
}

int xsim_json_member_pos(const struct xsim_json_doc *doc, const json_t *object, const char *key,
                         int *line, int *column)
{
    const struct xsim__json_slot *s = key_slot(doc, object, key);

    return s != NULL ? put_loc(s->value, line, column) : -ENOENT;
}

static struct xsim__json_loc elem_loc(const struct xsim_json_doc *doc, const json_t *array,
                                      size_t index)
{
    const struct xsim__json_slot *s =
        json_is_array(array) ? xsim__json_slot_find(doc, array) : NULL;

    if (s == NULL || index >= s->count || s->first + index >= doc->elems_len)
        return XSIM__JSON_NOWHERE;
    return doc->elems[s->first + index];
}

int xsim_json_elem_pos(const struct xsim_json_doc *doc, const json_t *array, size_t index,
                       int *line, int *column)
{
    if (doc == NULL || array == NULL)
        return -EINVAL;
    return put_loc(elem_loc(doc, array, index), line, column);
}

int xsim_json_error_at(const struct xsim_json_doc *doc, int line, int column,
                       struct xsim_error *err, const char *fmt, ...)
{
    char text[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    return xsim_error_set(err, doc != NULL ? doc->name : NULL, line, column, "%s", text);
}
