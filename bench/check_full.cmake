# check_full.cmake - run one benchmark in full and check that it ends as
# every benchmark must: exit status 0 and a last line that is one JSON
# object. Timing is not judged here (figures are for a person to read).
#   cmake -DBENCH=path/to/bench_x -P check_full.cmake
if(NOT BENCH)
  message(FATAL_ERROR "check_full.cmake: -DBENCH= is required")
endif()
execute_process(COMMAND ${BENCH} RESULT_VARIABLE _rc OUTPUT_VARIABLE _out
                ERROR_VARIABLE _err)
if(NOT _rc EQUAL 0)
  message(FATAL_ERROR "${BENCH} exited ${_rc}\n${_err}")
endif()
string(STRIP "${_out}" _out)
string(REGEX REPLACE "^.*\n" "" _last "${_out}")
string(JSON _type ERROR_VARIABLE _jerr TYPE "${_last}")
if(_jerr OR NOT _type STREQUAL "OBJECT")
  message(FATAL_ERROR "${BENCH}: the last line is not a JSON object: ${_last}")
endif()
message(STATUS "${BENCH}: exit 0, JSON last line")
