# Run one example program for CTest (see CMakeLists.txt here).
#
#   cmake -DEXE=program -DDIR=run-dir [-DARGS=a|b|...] [-DEXPECT_RC=0]
#         [-DREPEAT=1] [-DCHECK_CLEAN=ON] [-DEMULATOR=wine64|...]
#         -P run_example.cmake
#
# EMULATOR ('|'-separated, like ARGS) runs EXE when it is not a program of
# this machine (CMAKE_CROSSCOMPILING_EMULATOR: CTest adds it only to test
# commands that name a target, not to a cmake -P script like this one).
#
# DIR is emptied and gets sample.txt, a 60-byte, 4-line text with "error"
# at offset 30; the program runs there with TMPDIR=DIR, so its default run
# creates its temporary input there too (not under an emulator: see below). Its output goes to CTest, which
# matches the test's PASS_REGULAR_EXPRESSION. Any other problem prints
# "example-runner: FAILED", which the test's FAIL_REGULAR_EXPRESSION catches.

cmake_minimum_required(VERSION 3.20)

function(fail why)
  message("example-runner: FAILED: ${why}")
  message(FATAL_ERROR "example-runner: FAILED")
endfunction()

if(NOT EXE OR NOT DIR)
  fail("EXE and DIR are required")
endif()
if(NOT DEFINED EXPECT_RC)
  set(EXPECT_RC 0)
endif()
if(NOT REPEAT)
  set(REPEAT 1)
endif()

file(REMOVE_RECURSE "${DIR}")
file(MAKE_DIRECTORY "${DIR}")
file(WRITE "${DIR}/sample.txt"
  "mmf example input\nline two\nan error on line three\nline four\n")

string(REPLACE "|" ";" emulator "${EMULATOR}")
if(emulator)
  # Under Wine the program's %TEMP% is the prefix's (Wine sets TEMP and TMP
  # itself), and TMPDIR must stay as it is: Wine keeps its server's socket
  # under $TMPDIR, so another TMPDIR would start another wineserver there.
  # The default runs then make their temporary input in %TEMP%; CHECK_CLEAN
  # looks for it there too.
  get_filename_component(stem "${EXE}" NAME_WE)
  set(win_temp_glob
    "$ENV{WINEPREFIX}/drive_c/users/*/Temp/mmf-${stem}-*"
    "$ENV{WINEPREFIX}/drive_c/users/*/AppData/Local/Temp/mmf-${stem}-*")
else()
  set(ENV{TMPDIR} "${DIR}")
  set(ENV{TEMP} "${DIR}")
  set(ENV{TMP} "${DIR}")
endif()

string(REPLACE "|" ";" argv "${ARGS}")
foreach(i RANGE 1 ${REPEAT})
  # No OUTPUT_VARIABLE: the program's output goes straight to CTest.
  execute_process(COMMAND ${emulator} "${EXE}" ${argv}
    WORKING_DIRECTORY "${DIR}"
    RESULT_VARIABLE rc)
  if(NOT rc STREQUAL "${EXPECT_RC}")
    fail("${EXE} ${argv}: exit status ${rc}, expected ${EXPECT_RC}")
  endif()
endforeach()

if(CHECK_CLEAN)
  file(GLOB left RELATIVE "${DIR}" "${DIR}/*")
  if(NOT left STREQUAL "sample.txt")
    fail("the program left files behind in ${DIR}: ${left}")
  endif()
  if(emulator AND DEFINED ENV{WINEPREFIX})
    file(GLOB left ${win_temp_glob})
    if(left)
      fail("the program left files behind: ${left}")
    endif()
  endif()
endif()
