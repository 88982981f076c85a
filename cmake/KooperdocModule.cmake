# kooperdoc_module(NAME SOURCES ... [PUBLIC_DEPS ...] [PRIVATE_DEPS ...])
# One static library per module, target kooperdoc_<NAME>, alias kooperdoc::<NAME>.
# Public headers live in <NAME>/include/kooperdoc/<NAME>/, private ones in <NAME>/src/.
function(kooperdoc_module name)
  cmake_parse_arguments(ARG "" "" "SOURCES;PUBLIC_DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(kooperdoc_${name} STATIC ${ARG_SOURCES})
  add_library(kooperdoc::${name} ALIAS kooperdoc_${name})
  target_include_directories(kooperdoc_${name}
    PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/include
    PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/src)
  target_link_libraries(kooperdoc_${name} PUBLIC ${ARG_PUBLIC_DEPS} PRIVATE ${ARG_PRIVATE_DEPS})
  kooperdoc_set_warnings(kooperdoc_${name})
endfunction()

function(kooperdoc_set_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor
                                           -Wold-style-cast -Wcast-align -Wunused -Woverloaded-virtual)
  if(KOOPERDOC_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()

if(KOOPERDOC_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()

# The fuzzers reach into every library (the verify path uses pdf, signing, trust, templates):
# coverage guidance and the sanitizers must see that code too, not only the fuzzers' own files.
# Each fuzzer adds -fsanitize=fuzzer (libFuzzer's main) when it links.
if(KOOPERDOC_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "KOOPERDOC_FUZZ=ON needs clang (libFuzzer)")
  endif()
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer
                      -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()

# kooperdoc_tests(NAME SOURCES ... DEPS ...): one Catch2 binary per module, every TEST_CASE
# registered with ctest on its own so failures are named and suites run in parallel.
# PROPERTIES ...: more ctest properties for every test of the binary (e.g. FIXTURES_REQUIRED).
function(kooperdoc_tests name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;PROPERTIES" ${ARGN})
  add_executable(${name} ${CMAKE_SOURCE_DIR}/tests/support/CatchMain.cpp ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} kooperdoc::test_support Catch2::Catch2)
  kooperdoc_set_warnings(${name})
  # --warn NoTests: a filter that matches nothing fails instead of passing silently.
  catch_discover_tests(${name} TEST_PREFIX "${name}:" EXTRA_ARGS --warn NoTests
                       PROPERTIES ENVIRONMENT "KOOPERDOC_SOURCE_DIR=${CMAKE_SOURCE_DIR}" ${ARG_PROPERTIES})
endfunction()
