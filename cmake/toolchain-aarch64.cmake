# Cross-compile mmf for 64-bit ARM Linux with Debian's gcc-aarch64-linux-gnu.
#
#   cmake -S . -B build-aarch64 \
#     -DCMAKE_TOOLCHAIN_FILE=cmake/toolchain-aarch64.cmake
#
# Tests then run under qemu-user: scripts/check-aarch64.sh sets
# CMAKE_CROSSCOMPILING_EMULATOR to qemu-aarch64-static with the target's
# C library (-L /usr/aarch64-linux-gnu). AARCH64_PREFIX selects another
# triplet (e.g. aarch64-linux-musl).

set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)

if(NOT DEFINED AARCH64_PREFIX)
  set(AARCH64_PREFIX aarch64-linux-gnu)
endif()

find_program(CMAKE_C_COMPILER NAMES ${AARCH64_PREFIX}-gcc REQUIRED)
find_program(CMAKE_AR NAMES ${AARCH64_PREFIX}-gcc-ar ${AARCH64_PREFIX}-ar)
find_program(CMAKE_RANLIB NAMES ${AARCH64_PREFIX}-gcc-ranlib
  ${AARCH64_PREFIX}-ranlib)

# Headers and libraries from the target's sysroot only; programs
# (compilers, generators) from the build machine.
set(CMAKE_FIND_ROOT_PATH /usr/${AARCH64_PREFIX})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
