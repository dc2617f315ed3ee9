/*
 * schema_selfcheck.c - checking a schema table itself: widths that match
 * the members, ranges inside them, sub-schemas that fit (run by the tests
 * over every schema the program has).
 */
#include <errno.h>
#include <float.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scenario/json_internal.h"

/* ---- Schema self-check ---- */

static int bad(char *why, size_t size, const char *schema, const char *field, const char *what)
{
    xsim__why_set(why, size, "schema '%s', field '%s': %s", schema != NULL ? schema : "?",
                  field != NULL ? field : "(element)", what);
    return -EINVAL;
}

static int selfcheck_schema(const struct xsim_schema *s, size_t parent_size, unsigned int depth,
                            char *why, size_t why_size);

/* `room`: bytes the field's offset may use (0: unknown). */
static int selfcheck_field(const char *sname, const struct xsim_schema_field *f, size_t room,
                           unsigned int depth, char *why, size_t why_size)
{
    int stored = f->size != 0, rc;
    int64_t lim;
    size_t i;

    if (stored && room != 0 && (f->offset > room || f->size > room - f->offset))
        return bad(why, why_size, sname, f->name, "member lies outside its struct");
    if (f->min > f->max || f->umin > f->umax || f->dmin > f->dmax)
        return bad(why, why_size, sname, f->name, "a lower bound is above its upper bound");
    switch (f->type) {
    case XSIM_SCHEMA_BOOL:
    case XSIM_SCHEMA_ENUM:
        if (stored && !xsim__schema_width_ok(f->size))
            return bad(why, why_size, sname, f->name, "member must be 1, 2, 4 or 8 bytes");
        if (f->type == XSIM_SCHEMA_ENUM && (f->enum_values == NULL || f->enum_values[0] == NULL))
            return bad(why, why_size, sname, f->name, "ENUM without values");
        for (i = 0; f->type == XSIM_SCHEMA_ENUM && f->enum_values[i] != NULL; i++)
            ;
        if (stored && f->size < 8 && (uint64_t)i > (UINT64_C(1) << (f->size * 8 - 1)))
            return bad(why, why_size, sname, f->name, "too many ENUM values for the member");
        return 0;
    case XSIM_SCHEMA_INT:
        if (stored && !xsim__schema_width_ok(f->size))
            return bad(why, why_size, sname, f->name, "member must be 1, 2, 4 or 8 bytes");
        lim = stored && f->size < 8 ? (int64_t)((UINT64_C(1) << (f->size * 8 - 1)) - 1) : INT64_MAX;
        /* An unsigned member may use [0, 2^bits - 1]; a signed one the usual. */
        if (f->min < f->max && f->size < 8 && stored &&
            (f->min < -lim - 1 || (f->min < 0 && f->max > lim) || f->max > 2 * lim + 1))
            return bad(why, why_size, sname, f->name, "bounds do not fit the member");
        return 0;
    case XSIM_SCHEMA_UINT64:
    case XSIM_SCHEMA_DURATION:
        if (stored && !xsim__schema_width_ok(f->size))
            return bad(why, why_size, sname, f->name, "member must be 1, 2, 4 or 8 bytes");
        if (stored && f->size < 8 && f->umin < f->umax && f->umax >> (f->size * 8) != 0)
            return bad(why, why_size, sname, f->name, "bounds do not fit the member");
        return 0;
    case XSIM_SCHEMA_DOUBLE:
    case XSIM_SCHEMA_RATE:
        if (stored && f->size != sizeof(double) && f->size != sizeof(float))
            return bad(why, why_size, sname, f->name, "member must be a double or a float");
        return 0;
    case XSIM_SCHEMA_STRING:
        if (stored && f->borrow && f->size != sizeof(const char *))
            return bad(why, why_size, sname, f->name, "borrowed string needs a const char *");
        if (stored && !f->borrow && f->size < 2)
            return bad(why, why_size, sname, f->name, "char array too small");
        return 0;
    case XSIM_SCHEMA_OBJECT:
        if (f->sub == NULL)
            return bad(why, why_size, sname, f->name, "OBJECT without a sub-schema");
        return selfcheck_schema(f->sub, f->size, depth + 1, why, why_size);
    case XSIM_SCHEMA_ARRAY_OF:
    case XSIM_SCHEMA_MAP_OF:
        if ((f->sub == NULL) == (f->elem == NULL))
            return bad(why, why_size, sname, f->name, "needs exactly one of sub and elem");
        if (stored && (f->elem_size == 0 || f->size % f->elem_size != 0 ||
                       !xsim__schema_width_ok(f->count_size)))
            return bad(why, why_size, sname, f->name,
                       "stored container needs elem_size dividing size and a count member");
        if (stored && f->key_size != 0 &&
            (f->key_offset > f->elem_size || f->key_size > f->elem_size - f->key_offset))
            return bad(why, why_size, sname, f->name, "map key lies outside its slot");
        if (f->elem != NULL) {
            if (f->elem->required)
                return bad(why, why_size, sname, f->name, "an element cannot be required");
            rc = selfcheck_field(sname, f->elem, stored ? f->elem_size : 0, depth + 1, why,
                                 why_size);
            return rc;
        }
        return selfcheck_schema(f->sub, stored ? f->elem_size : 0, depth + 1, why, why_size);
    case XSIM_SCHEMA_ANY:
        return 0;
    }
    return bad(why, why_size, sname, f->name, "unknown type");
}

static int selfcheck_schema(const struct xsim_schema *s, size_t parent_size, unsigned int depth,
                            char *why, size_t why_size)
{
    size_t i, j;
    int rc;

    /* A schema may refer to itself; its first levels say all there is. */
    if (depth > 16)
        return 0;
    if (s == NULL || (s->fields == NULL && s->nfields != 0)) {
        xsim__why_set(why, why_size, "missing schema or fields");
        return -EINVAL;
    }
    for (i = 0; i < s->nfields; i++) {
        const struct xsim_schema_field *f = &s->fields[i];

        if (f->name == NULL || f->name[0] == '\0')
            return bad(why, why_size, s->name, NULL, "object field without a name");
        for (j = 0; j < i; j++) {
            if (strcmp(s->fields[j].name, f->name) == 0)
                return bad(why, why_size, s->name, f->name, "name used twice");
        }
        rc = selfcheck_field(s->name, f, parent_size, depth, why, why_size);
        if (rc != 0)
            return rc;
    }
    return 0;
}

int xsim_schema_selfcheck(const struct xsim_schema *schema, char *why, size_t why_size)
{
    return selfcheck_schema(schema, 0, 0, why, why_size);
}
