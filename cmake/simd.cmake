# simd.cmake - per-file instruction-set flags for the scan kernels and the
# log's checksum.
#
# Included by the top-level CMakeLists.txt after the targets mmf and
# mmf_static exist. Each src/scan/scan_<isa>.c holds one variant and is
# compiled with that instruction set enabled; src/scan/scan_dispatch.c calls
# it only on CPUs that have it. A file compiled without its flags leaves its
# variant out (it checks the compiler's __AVX2__ etc.), so a build that
# skips this file is slower, never broken.
#
# Only GCC and Clang on x86 take -m flags. MSVC compiles intrinsics without
# flags (and the files know that); clang-cl and multi-architecture macOS
# builds get no flags, hence only the portable and SSE2 kernels.

set(_mmf_simd_src "${CMAKE_CURRENT_LIST_DIR}/../src/scan")
get_filename_component(_mmf_simd_src "${_mmf_simd_src}" ABSOLUTE)

set(_mmf_simd_x86 OFF)
if(CMAKE_SYSTEM_PROCESSOR MATCHES "^(x86_64|AMD64|amd64|x64|i[3-6]86|x86)$")
  set(_mmf_simd_x86 ON)
endif()
list(LENGTH CMAKE_OSX_ARCHITECTURES _mmf_simd_archs)
if(_mmf_simd_archs GREATER 1)
  set(_mmf_simd_x86 OFF)
endif()

if(_mmf_simd_x86 AND CMAKE_C_COMPILER_ID MATCHES "GNU|Clang"
   AND NOT CMAKE_C_COMPILER_FRONTEND_VARIANT STREQUAL "MSVC")
  set_source_files_properties("${_mmf_simd_src}/scan_sse2.c"
    PROPERTIES COMPILE_OPTIONS "-msse2")
  # The log's CRC-32C (src/log/crc32c_sse42.c), used only on CPUs that
  # report SSE4.2 (src/log/crc32c.c checks at run time). Clang 16 (Zig's
  # for macOS) wants -mcrc32 besides -msse4.2 for the crc32 intrinsics.
  set_source_files_properties("${_mmf_simd_src}/../log/crc32c_sse42.c"
    PROPERTIES COMPILE_OPTIONS "-msse4.2;-mcrc32")
  # GCC for 64-bit Windows (mingw-w64) used to spill 32- and 64-byte
  # vectors with aligned moves to a stack that is only 16-byte aligned there
  # (GCC bug 54412). GCC 12 uses unaligned moves; test_scan passes under
  # Wine with it at -O0 and -O3. Older ones get no AVX variants.
  if(NOT (WIN32 AND CMAKE_C_COMPILER_ID STREQUAL "GNU"
          AND CMAKE_C_COMPILER_VERSION VERSION_LESS 12))
    set_source_files_properties("${_mmf_simd_src}/scan_avx2.c"
      PROPERTIES COMPILE_OPTIONS "-mavx2;-mbmi;-mpopcnt")
    set_source_files_properties("${_mmf_simd_src}/scan_avx512.c"
      PROPERTIES COMPILE_OPTIONS
        "-mavx512f;-mavx512bw;-mavx512vbmi2;-mbmi;-mpopcnt")
  endif()
endif()

# The log's CRC-32C with the ARMv8 CRC32 instructions
# (src/log/crc32c_arm.c), used only where the backend says the CPU has them
# (src/os/posix/cpu_posix.c). No flag for Apple targets: Apple clang's
# arm64 default CPU has the instructions, and Zig (the macOS leg) refuses
# -march; where the default CPU lacks them the variant is left out.
if(CMAKE_SYSTEM_PROCESSOR MATCHES "^(aarch64|arm64|ARM64)$"
   AND CMAKE_C_COMPILER_ID MATCHES "GNU|Clang"
   AND NOT CMAKE_C_COMPILER_FRONTEND_VARIANT STREQUAL "MSVC"
   AND NOT APPLE)
  set_source_files_properties("${_mmf_simd_src}/../log/crc32c_arm.c"
    PROPERTIES COMPILE_OPTIONS "-march=armv8-a+crc")
endif()
