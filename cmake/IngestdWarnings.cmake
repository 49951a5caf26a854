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

if(INGESTD_SANITIZE)
  string(REPLACE "," ";" _san_list "${INGESTD_SANITIZE}")
  set(_san_flags "-fsanitize=${INGESTD_SANITIZE}" -fno-omit-frame-pointer)
  if("undefined" IN_LIST _san_list)
    list(APPEND _san_flags -fno-sanitize-recover=undefined)
  endif()
  add_compile_options(${_san_flags})
  add_link_options(-fsanitize=${INGESTD_SANITIZE})
endif()
