/* xg_version.h - version string of libxenguest. */
#ifndef XG_VERSION_H
#define XG_VERSION_H

const char *xg_version(void);

#endif
