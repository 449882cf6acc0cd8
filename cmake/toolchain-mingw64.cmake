# Cross-compile mmf for 64-bit Windows with mingw-w64.
#
#   cmake -S . -B build-win -DCMAKE_TOOLCHAIN_FILE=cmake/toolchain-mingw64.cmake
#
# Tests then run under Wine: scripts/check-windows.sh sets
# CMAKE_CROSSCOMPILING_EMULATOR for that. MINGW_PREFIX selects another
# triplet (e.g. i686-w64-mingw32 for 32-bit Windows).

set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)

if(NOT DEFINED MINGW_PREFIX)
  set(MINGW_PREFIX x86_64-w64-mingw32)
endif()
if(MINGW_PREFIX MATCHES "^i[3-6]86")
  set(CMAKE_SYSTEM_PROCESSOR x86)
endif()

# Debian ships the win32-thread compilers as <triplet>-gcc; the -posix
# variants would pull in winpthreads, which mmf does not need.
find_program(CMAKE_C_COMPILER NAMES ${MINGW_PREFIX}-gcc ${MINGW_PREFIX}-gcc-win32
  ${MINGW_PREFIX}-gcc-posix ${MINGW_PREFIX}-clang REQUIRED)
find_program(CMAKE_RC_COMPILER NAMES ${MINGW_PREFIX}-windres)
find_program(CMAKE_AR NAMES ${MINGW_PREFIX}-gcc-ar ${MINGW_PREFIX}-ar)
find_program(CMAKE_RANLIB NAMES ${MINGW_PREFIX}-gcc-ranlib ${MINGW_PREFIX}-ranlib)

# Look for headers and libraries in the target's sysroot only; programs
# (compilers, generators) on the build machine.
set(CMAKE_FIND_ROOT_PATH /usr/${MINGW_PREFIX})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# Link libgcc statically so test programs run under Wine without copying
# libgcc_s_seh-1.dll next to them.
set(CMAKE_C_STANDARD_LIBRARIES_INIT "")
set(CMAKE_EXE_LINKER_FLAGS_INIT "-static-libgcc")
set(CMAKE_SHARED_LINKER_FLAGS_INIT "-static-libgcc")
