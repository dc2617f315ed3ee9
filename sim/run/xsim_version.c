/* xsim_version.c - version of the simulator library. */
#include "xensim/version.h"

const char *xsim_version(void)
{
    return "0.1.0";
}
