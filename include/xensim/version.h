/* version.h - version of libxensim. */
#ifndef XENSIM_VERSION_H
#define XENSIM_VERSION_H

const char *xsim_version(void);

#endif
