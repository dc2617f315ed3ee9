# `cmake --install`: headers, libraries, the xensim program, the shipped
# scenarios and cost profiles, pkg-config files and a CMake package, all in
# GNUInstallDirs places and relocatable (the prefix may be given at install
# time with --prefix).
include(CMakePackageConfigHelpers)

set(XENSIM_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/xensim)
set(XENSIM_INSTALL_DATADIR ${CMAKE_INSTALL_DATADIR}/xensim)

set(_xensim_libs xensim_headers xenguest xensim_core xensim)
if(XENSIM_SHARED)
  list(APPEND _xensim_libs xensim_shared)
endif()
install(TARGETS ${_xensim_libs} EXPORT xensim-targets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(TARGETS xensim_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/xensim
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} FILES_MATCHING PATTERN "*.h")
file(GLOB _xensim_scenarios ${PROJECT_SOURCE_DIR}/sim/scenarios/*.json)
install(FILES ${_xensim_scenarios} DESTINATION ${XENSIM_INSTALL_DATADIR}/scenarios)
install(FILES ${PROJECT_SOURCE_DIR}/docs/scenario-format.md
        DESTINATION ${XENSIM_INSTALL_DATADIR}/scenarios RENAME README.md)
file(GLOB _xensim_profiles ${PROJECT_SOURCE_DIR}/sim/profiles/*.json)
install(FILES ${_xensim_profiles} DESTINATION ${XENSIM_INSTALL_DATADIR}/profiles)

# pkg-config: the prefix is found from the .pc file's own place.
set(_pcdir ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
file(RELATIVE_PATH _pc_to_prefix /${_pcdir} /)
string(REGEX REPLACE "/$" "" _pc_to_prefix "${_pc_to_prefix}")
set(XENSIM_PC_PREFIX "\${pcfiledir}/${_pc_to_prefix}")
set(XENSIM_PC_DL "")
if(CMAKE_DL_LIBS)
  set(XENSIM_PC_DL "-l${CMAKE_DL_LIBS}") # dlopen for --guest plug-ins
endif()
foreach(_pc xensim xensim-core)
  configure_file(${PROJECT_SOURCE_DIR}/cmake/${_pc}.pc.in ${PROJECT_BINARY_DIR}/${_pc}.pc @ONLY)
  install(FILES ${PROJECT_BINARY_DIR}/${_pc}.pc DESTINATION ${_pcdir})
endforeach()

# CMake package: find_package(xensim) gives xensim::xensim (libxensim.so),
# xensim::xensim_static, xensim::core, xensim::xenguest and xensim::headers.
install(EXPORT xensim-targets NAMESPACE xensim:: FILE xensim-targets.cmake
        DESTINATION ${XENSIM_INSTALL_CMAKEDIR})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/xensim-config.cmake.in
  ${PROJECT_BINARY_DIR}/xensim-config.cmake INSTALL_DESTINATION ${XENSIM_INSTALL_CMAKEDIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/xensim-config-version.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/xensim-config.cmake
              ${PROJECT_BINARY_DIR}/xensim-config-version.cmake
        DESTINATION ${XENSIM_INSTALL_CMAKEDIR})
