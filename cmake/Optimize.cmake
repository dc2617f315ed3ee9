# Optimisation flags beyond the build type's.
#
# -fno-semantic-interposition: the libraries are position-independent
# (libxensim.so carries their objects), and by default GCC then assumes
# any exported function may be replaced at load time, so it never inlines
# one into a caller in the same file (xsim_hist_index into
# xsim_hist_add, say). Nothing here is meant to be interposed.
include(CheckCCompilerFlag)
check_c_compiler_flag(-fno-semantic-interposition XENSIM_HAVE_NO_SEMANTIC_INTERPOSITION)
if(XENSIM_HAVE_NO_SEMANTIC_INTERPOSITION)
  target_compile_options(xensim_flags INTERFACE -fno-semantic-interposition)
endif()

# Link-time optimisation of the programs whose speed matters: the xensim
# program and the benchmarks. A scheduling point crosses files (guest code,
# platform, world, hypervisor) tens of thousands of times per explored
# schedule, and LTO inlines across them. The libraries' objects are "fat"
# (LTO bytecode and ordinary code): the programs named here link the
# bytecode, every other link (the tests, libxensim.so) the ordinary code,
# so the test suite does not pay an LTO link per test. GCC only, optimised
# builds without sanitizers or fuzzing.
option(XENSIM_LTO "Link-time optimisation of the xensim program and the benchmarks" ON)
set(XENSIM_LTO_ACTIVE OFF)
if(XENSIM_LTO AND CMAKE_C_COMPILER_ID STREQUAL "GNU" AND NOT XENSIM_SANITIZE
   AND NOT XENSIM_FUZZ_ENGINE AND CMAKE_BUILD_TYPE MATCHES "^(Release|RelWithDebInfo|MinSizeRel)$")
  check_c_compiler_flag("-flto=auto -ffat-lto-objects" XENSIM_HAVE_FAT_LTO)
  if(XENSIM_HAVE_FAT_LTO)
    set(XENSIM_LTO_ACTIVE ON)
  endif()
endif()

# Objects of `target` carry LTO bytecode beside their ordinary code.
function(xensim_lto_objects target)
  if(XENSIM_LTO_ACTIVE)
    target_compile_options(${target} PRIVATE -flto=auto -ffat-lto-objects)
  endif()
endfunction()

# `target` (a program) is linked with link-time optimisation.
function(xensim_lto_program target)
  if(XENSIM_LTO_ACTIVE)
    target_compile_options(${target} PRIVATE -flto=auto -ffat-lto-objects)
    target_link_options(${target} PRIVATE -flto=auto)
  endif()
endfunction()
