# Compiler flags shared by every target.
add_library(xensim_flags INTERFACE)
# __FILE__ relative to the source tree: scheduling points and guest BUGs
# name src/xg_evtchn_2l.c:123, not the machine's checkout path.
include(CheckCCompilerFlag)
check_c_compiler_flag(-fmacro-prefix-map=a=b XENSIM_HAVE_MACRO_PREFIX_MAP)
if(XENSIM_HAVE_MACRO_PREFIX_MAP)
  target_compile_options(xensim_flags INTERFACE -fmacro-prefix-map=${PROJECT_SOURCE_DIR}/=)
endif()
target_compile_options(xensim_flags INTERFACE
  -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wpointer-arith
  -Wno-unused-parameter)
if(XENSIM_WERROR)
  target_compile_options(xensim_flags INTERFACE -Werror)
endif()
if(XENSIM_SANITIZE)
  string(REPLACE ";" "," _san "${XENSIM_SANITIZE}")
  target_compile_options(xensim_flags INTERFACE -fsanitize=${_san} -fno-omit-frame-pointer
                         -fno-sanitize-recover=all)
  target_link_options(xensim_flags INTERFACE -fsanitize=${_san})
  add_compile_definitions(XENSIM_SANITIZED=1)
  # GCC warns that ThreadSanitizer does not model stand-alone fences; the
  # free-run paths synchronise through atomics and locks, which it does.
  if(XENSIM_SANITIZE MATCHES "thread" AND CMAKE_C_COMPILER_ID STREQUAL "GNU")
    target_compile_options(xensim_flags INTERFACE -Wno-tsan)
  endif()
endif()
