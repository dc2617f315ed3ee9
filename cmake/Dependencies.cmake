# Dependencies, found through pkg-config. A missing one stops configure and
# names the Debian package that provides it.
find_package(PkgConfig QUIET)
if(NOT PKG_CONFIG_FOUND)
  message(FATAL_ERROR "pkg-config not found. On Debian/Ubuntu: apt-get install pkg-config "
                      "(FreeBSD: pkg install pkgconf)")
endif()

function(xensim_require_pkg prefix module debian_pkg)
  pkg_check_modules(${prefix} QUIET IMPORTED_TARGET GLOBAL ${module})
  if(NOT ${prefix}_FOUND)
    message(FATAL_ERROR "${module} not found through pkg-config. "
                        "On Debian/Ubuntu: apt-get install ${debian_pkg}")
  endif()
  message(STATUS "Found ${module} ${${prefix}_VERSION}")
endfunction()

xensim_require_pkg(CMOCKA cmocka libcmocka-dev)
xensim_require_pkg(LIBUV libuv libuv1-dev)
xensim_require_pkg(JANSSON "jansson>=2.11" libjansson-dev)

set(THREADS_PREFER_PTHREAD_FLAG ON)
find_package(Threads REQUIRED)

# Test-time peers: the canonical Xen headers and libxenstore (Debian's
# libxen-dev) and the xenstore command-line tools (xenstore-utils).
if(EXISTS /usr/include/xen/xen.h)
  set(XENSIM_HAVE_XEN_HEADERS ON)
  message(STATUS "Xen public headers found: abi_compat will compare against them")
else()
  set(XENSIM_HAVE_XEN_HEADERS OFF)
  message(STATUS "Xen public headers not found (Debian: libxen-dev): abi_compat will be skipped")
endif()
find_library(XENSIM_LIBXENSTORE NAMES xenstore)
find_program(XENSIM_XENSTORE_READ xenstore-read)
