# Run at every build (cmake -P): writes git_info.hpp with the commit of the source tree and a
# "-dirty" suffix when tracked files have uncommitted changes. The file is rewritten only when
# its content changes, so an unchanged tree does not trigger recompilation.
execute_process(COMMAND git describe --always --dirty --abbrev=12 --match=NONE
                WORKING_DIRECTORY ${SRC} OUTPUT_VARIABLE commit OUTPUT_STRIP_TRAILING_WHITESPACE
                ERROR_QUIET RESULT_VARIABLE rc)
if(NOT rc EQUAL 0 OR NOT commit)
  set(commit "unknown")
endif()
set(content "#pragma once\n// Generated at build time by cmake/GitInfo.cmake.\nnamespace ruralsim::build {\ninline constexpr const char* kGitCommit = \"${commit}\";\n}\n")
if(EXISTS ${OUT})
  file(READ ${OUT} old)
endif()
if(NOT "${old}" STREQUAL "${content}")
  file(WRITE ${OUT} "${content}")
endif()
