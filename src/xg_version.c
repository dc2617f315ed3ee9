/*
 * xg_version.c - version of the guest library, so that a kernel port can log
 * which xensim guest logic it carries.
 */
#include "xg_version.h"

const char *xg_version(void)
{
    return "xenguest 0.1.0";
}
