# Compiler warnings and sanitizers, applied to every target of this project.
add_library(ingestd_warnings INTERFACE)
target_compile_options(ingestd_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wnon-virtual-dtor -Wcast-align
  -Wimplicit-fallthrough -Wno-missing-field-initializers)
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  target_compile_options(ingestd_warnings INTERFACE -Wshadow=local)
else()
  target_compile_options(ingestd_warnings INTERFACE -Wshadow-uncaptured-local)
endif()
if(INGESTD_WERROR)
  target_compile_options(ingestd_warnings INTERFACE -Werror)
endif()

# INGESTD_FUZZ instruments the whole tree for libFuzzer (coverage feedback, no libFuzzer main)
# with ASan, so that every executable links, not only the fuzz_* harnesses: the harnesses add
# -fsanitize=fuzzer at link time (tests/fuzz/CMakeLists.txt); the other binaries get the
# sanitizer runtime, which also defines the __sanitizer_cov_* hooks.
if(INGESTD_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "INGESTD_FUZZ needs clang (libFuzzer): configure with CXX=clang++")
  endif()
  if(NOT INGESTD_SANITIZE)
    set(INGESTD_SANITIZE address)
  endif()
  add_compile_options(-fsanitize=fuzzer-no-link)
endif()

if(INGESTD_SANITIZE)
  string(REPLACE "," ";" _san_list "${INGESTD_SANITIZE}")
  if("thread" IN_LIST _san_list AND ("address" IN_LIST _san_list OR INGESTD_FUZZ))
    message(FATAL_ERROR "INGESTD_SANITIZE=thread cannot be combined with address or INGESTD_FUZZ")
  endif()
  set(_san_flags "-fsanitize=${INGESTD_SANITIZE}" -fno-omit-frame-pointer)
  if("undefined" IN_LIST _san_list)
    list(APPEND _san_flags -fno-sanitize-recover=undefined)
  endif()
  add_compile_options(${_san_flags})
  add_link_options(-fsanitize=${INGESTD_SANITIZE})
endif()
