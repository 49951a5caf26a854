# ingestd_doctest_exe(target label source_dir libs): one doctest executable from every .cpp
# in source_dir (recursively); each TEST_CASE becomes a ctest test with the given label.
include(${doctest_DIR}/doctest.cmake)

function(ingestd_doctest_exe target label dir libs)
  file(GLOB_RECURSE _src CONFIGURE_DEPENDS ${dir}/*.cpp)
  if(NOT _src)
    return()
  endif()
  add_executable(${target} ${_src} ${PROJECT_SOURCE_DIR}/tests/support/doctest_main.cc)
  target_link_libraries(${target} PRIVATE ${libs} ingestd_warnings doctest::doctest)
  target_include_directories(${target} PRIVATE ${PROJECT_SOURCE_DIR})
  target_compile_definitions(${target} PRIVATE
    INGESTD_BIN_DIR="${CMAKE_BINARY_DIR}/bin" INGESTD_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
  if(INGESTD_SANITIZE)
    # Sanitized binaries keep freed memory in quarantine: RSS bounds do not apply to them.
    target_compile_definitions(${target} PRIVATE INGESTD_SANITIZED=1)
  endif()
  doctest_discover_tests(${target} TEST_PREFIX "${label}:" PROPERTIES LABELS ${label}
    SKIP_RETURN_CODE 77 ADD_LABELS 0)
endfunction()
